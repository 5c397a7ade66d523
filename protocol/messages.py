"""The shape of every params, result and notification (names: methods.py).

TypedDicts: on the wire and in the clients they are the plain dicts JSON gives (the
editor reads thousands of events a second), while type checkers, `check.conforms`
and the docs test (tests/unit/test_protocol.py) hold every side to one definition.
A key marked NotRequired may be absent; new keys are only ever added (design.md).

No `from __future__ import annotations` here: string annotations would each be
compiled into a ForwardRef when the classes are made (15 ms at every start).
"""

from typing import Any, Literal, NotRequired, TypedDict

from .methods import Method, Notification

Change = Literal["new", "del"]

# -- params ------------------------------------------------------------------------------


class HelloParams(TypedDict):
    protocol: list[int]  # versions the client speaks
    client: NotRequired[str]


class TopologyParams(TypedDict):
    # The file's YAML text, or model.schema.to_document; or, for one too big for a
    # request line, `upload` names the text sent before in upload.part pieces.
    topology: NotRequired[str | dict[str, Any]]
    dry_run: NotRequired[bool]  # lab.apply only
    source: NotRequired[str | None]  # the file's name, for file:line:col in problems
    upload: NotRequired[str]
    upload_format: NotRequired[Literal["yaml", "json"]]  # json: a to_document as JSON


class UploadPartParams(TypedDict):
    upload: str  # 1-64 characters, the client's name for it on this connection
    text: str  # the next piece


class UploadPartResult(TypedDict):
    upload: str
    chars: int  # the upload's length so far


class DestroyParams(TypedDict):
    lab: str
    force: NotRequired[bool]


class LabParams(TypedDict):
    lab: str


class MaybeLabParams(TypedDict):
    lab: NotRequired[str | None]  # None: every lab


class CountersParams(TypedDict):
    lab: str
    interval: NotRequired[float]  # 0.05 .. 3600 s


class PingParams(TypedDict):
    lab: str
    source: str
    target: str  # an address, or a node name
    interface: NotRequired[str | None]
    count: NotRequired[int]
    interval: NotRequired[float]
    timeout: NotRequired[float]
    tag: NotRequired[str | None]


class PingStopParams(TypedDict):
    tag: str


class CaptureParams(TypedDict):
    lab: str
    node: str
    interface: NotRequired[str | None]  # None: the node itself (a bridge, tap or tun)
    filter: NotRequired[str]
    count: NotRequired[int | None]
    duration: NotRequired[float | None]
    raw: NotRequired[bool]


class CaptureStopParams(TypedDict):
    capture: int


class ExecParams(TypedDict):
    lab: str
    node: str
    argv: list[str]
    timeout: NotRequired[float]  # seconds; then the command's session is killed
    stdin: NotRequired[str]
    env: NotRequired[dict[str, str]]  # only TERM, LANG, LC_*, COLORTERM, COLUMNS, LINES


class PtyParams(TypedDict):
    lab: str
    node: str
    argv: NotRequired[list[str]]  # default: the caller's login shell
    rows: NotRequired[int]
    cols: NotRequired[int]
    env: NotRequired[dict[str, str]]


class WaitParams(TypedDict):
    pid: int


class LogsParams(TypedDict):
    lab: str
    node: str
    offset: NotRequired[int]  # from this byte of the log (the last answer's offset)


class FdbParams(TypedDict):
    lab: str
    node: str


class NodeShowParams(TypedDict):
    lab: str
    node: str
    sections: NotRequired[list[str]]  # of routes, rules, neigh, firewall; default all


# -- results -----------------------------------------------------------------------------


class Empty(TypedDict):
    pass


class HelloResult(TypedDict):
    protocol: int
    server: str
    methods: list[str]


# A plan step: {"op": "veth.add", ...its own fields (they differ by op), "command": the
# `ip` command it stands for}.
Step = dict[str, Any]


class PlanResult(TypedDict):
    lab: str
    running: bool
    steps: list[Step]
    warnings: NotRequired[list[str]]  # file:line:col lines (a text topology's warnings)


class StartupResult(TypedDict):
    node: str
    command: str  # one item of the node's exec:
    status: int
    stdout: str
    stderr: str
    timed_out: NotRequired[bool]
    truncated: NotRequired[bool]


class ApplyResult(TypedDict):
    lab: str
    changed: bool
    dry_run: bool
    steps: list[Step]
    elapsed_ms: float
    warnings: NotRequired[list[str]]
    exec: NotRequired[list[StartupResult]]  # the startup commands this apply ran


class Processes(TypedDict):
    namespace: str
    pids: list[int]


class DestroyResult(TypedDict):
    lab: str
    removed: list[str]
    skipped: list[str]
    processes: list[Processes]


