"""The `nstopo` command (design.md §2).

Errors are one sentence on stderr and exit code 1; usage errors exit 2 (argparse).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nstopo import __version__
from nstopo.model.plan import plan_up
from nstopo.model.probetext import ping_line, ping_summary
from nstopo.model.problems import Problem, TopologyFileError
from nstopo.model.schema import to_document, topology_from_document
from nstopo.model.script import export_script
from nstopo.model.validate import has_errors
from nstopo.model.yamlfile import LoadedFile, dumps, load

from .client import HelperClient, HelperError, HelperUnavailable
from .jsonrpc import INVALID_PARAMS
from .paths import DEFAULT_GROUP, DEFAULT_STATE_DIR, socket_path


class CliError(Exception):
    """A foreseeable failure: its message is the one sentence the user sees."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # tcpdump-style: capture's filter words may come after its options.
        if args.command != "capture" or any(word.startswith("-") for word in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.filter = [*args.filter, *extra]
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
    try:
        client = HelperClient()
    except HelperUnavailable:
        print(
            f"# no helper is reachable at {socket_path()}: this is the plan from scratch "
            f"(lab {loaded.topology.name!r} not running)",
            file=sys.stderr,
        )
        commands = plan_up(loaded.topology).commands()
        for name, node in loaded.topology.nodes():  # what apply would refuse, refused here
            if node.kind == "netns" and Path("/run/netns", name).exists():
                raise CliError(
                    f'namespace "{name}" already exists, so apply would refuse to add it '
                    "unless it is this lab's (no helper is reachable to ask); rename the "
                    "node, or start the helper to see the plan against the running lab"
                ) from None
    else:
        with client:
            result = _helper_call(client, "lab.plan", {"topology": to_document(loaded.topology)})
        state = "running" if result["running"] else "not running"
        print(
            f"# lab {result['lab']!r} is {state}: these steps change it to match {args.file}",
            file=sys.stderr,
        )
        commands = [step["command"] for step in result["steps"]]
    for command in commands:
        print(command)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    loaded, _ = _load_checked(args.file)
    if args.script:
        text = export_script(loaded.topology, Path(args.file).name)
        _write_output(args.script, text, executable=True)
        return 0
    if args.containerlab:
        from nstopo.model.containerlab import export_containerlab

        _write_output(args.containerlab, export_containerlab(loaded.topology))
        return 0
    from nstopo.gui.export import export_picture  # Qt only when a picture is asked for

    target, kind = (args.png, "png") if args.png else (args.svg, "svg")
    try:
        export_picture(Path(args.file), Path(target), kind)
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror or exc}") from None
    return 0


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


# -- commands that talk to the helper -------------------------------------------------------


