"""Does the sandbox's kernel have netem? (CONFIG_NET_SCH_NETEM: some kernels are built
without it, and nstopo never loads modules.)"""

from __future__ import annotations

from sandbox import Sandbox

NO_NETEM = "this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM)"


def has_netem(box: Sandbox) -> bool:
    box.run("ip", "link", "add", "probe0", "type", "veth", "peer", "name", "probe1")
    try:
        made = box.run("tc", "qdisc", "add", "dev", "probe0", "root", "netem", check=False)
        return made.returncode == 0
    finally:
        box.run("ip", "link", "del", "probe0")