class ExecResult(TypedDict):
    status: int  # the exit code, or 128 + the signal that ended the command
    stdout: str  # UTF-8, undecodable bytes replaced
    stderr: str
    timed_out: NotRequired[bool]
    truncated: NotRequired[bool]  # more than 400 kB of output: the rest was dropped


class PtyResult(TypedDict):
    pid: int  # the terminal's command (exec.wait gives its exit status)
    argv: list[str]


class WaitResult(TypedDict):
    status: int


class LogsResult(TypedDict):
    text: str  # at most the last 256 kB from offset
    offset: int  # where the next call continues


class LinkStatus(TypedDict):
    name: str
    kind: str | None
    oper: str
    up: bool
    tag: str | None
    qdisc: NotRequired[str | None]  # the root qdisc's kind (noqueue, netem, ...)
    netem: NotRequired[dict[str, Any] | None]  # its impairment in the file's keys


class NamespaceStatus(TypedDict):
    name: str
    present: bool
    links: list[LinkStatus]


class ProcessStatus(TypedDict):
    pid: int
    session: int  # the pid of the command nstopo started; its children share it
    node: str
    kind: str  # exec | shell | service | startup
    uid: int
    argv: list[str]  # the command (empty for what the command itself started)


class LabStatus(TypedDict):
    lab: str
    pending: bool
    namespaces: list[NamespaceStatus]
    host_links: list[LinkStatus]
    processes: NotRequired[list[ProcessStatus]]  # what nstopo started in the lab, alive


class TopologyResult(TypedDict):
    lab: str
    topology: dict[str, Any]


class LinkOwner(TypedDict):
    id: str
    owner: str | None


class DiscoveredNamespace(TypedDict):
    named: bool
    pids: list[int]


class DiscoverResult(TypedDict):
    topology: dict[str, Any]
    owners: dict[str, str | None]
    links: list[LinkOwner]
    unmapped: list[str]
    namespaces: dict[str, DiscoveredNamespace]


class SubscribeResult(TypedDict):
    lab: str | None
    watching: int
    running: NotRequired[bool]  # False: the lab does not run yet; events start at its apply


class CountersResult(TypedDict):
    lab: str
    interval: float


class PingSummary(TypedDict):
    address: str
    reason: str
    target: str
    transmitted: int
    received: int
    errors: int
    loss: float
    time_ms: float
    min: NotRequired[float]  # the rtt figures (ms) only when a reply came
    avg: NotRequired[float]
    max: NotRequired[float]
    mdev: NotRequired[float]


class PingStopResult(TypedDict):
    tag: str


class CaptureStarted(TypedDict):
    capture: int
    namespace: str | None
    interface: str
    linktype: Literal["ethernet", "raw"]


class CaptureEnd(TypedDict):
    capture: int
    reason: str
    packets: int
    dropped: int
    kernel_dropped: int


class FdbEntry(TypedDict):
    mac: str
    port: str
    vlan: int | None
    local: bool
    static: bool
    age_s: float | None


class FdbResult(TypedDict):
    lab: str
    bridge: str
    namespace: str | None
    entries: list[FdbEntry]


class KernelSection(TypedDict):
    commands: list[str]  # what was run in the namespace (iproute2, nft)
    text: str  # their output, as a person typing them there reads it
    entries: list[Any]  # iproute2's JSON (`ip -j`); empty for the firewall


class NodeShowResult(TypedDict):
    lab: str
    node: str
    namespace: str | None
    sections: dict[str, KernelSection]


class Affected(TypedDict):
    lab: str
    nodes: list[str]  # the nodes whose traffic the finding can stop


class Finding(TypedDict):
    check: str  # forward-drop, rp-filter, forwarding-off, module, iptables-both, ...
    title: str  # one line
    breaks: str  # what it breaks
    fix: str  # the exact command(s) that fix it, one a line (`# ...`: a remark)
    affects: list[Affected]  # labs and nodes it concerns; empty: the machine


class NetnsDir(TypedDict):
    path: str  # where the helper keeps named namespaces (/run/netns)
    device: int  # its st_dev and st_ino, as the helper sees it
    inode: int


class DoctorResult(TypedDict):
    findings: list[Finding]
    netns_dir: NetnsDir | None


class InfoResult(TypedDict):
    server: str
    pid: int
    rss_kib: int
    labs: list[str]


# -- notifications -------------------------------------------------------------------------


class ApplyProgress(TypedDict):
    lab: str
    index: int
    total: int
    command: str


class LabChanged(TypedDict):
    lab: str
    change: Literal["applied", "destroyed"]


