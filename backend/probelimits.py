"""How much probing one user may ask of the helper at once.

Every ping and capture holds a socket and wakes the helper per packet: 200 pings at
1 ms took 90% of a core and 732 ms of latency from everyone else, and 1,020 idle
pings used up the helper's file descriptors. So, like iputils refusing flood
intervals to non-root users, a user other than root may not ping faster than every
0.2 s, and each user may run at most `PER_USER` probes (pings and captures) at once.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator

from nstopo.protocol.errors import ErrorCode

from . import jsonrpc as rpc

MIN_INTERVAL = 0.2  # seconds between echoes, for users other than root (as ping(8))
PER_USER = 64
_active: Counter[int] = Counter()  # uid -> probes running (the event loop's thread only)


def check_interval(uid: int, interval: float) -> None:
    if uid != 0 and interval < MIN_INTERVAL:
        raise rpc.RpcError(
            ErrorCode.INVALID_PARAMS,
            f"interval {interval:g} s is too short: only root may ping more often than "
            f"every {MIN_INTERVAL:g} s (as ping says: cannot flood)",
        )


def acquire(uid: int) -> None:
    if _active[uid] >= PER_USER:
        raise rpc.RpcError(
            ErrorCode.INVALID_PARAMS,
            f"you already run {PER_USER} pings and captures at once; stop some first",
        )
    _active[uid] += 1


def release(uid: int) -> None:
    _active[uid] -= 1
    if _active[uid] <= 0:
        del _active[uid]


@contextlib.contextmanager
def slot(uid: int) -> Iterator[None]:
    acquire(uid)
    try:
        yield
    finally:
        release(uid)
