"""The helper's ping and capture methods: resolve nodes against the running lab, then
open the socket inside the right namespace and stream the results."""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import socket
from dataclasses import dataclass
from typing import Annotated, Any

from nstopo.model.placement import namespace_of_node
from nstopo.model.reach import NoAddress, addresses_of, choose_target, interface_names
from nstopo.model.topology import Topology
from nstopo.model.types import STRICT, BridgeNode, TapNode, TunNode
from nstopo.protocol.errors import ErrorCode
from pydantic import Field

from . import jsonrpc as rpc
from . import ping, probelimits
from .bpf import FilterError
from .capture import Capture, open_socket
from .labs import LabError, LabService
from .realizer import tag_for

_captures = itertools.count(1)


Name = Annotated[str, Field(max_length=256)]  # echoed in answers: never megabytes


@dataclass(frozen=True)
class PingParams:
    __pydantic_config__ = STRICT
    lab: Name
    source: Name
    target: Name  # an address, or a node name
    interface: Name | None = None
    count: Annotated[int, Field(ge=1, le=100_000)] = 4
    interval: Annotated[float, Field(ge=0.001, le=60)] = 1.0
    timeout: Annotated[float, Field(ge=0.01, le=60)] = 1.0
    tag: Name | None = None  # echoed in every notification: tells concurrent pings apart


@dataclass(frozen=True)
class CaptureParams:
    __pydantic_config__ = STRICT
    lab: Name
    node: Name
    interface: Name | None = None  # None: the node itself (a bridge, tap or tun)
    filter: Annotated[str, Field(max_length=4096)] = ""
    count: Annotated[int, Field(ge=1)] | None = None
    duration: Annotated[float, Field(gt=0, le=86_400)] | None = None
    raw: bool = False  # include each frame (base64) for writing a pcap


@dataclass(frozen=True)
class PingStopParams:
    __pydantic_config__ = STRICT
    tag: Name


@dataclass(frozen=True)
class FdbParams:
    __pydantic_config__ = STRICT
    lab: Name
    node: Name  # a bridge of the lab


@dataclass(frozen=True)
class CaptureStopParams:
    __pydantic_config__ = STRICT
    capture: int


def _topology(service: LabService, lab: str) -> Topology:
    try:
        return service.running_topology(lab)
    except LabError as exc:
        raise rpc.RpcError(ErrorCode.NO_SUCH_LAB, exc.message) from None


def _node(topology: Topology, name: str) -> None:
    if name not in topology:
        raise rpc.RpcError(
            ErrorCode.INVALID_PARAMS,
            f'lab "{topology.name}" has no node "{name}"; '
            f"its nodes are: {', '.join(topology.node_names())}",
        )


async def run_ping(service: LabService, params: PingParams, session: rpc.Session) -> dict:
    probelimits.check_interval(session.uid, params.interval)
    with probelimits.slot(session.uid):
        return await _run_ping(service, params, session)