def _text(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None


def _helper_call(
    client: HelperClient,
    method: str,
    params: Any = None,
    on_notification: Callable[[str, Any], None] | None = None,
) -> Any:
    try:
        return client.call(method, params, on_notification)
    except HelperError as exc:
        for line in exc.data if isinstance(exc.data, list) else []:
            print(line, file=sys.stderr)
        raise CliError(exc.message) from None


def _client() -> HelperClient:
    try:
        return HelperClient()
    except HelperUnavailable as exc:
        raise CliError(str(exc)) from None


def cmd_helper(args: argparse.Namespace) -> int:
    from .server import HelperStartError, run_helper

    try:
        run_helper(
            args.socket or socket_path(),
            args.state_dir or DEFAULT_STATE_DIR,
            args.group or DEFAULT_GROUP,
        )
    except HelperStartError as exc:
        raise CliError(str(exc)) from None
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    loaded, _ = _load_checked(args.file)  # file:line:col errors before asking the helper
    live = sys.stderr.isatty()

    def progress(method: str, params: Any) -> None:
        if method == "apply.progress" and live:
            print(f"\r  step {params['index'] + 1}/{params['total']}", end="", file=sys.stderr)

    with _client() as client:
        params = {"topology": to_document(loaded.topology), "dry_run": args.dry_run}
        result = _helper_call(client, "lab.apply", params, progress)
    if live:
        print("\r", end="", file=sys.stderr)
    if args.dry_run:
        for step in result["steps"]:
            print(step["command"])
    elif result["changed"]:
        print(f"lab {result['lab']}: applied {_count(len(result['steps']), 'step')}")
    else:
        print(f"lab {result['lab']}: already up to date, nothing to do")
    return 0


def cmd_destroy(args: argparse.Namespace) -> int:
    lab = args.lab
    if lab.endswith((".yaml", ".yml")) or Path(lab).is_file():
        lab = load(lab).topology.name
    with _client() as client:
        report = _helper_call(client, "lab.destroy", {"lab": lab, "force": args.force})
    for item in report["processes"]:
        pids = ", ".join(map(str, item["pids"]))
        verb = "ended" if args.force else "still running (the namespace lives on until they end;"
        tail = "" if args.force else " use --force to end them)"
        print(f"namespace {item['namespace']}: processes {pids} {verb}{tail}", file=sys.stderr)
    for item in report["skipped"]:
        print(f"left alone: {item}", file=sys.stderr)
    print(f"lab {lab}: removed {_count(len(report['removed']), 'object')}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    with _client() as client:
        labs = _helper_call(client, "lab.status", {"lab": args.lab})
    if args.json:
        print(json.dumps(labs, indent=2))
        return 0
    if not labs:
        print("no labs are running")
    for lab in labs:
        print(f"lab {lab['lab']}{' (an apply was interrupted)' if lab['pending'] else ''}")
        for ns in lab["namespaces"]:
            links = [f"{x['name']}:{x['oper']}" for x in ns["links"] if x["name"] != "lo"]
            print(f"  netns {ns['name']:<16} {' '.join(links) or '(no interfaces)'}")
        for link in lab["host_links"]:
            print(f"  host  {link['name']:<16} {link['oper']}")
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    with _client() as client:
        found = _helper_call(client, "host.discover")
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    topology = topology_from_document(found["topology"])
    foreign = sorted(
        n
        for n, lab in found["owners"].items()
        if lab is None and n in topology and topology.node(n).kind != "host"
    )
    if args.yaml:
        header = [
            "# The live host, as `nstopo discover --yaml` saw it (read-only snapshot).",
            "# Not made by nstopo: " + (", ".join(foreign) or "nothing"),
        ]
        header += [f"# Left out: {item}" for item in found["unmapped"]]
        sys.stdout.write("\n".join(header) + "\n" + dumps(topology))
        return 0
    for name, node in topology.nodes():
        owner = found["owners"].get(name)
        mark = f"lab {owner}" if owner else "not nstopo's"
        extra = found["namespaces"].get(name, {})
        pids = f", processes {extra['pids']}" if extra.get("pids") else ""
        print(f"{node.kind:<6} {name:<20} {mark}{pids}")
    for _, link in topology.links():
        a, b = link.endpoints
        print(f"veth   {a.short} <-> {b.short}")
    for item in found["unmapped"]:
        print(f"left out: {item}", file=sys.stderr)
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    """JSON lines until Ctrl-C (then exit 0: the user asked to stop)."""

    def show(method: str, params: Any) -> None:
        print(json.dumps({"event": method, **params}), flush=True)

    with _client() as client:
        # The current state arrives before the reply: print it too.
        _helper_call(client, "events.subscribe", {"lab": args.lab}, show)
        try:
            client.listen(show)
        except KeyboardInterrupt:
            return 0
    raise CliError("the helper closed the connection (it stopped or restarted)")


PING_FAILED = -32008  # the helper's "nothing could be sent" (docs/protocol.md)


def cmd_ping(args: argparse.Namespace) -> int:
    """Ping's own lines and summary; exit 0 if any reply came, 1 if none, 2 (as
    iputils) if nothing could be sent."""

    def show(method: str, params: Any) -> None:
        line = ping_line(method, params, args.source)
        if line is not None:
            print(line, flush=True)

    params = {
        "lab": args.lab,
        "source": args.source,
        "target": args.target,
        "interface": args.interface,
        "count": args.count,
        "interval": args.interval,
        "timeout": args.timeout,
    }
    with _client() as client:
        try:
            done = client.call("ping.start", params, show)
        except HelperError as exc:
            if exc.code not in (PING_FAILED, INVALID_PARAMS):
                raise CliError(exc.message) from None
            # As iputils: nothing could be sent (connect error, bad -I, bad target): 2.
            prefix = "ping: " if exc.code == PING_FAILED else ""
            print(f"nstopo: {prefix}{exc.message}", file=sys.stderr)
            return 2
    print()
    print("\n".join(ping_summary(done)))
    return 0 if done["received"] else 1


def cmd_capture(args: argparse.Namespace) -> int:
    """A tcpdump-style line per packet until -c, --duration or Ctrl-C; -w writes a pcap
    (the user's own file: the client writes it, not the root helper)."""
    import base64
    import time

    from nstopo.backend.pcapfile import split_time

    node, _, interface = args.where.partition(":")
    params = {
        "lab": args.lab,
        "node": node,
        "interface": interface or None,
        "filter": " ".join(args.filter),
        "count": args.count,
        "duration": args.duration,
        "raw": bool(args.write),
    }
    writer, out = None, None
    ended: dict[str, Any] = {}

    def show(method: str, p: Any) -> None:
        if method == "capture.packet":
            stamp_ns = p.get("time_ns", int(p["time"] * 1e9))
            seconds, micros = split_time(stamp_ns)  # the pcap's time, to the microsecond
            stamp = f"{time.strftime('%H:%M:%S', time.localtime(seconds))}.{micros:06d}"
            line = p.get("link_summary", p["summary"]) if args.macs else p["summary"]
            print(f"{stamp} {p['direction']:<3} {line}", flush=True)
            if writer is not None:
                writer.write(base64.b64decode(p["data"]), stamp_ns, p.get("wire_length"))
        elif method == "capture.end":
            ended.update(p)
            raise _CaptureEnded

    with _client() as client:
        started = _helper_call(client, "capture.start", params)
        if args.write:
            from nstopo.backend.pcapfile import LINKTYPE_ETHERNET, LINKTYPE_RAW, PcapWriter

            out = open(args.write, "wb")  # noqa: SIM115 - closed below, also on Ctrl-C
            ethernet = started["linktype"] == "ethernet"
            writer = PcapWriter(out, LINKTYPE_ETHERNET if ethernet else LINKTYPE_RAW)
        # Like tcpdump, SIGTERM (timeout(1), systemd) ends the capture as Ctrl-C does.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        where = f"{started['interface']} in " + (started["namespace"] or "the host")
        print(f"nstopo capture: listening on {where}", file=sys.stderr)
        try:
            client.listen(show)
        except _CaptureEnded:
            pass
        except KeyboardInterrupt:
            ended.update(client.call("capture.stop", {"capture": started["capture"]}))
        finally:
            if out is not None:
                out.close()
    print(
        f"{ended.get('packets', 0)} packets captured, {ended.get('dropped', 0)} dropped by "
        f"nstopo, {ended.get('kernel_dropped', 0)} dropped by the kernel",
        file=sys.stderr,
    )
    return 0


class _CaptureEnded(Exception):
    pass


def cmd_import(args: argparse.Namespace) -> int:
    """A containerlab or Kathara lab as a topology file; what did not map on stderr."""
    from nstopo.model.importfile import NotALab, import_path
    from nstopo.model.problems import TopologyFileError as FileError

    try:
        text, imported = import_path(Path(args.file))
    except NotALab as exc:
        raise CliError(str(exc)) from None
    except FileError as exc:
        raise CliError(exc.problems[0].message) from None
    if args.output:
        _write_output(args.output, text)
    else:
        sys.stdout.write(text)
    for note in imported.notes:
        print(f"not mapped: {note}", file=sys.stderr)
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    try:
        from nstopo.gui.app import main as gui_main
    except ImportError as exc:
        raise CliError(f"the editor cannot start: {exc}; run scripts/bootstrap") from None
    return gui_main(args.file)


# -- argument parsing ---------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nstopo",
        description="Draw Linux network namespaces, veths, bridges and tun/tap devices, "
        "and make them real.",
    )
    parser.add_argument("--version", action="version", version=f"nstopo {__version__}")
    parser.set_defaults(handler=cmd_gui, command="gui", file=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("gui", help="open the editor (the default)")
    p.add_argument("file", nargs="?", metavar="FILE")
    p.set_defaults(handler=cmd_gui)

    p = sub.add_parser("helper", help="run the privileged helper (root) in the foreground")
    p.add_argument("--socket", metavar="P")
    p.add_argument("--state-dir", metavar="D")
    p.add_argument("--group", metavar="G")
    p.set_defaults(handler=cmd_helper)

    p = sub.add_parser("validate", help="check a topology; errors name file:line:col")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("plan", help="print the ip commands that apply would run now")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(handler=cmd_plan)

    p = sub.add_parser("apply", help="create the lab, or change a running one to match FILE")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--dry-run", action="store_true")
    p.set_defaults(handler=cmd_apply)

    p = sub.add_parser("destroy", help="remove everything the lab created, and nothing else")
    p.add_argument("lab", metavar="LAB|FILE")
    p.add_argument("--force", action="store_true", help="end processes still inside its namespaces")
    p.set_defaults(handler=cmd_destroy)

    p = sub.add_parser("status", help="labs, their objects, live oper states")
    p.add_argument("lab", nargs="?", metavar="LAB")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("discover", help="the live host as a topology")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--yaml", action="store_true")
    p.set_defaults(handler=cmd_discover)

    p = sub.add_parser("events", help="stream interface events as JSON lines")
    p.add_argument("lab", nargs="?", metavar="LAB")
    p.set_defaults(handler=cmd_events)

    p = sub.add_parser("ping", help="ping from a node to an address or a node")
    p.add_argument("lab", metavar="LAB")
    p.add_argument("source", metavar="FROM")
    p.add_argument("target", metavar="TARGET")
    p.add_argument("-I", dest="interface", metavar="IFACE")
    p.add_argument("-c", dest="count", type=int, default=4, metavar="N")
    p.add_argument("-i", dest="interval", type=float, default=1.0, metavar="SEC")
    p.add_argument("-W", dest="timeout", type=float, default=1.0, metavar="SEC")
    p.set_defaults(handler=cmd_ping)

    p = sub.add_parser("capture", help="tcpdump-style packet lines from a lab interface")
    p.add_argument("lab", metavar="LAB")
    p.add_argument("where", metavar="NODE[:IFACE]")
    p.add_argument("-c", dest="count", type=int, metavar="N")
    p.add_argument("--duration", type=float, metavar="SEC")
    p.add_argument("-w", dest="write", metavar="FILE.pcap")
    p.add_argument("-e", dest="macs", action="store_true", help="print the link-level header")
    p.add_argument("filter", nargs="*", metavar="FILTER")
    p.set_defaults(handler=cmd_capture)

    p = sub.add_parser("import", help="a containerlab or Kathara lab as a topology file")
    p.add_argument(
        "file", metavar="FILE", help="lab.clab.yml, or a Kathara lab.conf (or its folder)"
    )
    p.add_argument("-o", dest="output", metavar="OUT")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("export", help="write a picture, a containerlab file or a shell script")
    p.add_argument("file", metavar="FILE")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--png", metavar="OUT")
    out.add_argument("--svg", metavar="OUT")
    out.add_argument("--containerlab", metavar="OUT")
    out.add_argument("--script", metavar="OUT")
    p.set_defaults(handler=cmd_export)
    return parser
