"""`nstopo exec` and `nstopo shell`: commands in a lab's nodes, as the caller."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from nstopo.backend.client import HelperClient
from nstopo.protocol.errors import RpcError
from nstopo.protocol.methods import Method

from .common import CliError

if TYPE_CHECKING:
    from nstopo.protocol import messages as m


def _nodes(client: HelperClient, lab: str, spec: str) -> list[str]:
    import fnmatch

    words = [w for w in spec.split(",") if w]
    if not any(set(w) & set("*?[") for w in words):
        return words
    topology = client.call(Method.LAB_TOPOLOGY, {"lab": lab})["topology"]
    names = [
        name
        for name, node in topology.get("nodes", {}).items()
        if node.get("kind") == "netns" or node.get("namespace")
    ]
    found = [n for n in names if any(fnmatch.fnmatchcase(n, w) for w in words)]
    if not found:
        raise CliError(f'no node of lab "{lab}" matches {spec}')
    return found


def cmd_exec(args: argparse.Namespace) -> int:
    argv = _options_before_dashes(args)
    if not argv:
        raise CliError("no command given; write it after --, e.g. nstopo exec LAB NODE -- ip route")
    with HelperClient() as client:
        nodes = _nodes(client, args.lab, args.nodes)
        if args.tty:
            if len(nodes) != 1:
                raise CliError("-t runs a command on one node's terminal; name one node")
            return _on_terminal(client, args.lab, nodes[0], argv)
        params: dict[str, Any] = {"lab": args.lab, "argv": argv}
        if args.timeout:
            params["timeout"] = args.timeout
        if args.stdin:
            params["stdin"] = sys.stdin.read()
        if len(nodes) == 1:
            result: m.ExecResult = client.call(Method.EXEC_RUN, {**params, "node": nodes[0]})
            sys.stdout.write(result["stdout"])
            sys.stderr.write(result["stderr"])
            return result["status"]

    from concurrent.futures import ThreadPoolExecutor

    def one(node: str) -> m.ExecResult:
        try:
            with HelperClient() as own:
                return own.call(Method.EXEC_RUN, {**params, "node": node})
        except RpcError as exc:  # this node is refused; the others still run
            return {"status": 1, "stdout": "", "stderr": f"nstopo: {exc.message}\n"}

    with ThreadPoolExecutor(max_workers=min(8, len(nodes))) as pool:
        results = list(pool.map(one, nodes))
    worst = 0
    for node, result in zip(nodes, results, strict=True):
        for line in result["stdout"].splitlines():
            print(f"{node}: {line}")
        for line in result["stderr"].splitlines():
            print(f"{node}: {line}", file=sys.stderr)
        worst = max(worst, result["status"])
    return worst


def _options_before_dashes(args: argparse.Namespace) -> list[str]:
    """`exec LAB NODE -t -- CMD`: the options after NODE land in the command's words
    (argparse's REMAINDER); those before `--` are ours."""
    words = list(args.argv)
    cut = 0
    while cut < len(words) and words[cut].startswith("-") and words[cut] != "--":
        cut += 2 if words[cut] == "--timeout" else 1
    if cut == 0 or cut >= len(words) or words[cut] != "--":
        return words  # argparse took the `--` itself: all of it is the command
    ours, argv = words[:cut], words[cut + 1 :]
    more = argparse.ArgumentParser(prog="nstopo exec", add_help=False)
    more.add_argument("-t", "--tty", action="store_true")
    more.add_argument("-i", "--stdin", action="store_true")
    more.add_argument("--timeout", type=float)
    found, unknown = more.parse_known_args(ours)
    if unknown:
        raise CliError(f"unknown option {unknown[0]} before --; see nstopo exec --help")
    args.tty = args.tty or found.tty
    args.stdin = args.stdin or found.stdin
    args.timeout = found.timeout if found.timeout is not None else args.timeout
    return argv


def cmd_shell(args: argparse.Namespace) -> int:
    with HelperClient() as client:
        return _on_terminal(client, args.lab, args.node, [])


def _on_terminal(client: HelperClient, lab: str, node: str, argv: list[str]) -> int:
    from nstopo.backend.ptyclient import open_pty, wait_status

    from .terminal import relay

    rows, cols = _size()
    env = {k: v for k, v in os.environ.items() if k in ("TERM", "LANG", "COLORTERM")
           or k.startswith("LC_")}  # fmt: skip
    params: m.PtyParams = {"lab": lab, "node": node, "argv": argv, "rows": rows, "cols": cols,
                           "env": env}  # fmt: skip
    fd, started = open_pty(client, params)
    try:
        relay(fd)
    finally:
        os.close(fd)
    return wait_status(client, started["pid"])


def _size() -> tuple[int, int]:
    try:
        size = os.get_terminal_size(sys.stdin.fileno())
        return size.lines or 24, size.columns or 80  # a new pty says 0x0
    except OSError:
        return 24, 80


def print_node_commands(source: Any, running: bool, before: Any = None) -> None:
    """`plan`'s lines for the file's exec: and services: (after the kernel steps). For a
    running lab, only the startup commands apply will run: those of nodes that are new
    or changed since `before` (the document the lab was last applied with; None: all)."""
    if isinstance(source, str) and "exec:" not in source and "services:" not in source:
        return  # the text has none: no need to load the model
    from nstopo.model import nodecommands as nc
    from nstopo.model.schema import topology_from_document
    from nstopo.model.topology import Topology
    from nstopo.model.yamlfile import parse_text

    if isinstance(source, Topology):
        topology = source
    elif isinstance(source, str):
        topology = parse_text(source, "<plan>").topology
    else:
        topology = topology_from_document(source)
    startup, kept = nc.startup_commands(topology), nc.services(topology)
    if running:
        from nstopo.model.schema import to_document

        changed = nc.changed_nodes(before, to_document(topology))
        startup = [item for item in startup if item.node in changed]
    if startup:
        which = "of each node that is new or changed" if running else "of each node"
        print(f"# then, as you, the startup commands (exec:) {which}:")
        for item in startup:
            print(nc.in_node(item.node, item.command))
    if kept:
        print("# kept running, as you (services:; nstopo logs LAB NODE shows their output):")
        for item in kept:
            print(nc.in_node(item.node, item.command) + " &")


def report_startup(lab: str, results: list[m.StartupResult]) -> int:
    """apply's report of the startup commands it ran: output per node and command."""
    failed = 0
    for item in results:
        mark = "ok" if item["status"] == 0 else f"FAILED (status {item['status']})"
        if item.get("timed_out"):
            mark = "FAILED (timed out)"
        print(f"{item['node']}: exec {item['command']!r}: {mark}")
        for line in (item["stdout"] + item["stderr"]).splitlines():
            print(f"{item['node']}:   {line}")
        failed += item["status"] != 0
    if failed:
        print(f"nstopo: lab {lab} is up, but {failed} startup command(s) failed", file=sys.stderr)
        return 1
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    import time

    offset = 0
    with HelperClient() as client:
        while True:
            found: m.LogsResult = client.call(
                Method.EXEC_LOGS, {"lab": args.lab, "node": args.node, "offset": offset}
            )
            sys.stdout.write(found["text"])
            sys.stdout.flush()
            offset = found["offset"]
            if not args.follow:
                return 0
            time.sleep(0.5)