async def _run_ping(service: LabService, params: PingParams, session: rpc.Session) -> dict:
    topology = _topology(service, params.lab)
    _node(topology, params.source)
    ns = namespace_of_node(topology.get_node, params.source)
    try:
        address, reason = str(ipaddress.ip_address(params.target)), "given as an address"
    except ValueError:
        _node(topology, params.target)
        try:
            choice = choose_target(topology, params.source, params.target)
        except NoAddress as exc:
            raise rpc.RpcError(ErrorCode.INVALID_PARAMS, str(exc)) from None
        address, reason = choice.address, choice.reason
    if params.interface and params.interface not in interface_names(topology, ns):
        raise rpc.RpcError(
            ErrorCode.INVALID_PARAMS,
            f'"{params.interface}" is not an interface of "{params.source}" in lab "{params.lab}"',
        )
    if ns is None and ipaddress.ip_address(address) not in lab_addresses(topology):
        raise rpc.RpcError(
            ErrorCode.NOT_OWNED,
            f'{address} is not an address of lab "{params.lab}"; from the host, nstopo '
            "pings only the lab's own addresses",
        )
    version = ipaddress.ip_address(address).version
    worker = service.realizer.worker
    if params.interface:
        await _check_tagged(service, params.lab, ns, params.interface)
    try:
        opener = lambda: ping.open_socket(version, params.interface)  # noqa: E731
        sock = await asyncio.to_thread(worker.call_in, ns, opener)
    except ping.PingError as exc:
        raise rpc.RpcError(ErrorCode.PING_FAILED, str(exc)) from None
    if params.interface:
        await _still_tagged(service, params.lab, ns, params.interface, sock)

    def notify(method: str, fields: dict[str, Any]) -> bool:
        return session.notify(method, {**fields, "tag": params.tag})

    notify(
        "ping.started",
        {
            "lab": params.lab,
            "source": params.source,
            "target": params.target,
            "address": address,
            "reason": reason,
        },
    )
    run = ping.PingRun(
        address, params.count, params.interval, params.timeout, params.interface, notify
    )
    pings = session.data.setdefault("pings", {})
    if params.tag is not None:
        pings[params.tag] = run
    try:
        summary = await ping.run_ping(sock, run)
    except ping.PingError as exc:
        raise rpc.RpcError(ErrorCode.PING_FAILED, str(exc), {"address": address}) from None
    finally:
        if params.tag is not None and pings.get(params.tag) is run:
            del pings[params.tag]
    return {"address": address, "reason": reason, **summary}


def _capture_place(topology: Topology, params: CaptureParams) -> tuple[str | None, str, bool]:
    """(namespace, interface, has an Ethernet header) for a capture request."""
    _node(topology, params.node)
    node = topology.node(params.node)
    ns = namespace_of_node(topology.get_node, params.node)
    if params.interface is None:
        if not isinstance(node, BridgeNode | TapNode | TunNode):
            raise rpc.RpcError(
                ErrorCode.INVALID_PARAMS,
                f'"{params.node}" is a {node.kind}: name one '
                f"of its interfaces as {params.node}:IFACE",
            )
        return ns, params.node, not isinstance(node, TunNode)
    if params.interface not in interface_names(topology, ns):
        raise rpc.RpcError(
            ErrorCode.NOT_OWNED,
            f'"{params.interface}" is not an interface of lab '
            f'"{topology.name}" in {params.node}\'s namespace; nstopo captures '
            "only on the lab's own interfaces",
        )
    tun = topology.get_node(params.interface)
    return ns, params.interface, not isinstance(tun, TunNode)


async def start_capture(
    service: LabService, params: CaptureParams, session: rpc.Session
) -> dict[str, Any]:
    probelimits.acquire(session.uid)  # released when the capture ends
    try:
        return await _start_capture(service, params, session)
    except BaseException:
        probelimits.release(session.uid)
        raise


async def _release_when_ended(capture: Capture, uid: int) -> None:
    try:
        await capture.ended.wait()
    finally:
        probelimits.release(uid)


async def _start_capture(
    service: LabService, params: CaptureParams, session: rpc.Session
) -> dict[str, Any]:
    topology = _topology(service, params.lab)
    ns, interface, ethernet = _capture_place(topology, params)
    worker = service.realizer.worker
    await _check_tagged(service, params.lab, ns, interface)
    opener = lambda: open_socket(interface, params.filter, ethernet)  # noqa: E731
    try:
        sock = await asyncio.to_thread(worker.call_in, ns, opener)
    except FilterError as exc:
        raise rpc.RpcError(ErrorCode.INVALID_PARAMS, str(exc)) from None
    except OSError as exc:
        raise rpc.RpcError(
            ErrorCode.INVALID_PARAMS, f"cannot capture on {interface}: {exc.strerror or exc}"
        ) from None
    await _still_tagged(service, params.lab, ns, interface, sock)
    capture = Capture(
        next(_captures),
        params.lab,
        ns,
        interface,
        ethernet,
        session.notify,
        params.count,
        params.raw,
    )
    session.data.setdefault("captures", {})[capture.ident] = capture
    capture.start(sock, params.duration)
    asyncio.get_running_loop().create_task(_release_when_ended(capture, session.uid))
    return {
        "capture": capture.ident,
        "namespace": ns,
        "interface": interface,
        "linktype": "ethernet" if ethernet else "raw",
    }


