"""The values a topology is made of: immutable, typed, free of any toolkit.

These dataclasses are the single definition of the file format: `model.schema`
validates files against them and generates the JSON Schema from them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints

from .netem import Netem

# Unknown keys are errors (design.md §3): every model dataclass forbids extras.
STRICT = ConfigDict(extra="forbid")

AdminState = Literal["up", "down"]


def _a_number(value: Any) -> Any:
    """Numbers as the JSON Schema has them: text ("1500") and true/false are not
    numbers, though pydantic's lax mode would convert them."""
    if isinstance(value, bool | str):
        shown = "true/false" if isinstance(value, bool) else "text"
        raise ValueError(f"should be a number, not {shown}")
    return value


def _a_sysctl_value(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError('should be a number or text, like 1 or "1"')
    if isinstance(value, float) and not value.is_integer():
        raise ValueError('should be a whole number or text, like 1 or "1"')
    return value


# The validator comes after the bounds: before them, pydantic writes its own `ge`/`le`
# keywords into the JSON Schema instead of minimum/maximum.
Coordinate = Annotated[float, BeforeValidator(_a_number)]
Mtu = Annotated[int, Field(ge=68, le=65535), BeforeValidator(_a_number)]
Position = tuple[Coordinate, Coordinate]
SysctlValue = Annotated[int | str, BeforeValidator(_a_sysctl_value)]
NODE_KINDS = ("netns", "bridge", "tap", "tun", "host")
# A command line for `sh -c`, run in a node as the applying user.
ShellCommand = Annotated[str, StringConstraints(min_length=1, max_length=8192)]


@dataclass(frozen=True)
class Route:
    """A route in a namespace: `to` a CIDR or "default", through `via` and/or `dev`."""

    __pydantic_config__ = STRICT
    to: str
    via: str | None = None
    dev: str | None = None
    metric: Annotated[int, Field(ge=0, le=2**32 - 1), BeforeValidator(_a_number)] | None = None


@dataclass(frozen=True)
class Endpoint:
    """One end of a veth pair: an interface placed on a node."""

    __pydantic_config__ = STRICT
    node: str
    interface: str
    addresses: tuple[str, ...] = ()
    mac: str | None = None
    netem: Netem | None = None  # what this end sends; replaces the link's (model/netem.py)

    @property
    def short(self) -> str:
        return f"{self.node}:{self.interface}"


def _parse_short_endpoint(value: Any) -> Any:
    if isinstance(value, str):
        node, sep, interface = value.partition(":")
        if not sep:
            raise ValueError('a short endpoint is written "node:interface"')
        return {"node": node, "interface": interface}
    return value


ShortEndpoint = Annotated[str, StringConstraints(pattern=r"^[^:\s/]+:[^:\s/]+$")]
EndpointField = Annotated[
    Endpoint,
    BeforeValidator(_parse_short_endpoint, json_schema_input_type=ShortEndpoint | Endpoint),
]


@dataclass(frozen=True)
class Link:
    """A veth pair between two endpoints."""

    __pydantic_config__ = STRICT
    endpoints: Annotated[tuple[EndpointField, EndpointField], Field()]
    mtu: Mtu | None = None
    state: AdminState = "up"
    netem: Netem | None = None  # what each end sends, unless the endpoint says its own


def _parse_short_nat(value: Any) -> Any:
    if isinstance(value, str):  # `nat: [10.50.0.0/24]`: sources only, any way out
        return {"from": value}
    return value


@dataclass(frozen=True)
class NatRule:
    """Masquerade packets from `from` (a CIDR) when they leave the node, through `out`
    only when given. Written `from` in files; `source` here (a Python keyword)."""

    __pydantic_config__ = ConfigDict(
        extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )
    yaml_keys: ClassVar[dict[str, str]] = {"source": "from"}
    source: Annotated[str, Field(alias="from")]
    out: str | None = None


NatShort = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F.:]+/[0-9]+$")]
NatField = Annotated[
    NatRule, BeforeValidator(_parse_short_nat, json_schema_input_type=NatShort | NatRule)
]


@dataclass(frozen=True)
class NetnsNode:
    """A named network namespace."""

    __pydantic_config__ = STRICT
    kind: Literal["netns"] = "netns"
    loopback: AdminState = "up"
    sysctls: Mapping[str, SysctlValue] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    position: Position | None = None
    exec: tuple[ShellCommand, ...] = ()  # run once, in order, after apply (nodecommands.py)
    services: tuple[ShellCommand, ...] = ()  # kept running while the lab runs
    nat: tuple[NatField, ...] = ()
    firewall: str | None = None  # an nftables ruleset, as `nft -f` reads it


@dataclass(frozen=True)
class HostNode:
    """The helper's own (root) namespace, drawn only when a link ends there."""

    __pydantic_config__ = STRICT
    kind: Literal["host"] = "host"
    routes: tuple[Route, ...] = ()
    position: Position | None = None
    nat: tuple[NatField, ...] = ()  # in a table of the lab's own, nstopo-<lab>


@dataclass(frozen=True)
class BridgeNode:
    """A Linux bridge: an interface named as the node, in `namespace`."""

    __pydantic_config__ = STRICT
    kind: Literal["bridge"] = "bridge"
    namespace: str | None = None
    addresses: tuple[str, ...] = ()
    mac: str | None = None
    mtu: Mtu | None = None
    state: AdminState = "up"
    position: Position | None = None


@dataclass(frozen=True)
class TapNode:
    """A persistent tap (L2) device, optionally enslaved to a bridge."""

    __pydantic_config__ = STRICT
    kind: Literal["tap"] = "tap"
    namespace: str | None = None
    bridge: str | None = None
    addresses: tuple[str, ...] = ()
    mac: str | None = None
    mtu: Mtu | None = None
    state: AdminState = "up"
    position: Position | None = None


@dataclass(frozen=True)
class TunNode:
    """A persistent tun (L3) device: no MAC, cannot join a bridge."""

    __pydantic_config__ = STRICT
    kind: Literal["tun"] = "tun"
    namespace: str | None = None
    bridge: str | None = None  # accepted so validation can explain why it is wrong
    addresses: tuple[str, ...] = ()
    mtu: Mtu | None = None
    state: AdminState = "up"
    position: Position | None = None


Node = NetnsNode | HostNode | BridgeNode | TapNode | TunNode
NODE_TYPES: dict[str, type[Node]] = {
    "netns": NetnsNode,
    "bridge": BridgeNode,
    "tap": TapNode,
    "tun": TunNode,
    "host": HostNode,
}
NodeField = Annotated[
    NetnsNode | BridgeNode | TapNode | TunNode | HostNode, Field(discriminator="kind")
]


def new_node(kind: str, **fields: Any) -> Node:
    """A node of `kind` with default fields, overridden by `fields`."""
    return NODE_TYPES[kind](**fields)


def replace(value: Any, **changes: Any) -> Any:
    """A copy of a model value with some fields changed."""
    return dataclasses.replace(value, **changes)
