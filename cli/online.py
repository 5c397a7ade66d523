"""The commands that talk to the helper. They import the protocol, the socket and
little else: the helper, warm, parses and plans topology files itself."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from typing import TYPE_CHECKING, Any

from nstopo.backend.client import HelperClient, HelperUnavailable, OnNotification
from nstopo.backend.paths import socket_path
from nstopo.protocol.errors import ErrorCode, RpcError
from nstopo.protocol.methods import Method, Notification

from .common import CliError, ProblemsFound, count

if TYPE_CHECKING:  # the types only: loading them would cost every command 5 ms
    from nstopo.protocol import messages as m


def _client() -> HelperClient:
    return HelperClient()  # HelperUnavailable is an RpcError: main prints its sentence


def _call(
    client: HelperClient,
    method: str,
    params: Any,
    source: str | None = None,
    on_notification: OnNotification | None = None,
) -> Any:
    """A call whose invalid-topology error becomes `validate`'s output for `source`."""
    try:
        return client.call(method, params, on_notification)
    except RpcError as exc:
        if exc.code == ErrorCode.TOPOLOGY_INVALID and source and isinstance(exc.data, list):
            raise ProblemsFound(source, [str(line) for line in exc.data]) from None
        raise


def _topology_params(client: HelperClient, path: str) -> m.TopologyParams:
    """The file's text, for the helper to parse (one too big for a request line goes
    ahead in upload.part pieces); a file that is not UTF-8 text is read here, as
    `validate` reads it, and sent as a document."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise CliError(
            f"cannot read the file {path}: {exc.strerror or exc}; check the path"
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        from .offline import document_of  # the model: only for what the helper cannot take

        return {"topology": document_of(path), "source": path}
    from nstopo.protocol.upload import needs_upload, upload_parts

    if not needs_upload(text):
        return {"topology": text, "source": path}
    name, parts = upload_parts(text)
    for part in parts:
        client.call(Method.UPLOAD_PART, part)
    return {"upload": name, "source": path}


def _warn(lines: list[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def cmd_helper(args: argparse.Namespace) -> int:
    from nstopo.backend.paths import DEFAULT_GROUP, DEFAULT_STATE_DIR
    from nstopo.backend.server import HelperStartError, run_helper

    try:
        run_helper(
            args.socket or socket_path(),
            args.state_dir or DEFAULT_STATE_DIR,
            args.group or DEFAULT_GROUP,
            args.share_labs,
            not args.no_net_caps,
        )
    except HelperStartError as exc:
        raise CliError(str(exc)) from None
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    """The helper's plan against what runs; without a helper, the plan from scratch."""
    try:
        client = HelperClient()
    except HelperUnavailable:
        from .offline import plan_offline

        return plan_offline(args.file)
    with client:
        params = _topology_params(client, args.file)
        result: m.PlanResult = _call(client, Method.LAB_PLAN, params, args.file)
        # An uploaded file is read again (rare: over 128 Ki characters).
        source = params.get("topology")
        if source is None:
            with open(args.file, encoding="utf-8") as f:
                source = f.read()
        # What the running lab was applied with: its unchanged nodes' exec: does not run
        # again. None after an interrupted apply: the next one runs every node's exec:.
        before = None
        if result["running"] and "exec:" in str(source):
            with contextlib.suppress(RpcError):
                before = client.call(Method.LAB_TOPOLOGY, {"lab": result["lab"]})["topology"]
    _warn(result.get("warnings", []))
    state = "running" if result["running"] else "not running"
    print(
        f"# lab {result['lab']!r} is {state}: these steps change it to match {args.file}",
        file=sys.stderr,
    )
    for step in result["steps"]:
        print(step["command"])
    from .exec_cmd import print_node_commands

    print_node_commands(source, result["running"], before)
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    live = sys.stderr.isatty()

    def progress(method: str, params: Any) -> None:
        if method == Notification.APPLY_PROGRESS and live:
            print(f"\r  step {params['index'] + 1}/{params['total']}", end="", file=sys.stderr)

    with _client() as client:
        params = {**_topology_params(client, args.file), "dry_run": args.dry_run}
        result: m.ApplyResult = _call(client, Method.LAB_APPLY, params, args.file, progress)
    if live:
        print("\r", end="", file=sys.stderr)
    _warn(result.get("warnings", []))
    if args.dry_run:
        for step in result["steps"]:
            print(step["command"])
    elif result["changed"]:
        print(f"lab {result['lab']}: applied {count(len(result['steps']), 'step')}")
    else:
        print(f"lab {result['lab']}: already up to date, nothing to do")
    if result.get("exec"):
        from .exec_cmd import report_startup

        return report_startup(result["lab"], result["exec"])
    return 0


_NAME_SEARCH_CHARS = 1 << 20  # `name:` is near the top; reading a 16 MiB file costs
_NAME = re.compile(r"^name:[ \t]*([\"']?)([a-z0-9][a-z0-9-]{0,23})\1[ \t]*(#.*)?$", re.MULTILINE)


def lab_name(path: str) -> str:
    """The lab a topology file names: its top-level `name:` line, else (flow style,
    odd quoting) the model reads it."""
    try:
        with open(path, encoding="utf-8") as f:
            found = _NAME.search(f.read(_NAME_SEARCH_CHARS))
    except (OSError, UnicodeDecodeError):
        found = None
    if found is not None:
        return found.group(2)
    from .offline import name_of

    return name_of(path)


