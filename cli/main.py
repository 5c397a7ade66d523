"""Parse the command line and run one command.

Each command is one row of COMMANDS: its name, its help, its arguments and the
"module:function" that runs it, imported only when it runs, so `nstopo --help` or
`nstopo status` never load the model (pydantic, networkx) or Qt. A new subcommand is
one row and one function.

Errors are one sentence on stderr and exit code 1; usage errors exit 2 (argparse).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple

from nstopo import __version__
from nstopo.protocol.errors import RpcError

from .common import CliError, ProblemsFound, print_problems

Arguments = Callable[[argparse.ArgumentParser], None]


class Command(NamedTuple):
    name: str
    help: str
    run: str  # "module:function" in nstopo.cli
    arguments: Arguments


def _file(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE")


def _gui(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", metavar="FILE")


def _helper(p: argparse.ArgumentParser) -> None:
    p.add_argument("--socket", metavar="P")
    p.add_argument("--state-dir", metavar="D")
    p.add_argument("--group", metavar="G")
    p.add_argument(
        "--share-labs",
        action="store_true",
        help="let every group member change every lab (default: only its creator)",
    )
    p.add_argument(
        "--no-net-caps",
        action="store_true",
        help="run members' commands in nodes without CAP_NET_ADMIN/NET_RAW/NET_BIND_SERVICE",
    )


def _exec(p: argparse.ArgumentParser) -> None:
    p.add_argument("lab", metavar="LAB")
    p.add_argument("nodes", metavar="NODE[,NODE...]", help="node names or globs (a*)")
    p.add_argument("-t", "--tty", action="store_true", help="run the command on a terminal")
    p.add_argument("-i", "--stdin", action="store_true", help="send standard input to it")
    p.add_argument("--timeout", type=float, metavar="SEC", help="kill it after SEC seconds")
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD [ARG ...]")


def _shell(p: argparse.ArgumentParser) -> None:
    p.add_argument("lab", metavar="LAB")
    p.add_argument("node", metavar="NODE")


def _logs(p: argparse.ArgumentParser) -> None:
    _shell(p)
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new output")


def _apply(p: argparse.ArgumentParser) -> None:
    _file(p)
    p.add_argument("--dry-run", action="store_true")


def _destroy(p: argparse.ArgumentParser) -> None:
    p.add_argument("lab", metavar="LAB|FILE")
    p.add_argument("--force", action="store_true", help="end processes still inside its namespaces")


def _status(p: argparse.ArgumentParser) -> None:
    p.add_argument("lab", nargs="?", metavar="LAB")
    p.add_argument("--json", action="store_true")


def _discover(p: argparse.ArgumentParser) -> None:
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--yaml", action="store_true")


def _events(p: argparse.ArgumentParser) -> None:
    p.add_argument("lab", nargs="?", metavar="LAB")


def _ping(p: argparse.ArgumentParser) -> None:
    p.add_argument("lab", metavar="LAB")
    p.add_argument("source", metavar="FROM")
    p.add_argument("target", metavar="TARGET")
    p.add_argument("-I", dest="interface", metavar="IFACE")
    p.add_argument("-c", dest="count", type=int, default=4, metavar="N")
    p.add_argument("-i", dest="interval", type=float, default=1.0, metavar="SEC")
    p.add_argument("-W", dest="timeout", type=float, default=1.0, metavar="SEC")


def _capture(p: argparse.ArgumentParser) -> None:
    p.add_argument("lab", metavar="LAB")
    p.add_argument("where", metavar="NODE[:IFACE]")
    p.add_argument("-c", dest="count", type=int, metavar="N")
    p.add_argument("--duration", type=float, metavar="SEC")
    p.add_argument("-w", dest="write", metavar="FILE.pcap")
    p.add_argument("-e", dest="macs", action="store_true", help="print the link-level header")
    p.add_argument("filter", nargs="*", metavar="FILTER")


def _import(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "file", metavar="FILE", help="lab.clab.yml, or a Kathara lab.conf (or its folder)"
    )
    p.add_argument("-o", dest="output", metavar="OUT")


def _export(p: argparse.ArgumentParser) -> None:
    _file(p)
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--png", metavar="OUT")
    out.add_argument("--svg", metavar="OUT")
    out.add_argument("--containerlab", metavar="OUT")
    out.add_argument("--script", metavar="OUT")


def _test(p: argparse.ArgumentParser) -> None:
    _file(p)
    p.add_argument("--keep", action="store_true", help="leave the lab running afterwards")
    p.add_argument("--junit", metavar="OUT", help="also write the results as JUnit XML")
    p.add_argument("--json", action="store_true", help="print the results as JSON")


def _show(p: argparse.ArgumentParser) -> None:
    p.add_argument("lab", metavar="LAB")
    p.add_argument("node", metavar="NODE")
    parts = ["routes", "rules", "neigh", "firewall", "addresses"]
    p.add_argument("section", nargs="?", choices=parts,
                   help="one part only (default: all but addresses)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="iproute2's JSON and the texts")


def _doctor(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="the findings as JSON")


COMMANDS = [
    Command("gui", "open the editor (the default)", "offline:cmd_gui", _gui),
    Command(
        "helper", "run the privileged helper (root) in the foreground", "online:cmd_helper", _helper
    ),
    Command(
        "validate", "check a topology; errors name file:line:col", "offline:cmd_validate", _file
    ),
    Command("plan", "print the ip commands that apply would run now", "online:cmd_plan", _file),
    Command(
        "apply", "create the lab, or change a running one to match FILE", "online:cmd_apply", _apply
    ),
    Command(
        "destroy",
        "remove everything the lab created, and nothing else",
        "online:cmd_destroy",
        _destroy,
    ),
    Command("status", "labs, their objects, live oper states", "online:cmd_status", _status),
    Command("discover", "the live host as a topology", "online:cmd_discover", _discover),
    Command("events", "stream interface events as JSON lines", "online:cmd_events", _events),
    Command("ping", "ping from a node to an address or a node", "online:cmd_ping", _ping),
    Command(
        "capture", "tcpdump-style packet lines from a lab interface", "online:cmd_capture", _capture
    ),
    Command(
        "import", "a containerlab or Kathara lab as a topology file", "offline:cmd_import", _import
    ),
    Command(
        "export",
        "write a picture, a containerlab file or a shell script",
        "offline:cmd_export",
        _export,
    ),
    Command("exec", "run a command in nodes, as you", "exec_cmd:cmd_exec", _exec),
    Command("shell", "an interactive shell in a node", "exec_cmd:cmd_shell", _shell),
    Command("logs", "the output of a node's services", "exec_cmd:cmd_logs", _logs),
    Command("test", "build the lab, run its checks and scenarios", "test_cmd:cmd_test", _test),
    Command(
        "show",
        "what the kernel has in a node: routes, rules, neighbours, firewall",
        "show_cmd:cmd_show",
        _show,
    ),
    Command(
        "doctor",
        "what on this machine silently breaks labs, and the fix (exit 1: found some)",
        "doctor_cmd:cmd_doctor",
        _doctor,
    ),
]


class _Formatter(argparse.HelpFormatter):
    """argparse's own, told the width: it would import shutil for it (4 ms) whenever a
    parser is built, also for commands that print no help."""

    def __init__(self, prog: str) -> None:
        try:
            columns = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size().columns
        except (ValueError, OSError):
            columns = 80
        super().__init__(prog, width=columns - 2)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="nstopo",
        formatter_class=_Formatter,
        description="Draw Linux network namespaces, veths, bridges and tun/tap devices, "
        "and make them real.",
    )
    top.add_argument("--version", action="version", version=f"nstopo {__version__}")
    top.set_defaults(run="offline:cmd_gui", command="gui", file=None)
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        p = sub.add_parser(command.name, help=command.help, formatter_class=_Formatter)
        command.arguments(p)
        p.set_defaults(run=command.run)
    return top


def _is_file(word: str) -> bool:
    return not word.startswith("-") and (word.endswith((".yaml", ".yml")) or os.path.isfile(word))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in {c.name for c in COMMANDS} and _is_file(argv[0]):
        argv.insert(0, "gui")  # `nstopo FILE` opens the file in the editor
    top = parser()
    args, extra = top.parse_known_args(argv)
    if extra:
        # tcpdump-style: capture's filter words may come after its options.
        if args.command != "capture" or any(word.startswith("-") for word in extra):
            top.error(f"unrecognized arguments: {' '.join(extra)}")
        args.filter = [*args.filter, *extra]
    module, _, function = args.run.partition(":")
    handler = getattr(importlib.import_module(f"nstopo.cli.{module}"), function)
    try:
        return handler(args)
    except CliError as exc:
        print(f"nstopo: {exc}", file=sys.stderr)
    except ProblemsFound as exc:
        print_problems(exc.file, exc.lines)
    except RpcError as exc:  # from the helper, or no helper to ask
        print(f"nstopo: {exc.message}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        pass  # our output's reader went away (| head): nothing left to say
    except TimeoutError:
        print("nstopo: the helper did not answer in time (nstopo status shows if it is busy)",
              file=sys.stderr)  # fmt: skip
    except ConnectionError as exc:  # the helper went away mid-answer
        print(f"nstopo: the connection to the helper broke: {exc.strerror or exc}",
              file=sys.stderr)  # fmt: skip
    except OSError as exc:  # a file or device the command reads or writes
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"nstopo: {where}{exc.strerror or exc}", file=sys.stderr)
    return 1
