"""Where things live: which namespace a node's or an endpoint's interface is in."""

from __future__ import annotations

from collections.abc import Callable

from .names import HOST_NAMESPACE_WORD
from .types import BridgeNode, HostNode, NetnsNode, Node, TapNode, TunNode

HOST = None  # the helper's own namespace, as a namespace key
NamespaceKey = str | None
Lookup = Callable[[str], Node | None]


def namespace_of_node(lookup: Lookup, name: str) -> NamespaceKey:
    """A netns node is its own namespace; host is None; a device lives in `namespace`.

    A device whose `namespace` names no netns node lives in the host (validation
    reports a dangling reference separately).
    """
    value = lookup(name)
    if isinstance(value, NetnsNode):
        return name
    if isinstance(value, BridgeNode | TapNode | TunNode) and value.namespace is not None:
        target = lookup(value.namespace)
        return value.namespace if isinstance(target, NetnsNode) else HOST
    return HOST


def namespace_label(key: NamespaceKey) -> str:
    return "the host namespace" if key is HOST else f'namespace "{key}"'


def names_host(lookup: Lookup, reference: str) -> bool:
    """Does a `namespace:` value mean the host? (a host node, or the bare word "host")."""
    target = lookup(reference)
    return isinstance(target, HostNode) or (target is None and reference == HOST_NAMESPACE_WORD)
