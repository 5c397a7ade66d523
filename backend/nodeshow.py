"""The helper's `node.show`: what the kernel holds in a node's namespace (read-only)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from nstopo.model.placement import namespace_of_node
from nstopo.model.types import STRICT
from nstopo.protocol.errors import ErrorCode
from pydantic import Field

from . import jsonrpc as rpc
from .kernelview import SECTIONS, ReadFailed, read_node
from .labs import LabService
from .probes import _node, _topology
from .realizer import tag_for

Section = Literal["routes", "rules", "neigh", "firewall", "addresses"]


@dataclass(frozen=True)
class NodeShowParams:
    __pydantic_config__ = STRICT
    lab: Annotated[str, Field(max_length=256)]
    node: Annotated[str, Field(max_length=256)]
    sections: tuple[Section, ...] = SECTIONS


async def node_show(service: LabService, params: NodeShowParams, session: rpc.Session) -> dict:
    topology = _topology(service, params.lab)
    _node(topology, params.node)
    ns = namespace_of_node(topology.get_node, params.node)
    if ns is not None:
        tag = await asyncio.to_thread(service.realizer.namespace_tag, ns)
        if tag != tag_for(params.lab):
            raise rpc.RpcError(
                ErrorCode.NOT_OWNED,
                f'namespace "{ns}" is not tagged as lab "{params.lab}"\'s; nstopo reads '
                "only the lab's own namespaces",
            )
    where = None if ns is None else service.realizer.run_dir / ns
    try:
        sections: dict[str, Any] = await asyncio.to_thread(read_node, where, list(params.sections))
    except (ReadFailed, OSError) as exc:
        raise rpc.RpcError(
            ErrorCode.INVALID_PARAMS, f"cannot read {ns or 'the host'}: {exc}"
        ) from None
    return {"lab": params.lab, "node": params.node, "namespace": ns, "sections": sections}
