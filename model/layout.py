"""Automatic positions for nodes (networkx layouts), for files drawn without them."""

from __future__ import annotations

import networkx as nx

from .topology import Topology

SPACING = 260.0  # roughly a node's width plus room for link labels
MIN_GAP = 240.0  # no two nodes closer than this (center to center): boxes never overlap


def auto_layout(topology: Topology, only_missing: bool = False) -> dict[str, tuple[float, float]]:
    """Grid-snapped positions by node name. A force layout keeps linked nodes close and
    unlinked ones apart; each connected part is laid out on its own, side by side; very
    large parts go on a grid in breadth-first order (fast, and readable)."""
    graph = nx.Graph(topology.graph_view())
    # A device lives in its namespace: draw it near that namespace.
    for name, node in topology.nodes():
        home = getattr(node, "namespace", None)
        if home and home in graph:
            graph.add_edge(name, home)
    positions: dict[str, tuple[float, float]] = {}
    offset = 0.0
    parts = sorted(nx.connected_components(graph), key=len, reverse=True)
    for part in parts:
        sub = graph.subgraph(part)
        if len(sub) == 1:
            layout = {next(iter(part)): (0.0, 0.0)}
        elif len(sub) <= 300:
            layout = nx.spring_layout(sub, seed=1, iterations=200, k=1.6 / len(sub) ** 0.5)
        else:
            layout = _grid(sub)
        scale = _scale_apart(layout, SPACING * max(1.0, len(sub) ** 0.5) / 2)
        xs = [p[0] * scale for p in layout.values()]
        left = min(xs)
        for name, (x, y) in layout.items():
            positions[name] = (_snap(offset + x * scale - left), _snap(y * scale))
        offset += (max(xs) - left) + SPACING
    if only_missing:
        positions = {n: p for n, p in positions.items() if topology.node(n).position is None}
    return positions


def _scale_apart(layout: dict, scale: float) -> float:
    """Grow `scale` until the closest two nodes are MIN_GAP apart."""
    points = list(layout.values())
    if len(points) < 2:
        return scale
    import numpy as np

    xy = np.array(points, dtype=float)
    diff = xy[:, None, :] - xy[None, :, :]
    dist = np.sqrt((diff**2).sum(-1))
    np.fill_diagonal(dist, np.inf)
    closest = float(dist.min())
    return max(scale, MIN_GAP / closest) if closest > 0 else scale


def _grid(graph: nx.Graph) -> dict[str, tuple[float, float]]:
    start = max(graph.degree, key=lambda pair: pair[1])[0]
    order = list(nx.bfs_tree(graph, start))
    side = max(1, int(len(order) ** 0.5))
    return {n: ((i % side) / side * 2 - 1, (i // side) / side * 2 - 1) for i, n in enumerate(order)}


def _snap(value: float, grid: float = 20.0) -> float:
    return round(value / grid) * grid
