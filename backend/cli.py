"""The `nstopo` command (design.md §2).

Errors are one sentence on stderr and exit code 1; usage errors exit 2 (argparse).
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from nstopo import __version__
from nstopo.model.plan import plan_up
from nstopo.model.problems import Problem, TopologyFileError
from nstopo.model.script import export_script
from nstopo.model.validate import has_errors
from nstopo.model.yamlfile import LoadedFile, load

from .paths import socket_path


class CliError(Exception):
    """A foreseeable failure: its message is the one sentence the user sees."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except CliError as exc:
        print(f"nstopo: {exc}", file=sys.stderr)
        return 1
    except TopologyFileError as exc:
        for problem in exc.problems:
            print(problem.format(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1


# -- offline commands ----------------------------------------------------------------------


def _load_checked(path: str) -> tuple[LoadedFile, list[Problem]]:
    """Load and validate; raise TopologyFileError if the file has errors."""
    loaded = load(path)
    problems = loaded.problems
    if has_errors(problems):
        raise TopologyFileError(_errors_first(problems))
    return loaded, problems


def _errors_first(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (not p.is_error, p.line or 0, p.col or 0))


def cmd_validate(args: argparse.Namespace) -> int:
    loaded = load(args.file)
    problems = _errors_first(loaded.problems)
    for problem in problems:
        print(problem.format(), file=sys.stderr)
    errors = sum(p.is_error for p in problems)
    warnings = _count(len(problems) - errors, "warning")
    topo = loaded.topology
    if errors:
        print(f"{args.file}: {_count(errors, 'error')}, {warnings}", file=sys.stderr)
        return 1
    summary = f"{_count(len(topo), 'node')}, {_count(len(topo.link_ids()), 'link')}"
    print(f"{args.file}: valid ({summary}; {warnings})")
    return 0


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def cmd_plan(args: argparse.Namespace) -> int:
    loaded, problems = _load_checked(args.file)
    for problem in problems:
        print(problem.format(), file=sys.stderr)
    where = socket_path()
    if _helper_reachable(where):
        raise CliError(
            f"a helper is running at {where}, but this version of the command cannot ask it "
            "for the live plan yet; stop it or unset NSTOPO_SOCKET to see the plan from scratch"
        )
    print(
        f"# no helper is reachable at {where}: this is the plan from scratch "
        f"(lab {loaded.topology.name!r} not running)",
        file=sys.stderr,
    )
    for command in plan_up(loaded.topology).commands():
        print(command)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    loaded, _ = _load_checked(args.file)
    if args.script:
        text = export_script(loaded.topology, Path(args.file).name)
        _write_output(args.script, text, executable=True)
        return 0
    wanted = "--png" if args.png else "--svg" if args.svg else "--containerlab"
    raise CliError(f"export {wanted} comes with the editor, which this version does not include")


def _write_output(target: str, text: str, executable: bool = False) -> None:
    if target == "-":
        sys.stdout.write(text)
        return
    try:
        path = Path(target)
        path.write_text(text)
        if executable:
            path.chmod(0o755)
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror or exc}") from None


def _helper_reachable(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        try:
            sock.connect(path)
        except OSError:
            return False
    return True


# -- commands that need parts not built yet -------------------------------------------------


def _needs_helper(args: argparse.Namespace) -> int:
    raise CliError(
        f"'nstopo {args.command}' needs the privileged helper, which this version does not "
        "include yet; use 'nstopo plan FILE' or 'nstopo export FILE --script OUT' meanwhile"
    )


def _needs_editor(args: argparse.Namespace) -> int:
    raise CliError(
        "the editor is not part of this version yet; 'nstopo validate FILE' and "
        "'nstopo plan FILE' work without it"
    )


# -- argument parsing ---------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nstopo",
        description="Draw Linux network namespaces, veths, bridges and tun/tap devices, "
        "and make them real.",
    )
    parser.add_argument("--version", action="version", version=f"nstopo {__version__}")
    parser.set_defaults(handler=_needs_editor, command="gui", file=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("gui", help="open the editor (the default)")
    p.add_argument("file", nargs="?", metavar="FILE")
    p.set_defaults(handler=_needs_editor)

    p = sub.add_parser("helper", help="run the privileged helper (root) in the foreground")
    p.add_argument("--socket", metavar="P")
    p.add_argument("--state-dir", metavar="D")
    p.add_argument("--group", metavar="G")
    p.set_defaults(handler=_needs_helper)

    p = sub.add_parser("validate", help="check a topology; errors name file:line:col")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("plan", help="print the ip commands that apply would run now")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(handler=cmd_plan)

    p = sub.add_parser("apply", help="create the lab, or change a running one to match FILE")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--dry-run", action="store_true")
    p.set_defaults(handler=_needs_helper)

    p = sub.add_parser("destroy", help="remove everything the lab created, and nothing else")
    p.add_argument("lab", metavar="LAB|FILE")
    p.set_defaults(handler=_needs_helper)

    p = sub.add_parser("status", help="labs, their objects, live oper states")
    p.add_argument("lab", nargs="?", metavar="LAB")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_needs_helper)

    p = sub.add_parser("discover", help="the live host as a topology")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--yaml", action="store_true")
    p.set_defaults(handler=_needs_helper)

    p = sub.add_parser("events", help="stream interface events as JSON lines")
    p.add_argument("lab", nargs="?", metavar="LAB")
    p.set_defaults(handler=_needs_helper)

    p = sub.add_parser("ping", help="ping from a node to an address or a node")
    p.add_argument("lab", metavar="LAB")
    p.add_argument("source", metavar="FROM")
    p.add_argument("target", metavar="TARGET")
    p.add_argument("-I", dest="interface", metavar="IFACE")
    p.add_argument("-c", dest="count", type=int, default=4, metavar="N")
    p.add_argument("-i", dest="interval", type=float, default=1.0, metavar="SEC")
    p.add_argument("-W", dest="timeout", type=float, default=1.0, metavar="SEC")
    p.set_defaults(handler=_needs_helper)

    p = sub.add_parser("capture", help="tcpdump-style packet lines from a lab interface")
    p.add_argument("lab", metavar="LAB")
    p.add_argument("where", metavar="NODE[:IFACE]")
    p.add_argument("-c", dest="count", type=int, metavar="N")
    p.add_argument("--duration", type=float, metavar="SEC")
    p.add_argument("-w", dest="write", metavar="FILE.pcap")
    p.add_argument("filter", nargs="*", metavar="FILTER")
    p.set_defaults(handler=_needs_helper)

    p = sub.add_parser("export", help="write a picture, a containerlab file or a shell script")
    p.add_argument("file", metavar="FILE")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--png", metavar="OUT")
    out.add_argument("--svg", metavar="OUT")
    out.add_argument("--containerlab", metavar="OUT")
    out.add_argument("--script", metavar="OUT")
    p.set_defaults(handler=cmd_export)
    return parser