class LinkEvent(TypedDict):
    lab: str
    namespace: str | None  # None: the host
    change: Change
    resync: bool  # part of a full re-read of the state (subscribe, lost events)
    time: float
    index: int
    name: str
    kind: str | None
    oper: str  # UP, DOWN, LOWERLAYERDOWN, ...
    up: bool  # admin state
    mtu: int
    mac: str | None
    master: str | None
    tag: str | None
    qdisc: NotRequired[str | None]  # the root qdisc's kind; None: the device's default
    netem: NotRequired[dict[str, Any] | None]  # its impairment in the file's keys


class AddrEvent(TypedDict):
    lab: str
    namespace: str | None
    interface: str
    address: str  # CIDR
    change: Change
    resync: bool


class InterfaceCounters(TypedDict):
    namespace: str | None
    name: str
    rx_bytes: int
    tx_bytes: int
    rx_packets: int
    tx_packets: int


class Counters(TypedDict):
    lab: str
    time: float
    interfaces: list[InterfaceCounters]


class PingStarted(TypedDict):
    lab: str
    source: str
    target: str
    address: str
    reason: str
    tag: str | None


# "from" is a Python keyword: these two use the functional form.
PingReply = TypedDict(
    "PingReply",
    {
        "seq": int,
        "ttl": int,
        "rtt_ms": float,
        "from": str,
        "bytes": int,
        "time": float,
        "tag": str | None,
    },
)
PingErrorEvent = TypedDict(
    "PingErrorEvent",
    {"seq": int, "from": str | None, "message": str, "tag": str | None},
)


class CapturePacket(TypedDict):
    capture: int
    time: float
    time_ns: int  # the kernel's receive time
    namespace: str | None
    interface: str
    direction: Literal["in", "out"]
    length: int
    wire_length: NotRequired[int]  # only when longer than the captured frame
    protocol: Literal["arp", "icmp", "icmp6", "udp", "tcp", "ip", "other"]
    src_mac: str | None
    dst_mac: str | None
    src_ip: str | None
    dst_ip: str | None
    vlans: list[int]  # VLAN ids, outermost first
    summary: str  # the line `tcpdump -n` would print
    link_summary: str  # `tcpdump -n -e`
    data: NotRequired[str]  # the frame in base64, with raw


# -- the tables the docs test and the checker walk -------------------------------------------

METHODS: dict[Method, tuple[type | None, Any]] = {
    Method.HELLO: (HelloParams, HelloResult),
    Method.LAB_PLAN: (TopologyParams, PlanResult),
    Method.LAB_APPLY: (TopologyParams, ApplyResult),
    Method.UPLOAD_PART: (UploadPartParams, UploadPartResult),
    Method.LAB_DESTROY: (DestroyParams, DestroyResult),
    Method.LAB_STATUS: (MaybeLabParams, list[LabStatus]),
    Method.LAB_TOPOLOGY: (LabParams, TopologyResult),
    Method.HOST_DISCOVER: (None, DiscoverResult),
    Method.EVENTS_SUBSCRIBE: (MaybeLabParams, SubscribeResult),
    Method.EVENTS_UNSUBSCRIBE: (None, Empty),
    Method.COUNTERS_SUBSCRIBE: (CountersParams, CountersResult),
    Method.COUNTERS_UNSUBSCRIBE: (None, Empty),
    Method.PING_START: (PingParams, PingSummary),
    Method.PING_STOP: (PingStopParams, PingStopResult),
    Method.CAPTURE_START: (CaptureParams, CaptureStarted),
    Method.CAPTURE_STOP: (CaptureStopParams, CaptureEnd),
    Method.BRIDGE_FDB: (FdbParams, FdbResult),
    Method.HELPER_INFO: (None, InfoResult),
    Method.EXEC_RUN: (ExecParams, ExecResult),
    Method.EXEC_PTY: (PtyParams, PtyResult),
    Method.EXEC_WAIT: (WaitParams, WaitResult),
    Method.EXEC_LOGS: (LogsParams, LogsResult),
    Method.NODE_SHOW: (NodeShowParams, NodeShowResult),
    Method.HOST_DOCTOR: (None, DoctorResult),
}

NOTIFICATIONS: dict[Notification, type] = {
    Notification.APPLY_PROGRESS: ApplyProgress,
    Notification.LAB_CHANGED: LabChanged,
    Notification.LINK_CHANGED: LinkEvent,
    Notification.ADDR_CHANGED: AddrEvent,
    Notification.COUNTERS: Counters,
    Notification.PING_STARTED: PingStarted,
    Notification.PING_REPLY: PingReply,
    Notification.PING_ERROR: PingErrorEvent,
    Notification.CAPTURE_PACKET: CapturePacket,
    Notification.CAPTURE_END: CaptureEnd,
}
