"""`nstopo exec` and `nstopo shell`: commands in a lab's nodes, as the caller."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from nstopo.backend.client import HelperClient
from nstopo.protocol.methods import Method

from .common import CliError

if TYPE_CHECKING:  # main.py imports this module for its arguments: nothing heavy here
    from nstopo.protocol import messages as m


def exec_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("lab", metavar="LAB")
    p.add_argument("nodes", metavar="NODE[,NODE...]", help="node names or globs (a*)")
    p.add_argument("-t", "--tty", action="store_true", help="run the command on a terminal")
    p.add_argument("-i", "--stdin", action="store_true", help="send standard input to it")
    p.add_argument("--timeout", type=float, metavar="SEC", help="kill it after SEC seconds")
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD [ARG ...]")


def shell_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("lab", metavar="LAB")
    p.add_argument("node", metavar="NODE")


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
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
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
        with HelperClient() as own:
            return own.call(Method.EXEC_RUN, {**params, "node": node})

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
        return size.lines, size.columns
    except OSError:
        return 24, 80
