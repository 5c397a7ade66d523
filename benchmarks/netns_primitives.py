"""How long it takes to get a netlink handle inside a new named namespace.

Compares nstopo's in-process NamespaceWorker with pyroute2's own calls (which fork)
and with `ip netns add` processes. Runs inside a private sandbox, so it needs root
and touches nothing on the host:  sudo .venv/bin/python benchmarks/netns_primitives.py [N]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100


def measure() -> None:
    from nstopo.backend.netns import NamespaceWorker
    from pyroute2 import IPRoute, netns

    worker = NamespaceWorker()
    start = time.perf_counter()
    handles = [worker.create(f"w{i}") for i in range(N)]
    ours = time.perf_counter() - start
    for handle in handles:
        handle.close()
    for i in range(N):
        worker.delete(f"w{i}")
    worker.close()

    start = time.perf_counter()
    for i in range(N):
        netns.create(f"p{i}")
        IPRoute(netns=f"p{i}", flags=0).close()
    theirs = time.perf_counter() - start
    for i in range(N):
        netns.remove(f"p{i}")

    start = time.perf_counter()
    for i in range(N):
        subprocess.run(["ip", "netns", "add", f"s{i}"], check=True)
    shell = time.perf_counter() - start
    for i in range(N):
        subprocess.run(["ip", "netns", "del", f"s{i}"], check=True)

    print(f"namespaces: {N}")
    print(f"nstopo NamespaceWorker.create (namespace + handle): {ours / N * 1000:6.2f} ms each")
    print(f"pyroute2 netns.create + IPRoute(netns=) (forks):   {theirs / N * 1000:6.2f} ms each")
    print(f"ip netns add (one process each, no handle):        {shell / N * 1000:6.2f} ms each")


if __name__ == "__main__":
    if os.environ.get("NSTOPO_IN_SANDBOX") == "1":
        measure()
    else:
        script = 'mount -t tmpfs bench /run && exec "$0" "$1" "$2"'
        os.execvpe("unshare", ["unshare", "--net", "--mount", "--propagation", "private", "--",
                               "bash", "-c", script, sys.executable, __file__, str(N)],
                   {**os.environ, "NSTOPO_IN_SANDBOX": "1"})  # fmt: skip
