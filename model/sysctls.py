"""The per-namespace sysctls nstopo may set: networking knobs under net.*, nothing else."""

from __future__ import annotations

import re

# `*` stands for one path component (an interface name, "all" or "default").
ALLOWED_SYSCTLS = (
    "net.ipv4.ip_forward",
    "net.ipv4.ip_default_ttl",
    "net.ipv4.ping_group_range",
    "net.ipv4.icmp_echo_ignore_all",
    "net.ipv4.icmp_echo_ignore_broadcasts",
    "net.ipv4.conf.*.forwarding",
    "net.ipv4.conf.*.rp_filter",
    "net.ipv4.conf.*.proxy_arp",
    "net.ipv4.conf.*.accept_local",
    "net.ipv4.conf.*.accept_redirects",
    "net.ipv4.conf.*.send_redirects",
    "net.ipv4.conf.*.arp_ignore",
    "net.ipv4.conf.*.arp_announce",
    "net.ipv4.conf.*.arp_filter",
    "net.ipv4.conf.*.route_localnet",
    "net.ipv6.conf.*.forwarding",
    "net.ipv6.conf.*.disable_ipv6",
    "net.ipv6.conf.*.accept_ra",
    "net.ipv6.conf.*.accept_dad",
    "net.ipv6.conf.*.autoconf",
)
_PATTERNS = [
    re.compile("^" + re.escape(p).replace(r"\*", r"[A-Za-z0-9_@-]{1,15}") + "$")
    for p in ALLOWED_SYSCTLS
]


def sysctl_allowed(key: str) -> bool:
    return any(p.match(key) for p in _PATTERNS)
