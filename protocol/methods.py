"""The names of the helper's methods and notifications (StrEnums: they are the
strings on the wire)."""

from __future__ import annotations

from enum import StrEnum


class Method(StrEnum):
    HELLO = "hello"
    LAB_PLAN = "lab.plan"
    LAB_APPLY = "lab.apply"
    UPLOAD_PART = "upload.part"
    LAB_DESTROY = "lab.destroy"
    LAB_STATUS = "lab.status"
    LAB_TOPOLOGY = "lab.topology"
    HOST_DISCOVER = "host.discover"
    EVENTS_SUBSCRIBE = "events.subscribe"
    EVENTS_UNSUBSCRIBE = "events.unsubscribe"
    COUNTERS_SUBSCRIBE = "counters.subscribe"
    COUNTERS_UNSUBSCRIBE = "counters.unsubscribe"
    PING_START = "ping.start"
    PING_STOP = "ping.stop"
    CAPTURE_START = "capture.start"
    CAPTURE_STOP = "capture.stop"
    BRIDGE_FDB = "bridge.fdb"
    HELPER_INFO = "helper.info"
    EXEC_RUN = "exec.run"
    EXEC_PTY = "exec.pty"
    EXEC_WAIT = "exec.wait"
    EXEC_LOGS = "exec.logs"
    NODE_SHOW = "node.show"
    HOST_DOCTOR = "host.doctor"


class Notification(StrEnum):
    APPLY_PROGRESS = "apply.progress"
    LAB_CHANGED = "lab.changed"
    LINK_CHANGED = "link.changed"
    ADDR_CHANGED = "addr.changed"
    COUNTERS = "counters"
    PING_STARTED = "ping.started"
    PING_REPLY = "ping.reply"
    PING_ERROR = "ping.error"
    CAPTURE_PACKET = "capture.packet"
    CAPTURE_END = "capture.end"
