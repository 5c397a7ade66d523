"""Named network namespaces without forking: create, open and delete them in-process.

pyroute2's `netns.create` and `IPRoute(netns=...)` fork a child each time (about
10 ms each here), which would dominate deploying hundreds of namespaces. This does
what `ip netns add` does, on one worker thread: unshare(CLONE_NEWNET), bind-mount
the thread's namespace onto /run/netns/NAME, open the netlink socket there, and
setns() back. A netlink socket stays bound to the namespace it was opened in.

Also avoids pyroute2's O_CREAT trap: opening never creates (a missing name fails).
Methods ending in `_here` run on the calling thread and must only be called from
the worker thread itself (inside `run`).
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .rtnl import Rtnl

CLONE_NEWNET = 0x40000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_SHARED = 1 << 20
MNT_DETACH = 2
NETNS_RUN_DIR = Path("/run/netns")

_libc = ctypes.CDLL(None, use_errno=True)
T = TypeVar("T")


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _mount(source: str, target: str, flags: int) -> None:
    _check(_libc.mount(source.encode(), target.encode(), None, flags, None),
           f"mount {source} on {target}")  # fmt: skip


class NamespaceWorker:
    """One thread that enters namespaces on behalf of the caller and always returns
    to the namespace it started in (the helper's own)."""

    def __init__(self, run_dir: Path = NETNS_RUN_DIR) -> None:
        self.run_dir = run_dir
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netns")
        self._home = self._pool.submit(lambda: os.open("/proc/thread-self/ns/net", os.O_RDONLY))
        self._prepared = False

    def close(self) -> None:
        self._pool.shutdown()
        os.close(self._home.result())

    # -- public operations (run on the worker thread) ----------------------------------
    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` on the worker thread: the only thread where handles may be used."""
        return self._pool.submit(fn, *args).result()

    def create(self, name: str, prepare: Callable[[Rtnl], None] | None = None) -> Rtnl:
        """Create namespace `name` and return a netlink handle inside it.

        `prepare(handle)` runs before the namespace gets its name, so a crash never
        leaves a visible namespace that it did not finish (nstopo tags `lo` there).
        Fails with FileExistsError if the name is taken (by anyone)."""
        return self._pool.submit(self.create_here, name, prepare).result()

    def call_inside(self, name: str, fn: Callable[[], T]) -> T:
        """Run `fn` on the worker thread while it is inside namespace `name` (for
        what netlink cannot do: /proc/sys writes, tun/tap ioctls)."""
        return self._pool.submit(self.inside_here, name, fn).result()

    def call_in(self, name: str | None, fn: Callable[[], T]) -> T:
        """`fn` on the worker thread inside namespace `name` (None: the helper's own)."""
        return self.run(fn) if name is None else self.call_inside(name, fn)

    def open(self, name: str) -> Rtnl:
        """A netlink handle inside an existing namespace; FileNotFoundError if none."""
        return self._pool.submit(self.open_here, name).result()

    def delete(self, name: str) -> None:
        """Unmount and remove /run/netns/NAME (the namespace dies with its last user)."""
        path = self.run_dir / name
        result = _libc.umount2(str(path).encode(), MNT_DETACH)
        if result != 0 and ctypes.get_errno() not in (errno.EINVAL, errno.ENOENT):
            _check(result, f"umount {path}")
        path.unlink()

    # -- on the worker thread ----------------------------------------------------------------
    def create_here(self, name: str, prepare: Callable[[Rtnl], None] | None) -> Rtnl:
        self._prepare_run_dir()
        path = self.run_dir / name
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))  # refuse a taken name
        try:
            _check(_libc.unshare(CLONE_NEWNET), "unshare")
            try:
                handle = Rtnl.open_here()
                if prepare is not None:
                    prepare(handle)
                _mount("/proc/thread-self/ns/net", str(path), MS_BIND)
                return handle
            finally:
                self._go_home()
        except BaseException:
            _libc.umount2(str(path).encode(), MNT_DETACH)
            path.unlink(missing_ok=True)
            raise

    def open_here(self, name: str | Path) -> Rtnl:
        """A socket in the namespace named `name`, or behind a path (/proc/PID/ns/net)."""
        fd = os.open(name if isinstance(name, Path) else self.run_dir / name, os.O_RDONLY)
        try:
            _check(_libc.setns(fd, CLONE_NEWNET), f"setns {name}")
            try:
                return Rtnl.open_here()
            finally:
                self._go_home()
        finally:
            os.close(fd)

    def inside_here(self, name: str | Path, fn: Callable[[], T]) -> T:
        fd = os.open(name if isinstance(name, Path) else self.run_dir / name, os.O_RDONLY)
        try:
            _check(_libc.setns(fd, CLONE_NEWNET), f"setns {name}")
            try:
                return fn()
            finally:
                self._go_home()
        finally:
            os.close(fd)

    def home_handle(self) -> Rtnl:
        """A netlink socket in the helper's own namespace."""
        return self._pool.submit(Rtnl.open_here).result()

    @property
    def home_fd(self) -> int:
        """An fd of the helper's own namespace (to move devices back into it)."""
        return self._home.result()

    def _go_home(self) -> None:
        _check(_libc.setns(self._home.result(), CLONE_NEWNET), "setns back to the helper")

    def _prepare_run_dir(self) -> None:
        """Like ip netns: /run/netns is a shared mount point, so namespace mounts made
        here are seen from every mount namespace (systemd units, other shells)."""
        if self._prepared:
            return
        self.run_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
        try:
            _mount("", str(self.run_dir), MS_SHARED | MS_REC)
        except OSError as exc:
            if exc.errno != errno.EINVAL:  # EINVAL: not a mount point yet
                raise
            _mount(str(self.run_dir), str(self.run_dir), MS_BIND | MS_REC)
            _mount("", str(self.run_dir), MS_SHARED | MS_REC)
        self._prepared = True