def cmd_destroy(args: argparse.Namespace) -> int:
    lab = args.lab
    if lab.endswith((".yaml", ".yml")) or os.path.isfile(lab):
        lab = lab_name(lab)
    with _client() as client:
        report: m.DestroyResult = client.call(Method.LAB_DESTROY, {"lab": lab, "force": args.force})
    for item in report["processes"]:
        pids = ", ".join(map(str, item["pids"]))
        verb = "ended" if args.force else "still running (the namespace lives on until they end;"
        tail = "" if args.force else " use --force to end them)"
        print(f"namespace {item['namespace']}: processes {pids} {verb}{tail}", file=sys.stderr)
    for skipped in report["skipped"]:
        print(f"left alone: {skipped}", file=sys.stderr)
    print(f"lab {lab}: removed {count(len(report['removed']), 'object')}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    with _client() as client:
        labs: list[m.LabStatus] = client.call(Method.LAB_STATUS, {"lab": args.lab})
    if args.json:
        print(json.dumps(labs, indent=2))
        return 0
    if not labs:
        print("no labs are running")
    for lab in labs:
        print(f"lab {lab['lab']}{' (an apply was interrupted)' if lab['pending'] else ''}")
        for ns in lab["namespaces"]:
            links = [
                f"{x['name']}:{x['oper']}{_impaired(x)}" for x in ns["links"] if x["name"] != "lo"
            ]
            print(f"  netns {ns['name']:<16} {' '.join(links) or '(no interfaces)'}")
        for link in lab["host_links"]:
            print(f"  host  {link['name']:<16} {link['oper']}{_impaired(link)}")
        for proc in lab.get("processes", []):
            what = " ".join(proc["argv"]) or "(started by it)"
            print(f"  {proc['kind']:<7} {proc['node']:<16} pid {proc['pid']} uid {proc['uid']}: "
                  f"{what}")  # fmt: skip
    return 0


def _impaired(link: m.LinkStatus) -> str:
    """` (netem 20 ms, 1% loss)` after an impaired interface, as the canvas labels it."""
    found = link.get("netem")
    if not found:
        return ""
    from nstopo.model.netem import Netem, label  # the model only when something is impaired

    return f" (netem {label(Netem(**found))})"


def cmd_discover(args: argparse.Namespace) -> int:
    with _client() as client:
        found: m.DiscoverResult = client.call(Method.HOST_DISCOVER)
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    from .offline import show_discovery  # the model draws it as a topology

    return show_discovery(found, as_yaml=args.yaml)


def cmd_events(args: argparse.Namespace) -> int:
    """JSON lines until Ctrl-C (then exit 0: the user asked to stop). A lab that does
    not run yet is waited for: its events start when it is applied."""

    def show(method: str, params: Any) -> None:
        print(json.dumps({"event": method, **params}), flush=True)

    with _client() as client:
        # The current state arrives before the reply: print it too.
        subscribed: m.SubscribeResult = client.call(
            Method.EVENTS_SUBSCRIBE, {"lab": args.lab}, show
        )
        if not subscribed.get("running", True):
            print(
                f"nstopo events: lab {args.lab} does not run yet; its events start when it "
                "is applied",
                file=sys.stderr,
                flush=True,
            )
        try:
            client.listen(show)
        except KeyboardInterrupt:
            return 0
    raise CliError("the helper closed the connection (it stopped or restarted)")


def cmd_ping(args: argparse.Namespace) -> int:
    """Ping's own lines and summary; exit 0 if any reply came, 1 if none, 2 (as
    iputils) if nothing could be sent."""
    from nstopo.model.probetext import ping_line, ping_summary  # plain text, no model

    def show(method: str, params: Any) -> None:
        line = ping_line(method, params, args.source)
        if line is not None:
            print(line, flush=True)

    params: m.PingParams = {
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
            done: m.PingSummary = client.call(Method.PING_START, params, show)
        except RpcError as exc:
            if exc.code not in (ErrorCode.PING_FAILED, ErrorCode.INVALID_PARAMS):
                raise
            # As iputils: nothing could be sent (connect error, bad -I, bad target): 2.
            prefix = "ping: " if exc.code == ErrorCode.PING_FAILED else ""
            print(f"nstopo: {prefix}{exc.message}", file=sys.stderr)
            return 2
    print()
    print("\n".join(ping_summary(done)))
    return 0 if done["received"] else 1


class _CaptureEnded(Exception):
    pass


def cmd_capture(args: argparse.Namespace) -> int:
    """A tcpdump-style line per packet until -c, --duration or Ctrl-C; -w writes a pcap
    (the user's own file: the client writes it, not the root helper)."""
    import base64
    import signal
    import time

    from nstopo.backend.pcapfile import split_time

    node, _, interface = args.where.partition(":")
    params: m.CaptureParams = {
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
        if method == Notification.CAPTURE_PACKET:
            stamp_ns = p.get("time_ns", int(p["time"] * 1e9))
            seconds, micros = split_time(stamp_ns)  # the pcap's time, to the microsecond
            stamp = f"{time.strftime('%H:%M:%S', time.localtime(seconds))}.{micros:06d}"
            line = p.get("link_summary", p["summary"]) if args.macs else p["summary"]
            print(f"{stamp} {p['direction']:<3} {line}", flush=True)
            if writer is not None:
                writer.write(base64.b64decode(p["data"]), stamp_ns, p.get("wire_length"))
        elif method == Notification.CAPTURE_END:
            ended.update(p)
            raise _CaptureEnded

    with _client() as client:
        started: m.CaptureStarted = client.call(Method.CAPTURE_START, params)
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
            ended.update(client.call(Method.CAPTURE_STOP, {"capture": started["capture"]}))
        finally:
            if out is not None:
                out.close()
    print(
        f"{ended.get('packets', 0)} packets captured, {ended.get('dropped', 0)} dropped by "
        f"nstopo, {ended.get('kernel_dropped', 0)} dropped by the kernel",
        file=sys.stderr,
    )
    return 0
