"""Who a process started for a client runs as, and the command that starts it there.

The launcher is two small C programs, exec'd in place (the pid stays the command's):
`ip netns exec NS` (the node's network namespace, a private mount namespace with /sys
remounted and /etc/netns/NS/* bound over /etc) and util-linux `setpriv` (the caller's
uid, gid and groups, plus the network capabilities as ambient ones). A non-root
caller's command never runs as root: setpriv changes the uid before it execs it.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path

NET_CAPS = ("net_admin", "net_raw", "net_bind_service")
# What a client may set in the environment of its command (a terminal's needs).
CLIENT_ENV = ("TERM", "LANG", "LC_ALL", "LC_CTYPE", "COLORTERM", "COLUMNS", "LINES")
SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Identity:
    uid: int
    gid: int
    groups: tuple[int, ...]
    user: str
    home: str
    shell: str

    @property
    def is_root(self) -> bool:
        return self.uid == 0


def identity_of(uid: int, gid: int, pid: int) -> Identity:
    """The peer's identity: uid and gid from SO_PEERCRED, its groups as its live
    process has them (else from the group database), HOME and SHELL from passwd."""
    try:
        entry = pwd.getpwuid(uid)
        user, home, shell = entry.pw_name, entry.pw_dir, entry.pw_shell or "/bin/sh"
    except KeyError:
        user, home, shell = str(uid), "/", "/bin/sh"
    groups = _process_groups(pid)
    if groups is None:
        try:
            groups = tuple(os.getgrouplist(user, gid))
        except (KeyError, OSError):
            groups = (gid,)
    return Identity(uid, gid, groups, user, home, shell)


def _process_groups(pid: int) -> tuple[int, ...] | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Groups:"):
                return tuple(int(g) for g in line.split()[1:])
    except (OSError, ValueError):
        pass
    return None


def launcher(namespace: str, who: Identity, argv: list[str], net_caps: bool = True) -> list[str]:
    """The full command: `argv` in `namespace` as `who`."""
    prefix = ["ip", "netns", "exec", namespace]
    if who.is_root:
        return [*prefix, *argv]
    groups = ",".join(str(g) for g in who.groups) if who.groups else ""
    drop = ["--groups", groups] if groups else ["--clear-groups"]
    caps: list[str] = []
    if net_caps:
        wanted = ",".join(f"+{c}" for c in NET_CAPS)
        caps = [f"--inh-caps={wanted}", f"--ambient-caps={wanted}"]
    else:
        caps = ["--inh-caps=-all"]
    ids = ["--reuid", str(who.uid), "--regid", str(who.gid), *drop]
    return [*prefix, "setpriv", *ids, *caps, "--", *argv]


def environment(
    who: Identity, lab: str, node: str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """A clean environment (nothing of the helper's leaks), plus what the client may set.
    NSTOPO_LAB and NSTOPO_NODE say where a shell is (prompts, scripts)."""
    env = {
        "HOME": who.home,
        "SHELL": who.shell,
        "USER": who.user,
        "LOGNAME": who.user,
        "PATH": SAFE_PATH,
        "LANG": "C.UTF-8",
        "NSTOPO_LAB": lab,
        "NSTOPO_NODE": node,
    }
    for key, value in (extra or {}).items():
        if key in CLIENT_ENV or key.startswith("LC_"):
            env[key] = value
    return env


def working_dir(who: Identity) -> str:
    return who.home if os.path.isdir(who.home) else "/"
