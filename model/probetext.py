"""Ping's own words for the helper's ping notifications and summary, shared by the
`nstopo ping` command and the editor's ping panel."""

from __future__ import annotations

from typing import Any


def ping_line(method: str, params: dict[str, Any], source: str) -> str | None:
    """The line ping prints for one notification (None: nothing to print)."""
    if method == "ping.started":
        return (
            f"PING {params['target']} ({params['address']}) from {source}: "
            f"56 data bytes ({params['reason']})"
        )
    if method == "ping.reply":
        return (
            f"{params['bytes']} bytes from {params['from']}: icmp_seq={params['seq']} "
            f"ttl={params['ttl']} time={params['rtt_ms']:.3f} ms"
        )
    if method == "ping.error":
        where = f"From {params['from']} " if params["from"] else ""
        return f"{where}icmp_seq={params['seq']} {params['message']}"
    return None


def ping_summary(done: dict[str, Any]) -> list[str]:
    """ping's closing statistics for a ping.start result."""
    errors = f"+{done['errors']} errors, " if done["errors"] else ""
    lines = [
        f"--- {done['address']} ping statistics ---",
        f"{done['transmitted']} packets transmitted, {done['received']} received, "
        f"{errors}{done['loss']:g}% packet loss, time {done['time_ms']:.0f}ms",
    ]
    if done["received"]:
        lines.append(
            f"rtt min/avg/max/mdev = {done['min']:.3f}/{done['avg']:.3f}/{done['max']:.3f}/"
            f"{done['mdev']:.3f} ms"
        )
    return lines