async def stop_capture(params: CaptureStopParams, session: rpc.Session) -> dict[str, Any]:
    capture = session.data.get("captures", {}).pop(params.capture, None)
    if capture is None:
        raise rpc.RpcError(
            ErrorCode.INVALID_PARAMS, f"there is no capture {params.capture} on this connection"
        )
    return capture.stop()


def stop_all(session: rpc.Session) -> None:
    """The client went away: end its captures and free their sockets."""
    for capture in session.data.pop("captures", {}).values():
        capture.stop("client gone")


async def bridge_fdb(service: LabService, params: FdbParams, session: rpc.Session) -> dict:
    """Which MAC the bridge has seen behind which port (on demand, read-only)."""
    topology = _topology(service, params.lab)
    _node(topology, params.node)
    if not isinstance(topology.node(params.node), BridgeNode):
        raise rpc.RpcError(ErrorCode.INVALID_PARAMS, f'"{params.node}" is not a bridge')
    ns = namespace_of_node(topology.get_node, params.node)
    await _check_tagged(service, params.lab, ns, params.node)
    try:
        rows = await asyncio.to_thread(
            service.realizer.fdb_of, ns, params.node, tag_for(params.lab)
        )
    except (LookupError, OSError) as exc:
        raise rpc.RpcError(
            ErrorCode.INVALID_PARAMS, f'bridge "{params.node}" is not in the kernel ({exc})'
        ) from None
    return {"lab": params.lab, "bridge": params.node, "namespace": ns, "entries": rows}


def lab_addresses(topology: Topology) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address the lab gives any of its interfaces."""
    return {iface.ip for node in topology.node_names() for _, iface in addresses_of(topology, node)}


async def _check_tagged(service: LabService, lab: str, ns: str | None, name: str) -> None:
    """A probe touches an interface only if the kernel says it is the lab's (its tag),
    not because it has the name the lab gave it: an administrator's device of the same
    name is not the lab's."""
    try:
        tag = await asyncio.to_thread(service.realizer.tag_of_device, ns, name)
    except OSError as exc:
        raise rpc.RpcError(
            ErrorCode.INVALID_PARAMS, f"cannot read {name}: {exc.strerror or exc}"
        ) from None
    if tag != tag_for(lab):
        raise rpc.RpcError(
            ErrorCode.NOT_OWNED,
            f'interface "{name}" in {ns or "the host namespace"} is not tagged as lab '
            f"\"{lab}\"'s (someone replaced it); nstopo probes only the lab's own interfaces",
        )


async def _still_tagged(
    service: LabService, lab: str, ns: str | None, name: str, sock: socket.socket
) -> None:
    """Checked again once the socket is bound: a device swapped in between is refused."""
    try:
        await _check_tagged(service, lab, ns, name)
    except rpc.RpcError:
        sock.close()
        raise


async def stop_ping(params: PingStopParams, session: rpc.Session) -> dict[str, Any]:
    """End a running ping early: it sends no more echoes, waits for the last reply
    and answers its ping.start with the summary as usual."""
    run = session.data.get("pings", {}).get(params.tag)
    if run is None:
        raise rpc.RpcError(
            ErrorCode.INVALID_PARAMS, f'there is no ping tagged "{params.tag}" on this connection'
        )
    run.stop.set()
    return {"tag": params.tag}
