"""What the helper owns: a registry file in its state dir, written atomically.

Each lab records the topology it was last applied with and every kernel object it
created (namespaces, and devices outside them). An apply first records what it is
about to create as `pending`, so a helper killed half-way still knows what might be
its own after a restart (`reconcile` in labs.py decides with the kernel tags).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nstopo.model import inputbudget

REGISTRY_FILE = "registry.json"
REGISTRY_VERSION = 1
MAX_REGISTRY_BYTES = 256 << 20
LAB_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,23}")
_LIST_FIELDS = ("namespaces", "host_devices", "pending_namespaces", "pending_host_devices")


class RegistryError(Exception):
    """The registry file cannot be used; the message says which and why."""


@dataclass
class LabRecord:
    name: str
    topology: dict[str, Any] | None = None  # the last applied topology (model.schema.to_document)
    owner_uid: int = 0
    namespaces: list[str] = field(default_factory=list)
    host_devices: list[str] = field(default_factory=list)  # devices in the host namespace
    pending_namespaces: list[str] = field(default_factory=list)
    pending_host_devices: list[str] = field(default_factory=list)
    host_nat: bool = False  # it has (or may have) its nstopo-<lab> nft table in the host

    def owns_namespace(self, name: str) -> bool:
        return name in self.namespaces or name in self.pending_namespaces

    def owns_host_device(self, name: str) -> bool:
        return name in self.host_devices or name in self.pending_host_devices


@dataclass
class Registry:
    path: Path
    labs: dict[str, LabRecord] = field(default_factory=dict)
    # ip_forward as found before the first lab with host NAT, and those labs
    forwarding: dict[str, Any] | None = None

    @classmethod
    def load(cls, state_dir: Path) -> Registry:
        """Read the registry; RegistryError (one sentence) if it is not one this helper
        wrote. Its contents are checked like any input: a name that is not a lab,
        namespace or interface name (`../../x`) is refused, never acted upon."""
        path = state_dir / REGISTRY_FILE
        registry = cls(path)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return registry
        except OSError as exc:
            raise RegistryError(f"cannot read {path}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as stream:
            raw = stream.read(MAX_REGISTRY_BYTES + 1)
        if len(raw) > MAX_REGISTRY_BYTES:
            raise RegistryError(f"{path} is larger than {MAX_REGISTRY_BYTES >> 20} MiB")
        problem = inputbudget.check_json(raw)
        try:
            data = None if problem else json.loads(raw)
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            raise RegistryError(_corrupt(path, "it is not a JSON object"))
        if data.get("version") != REGISTRY_VERSION:
            raise RegistryError(f"{path} has registry version {data.get('version')!r}; "
                                f"this helper reads {REGISTRY_VERSION}")  # fmt: skip
        labs = data.get("labs", {})
        if not isinstance(labs, dict):
            raise RegistryError(_corrupt(path, '"labs" is not an object'))
        for name, record in labs.items():
            try:
                registry.labs[name] = _record(name, record)
            except ValueError as exc:
                raise RegistryError(_corrupt(path, f'lab "{name!s:.40}": {exc}')) from None
        registry.forwarding = _forwarding(data.get("forwarding"), path)
        return registry

    def save(self) -> None:
        """Write to a temporary file, fsync, rename: a crash leaves the old or the new.
        The temporary file is created afresh (O_EXCL) and never through a symlink
        (O_NOFOLLOW): one planted there cannot make root write somewhere else."""
        # vars(), not asdict(): no deep copy; compact json.dumps uses the C encoder.
        data: dict[str, Any] = {
            "version": REGISTRY_VERSION,
            "labs": {name: vars(record) for name, record in sorted(self.labs.items())},
        }
        if self.forwarding is not None:
            data["forwarding"] = self.forwarding
        text = json.dumps(data, separators=(",", ":")).encode()
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()  # unlink never follows a symlink
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(tmp, flags, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def owner_of_namespace(self, name: str) -> str | None:
        return next((lab for lab, r in self.labs.items() if r.owns_namespace(name)), None)

    def owner_of_host_device(self, name: str) -> str | None:
        return next((lab for lab, r in self.labs.items() if r.owns_host_device(name)), None)


def valid_kernel_name(name: object) -> bool:
    """A namespace or interface name nstopo could have made (design.md §3): 1-15
    bytes, no '/', ':' or white space, not '.' or '..'."""
    return (
        isinstance(name, str)
        and 0 < len(name.encode()) <= 15
        and name not in (".", "..")
        and not any(c in name for c in "/:\0")
        and not any(c.isspace() for c in name)
    )


def _record(name: str, raw: object) -> LabRecord:
    if not LAB_NAME.fullmatch(name):
        raise ValueError("not a lab name")
    if not isinstance(raw, dict) or raw.get("name") != name:
        raise ValueError("its record is not an object named after it")
    unknown = set(raw) - {f for f in LabRecord.__dataclass_fields__}
    if unknown:
        raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
    owner = raw.get("owner_uid", 0)
    if not isinstance(owner, int) or isinstance(owner, bool) or not 0 <= owner < 2**32:
        raise ValueError("owner_uid is not a uid")
    topology = raw.get("topology")
    if topology is not None and not isinstance(topology, dict):
        raise ValueError("topology is not an object")
    for key in _LIST_FIELDS:
        values = raw.get(key, [])
        if not isinstance(values, list):
            raise ValueError(f"{key} is not a list")
        if not all(valid_kernel_name(v) for v in values):
            bad = next(v for v in values if not valid_kernel_name(v))
            raise ValueError(f"{key} holds {str(bad)[:40]!r}, which is not a kernel name")
    if not isinstance(raw.get("host_nat", False), bool):
        raise ValueError("host_nat is not true or false")
    return LabRecord(**raw)


def _forwarding(raw: object, path: Path) -> dict[str, Any] | None:
    if raw is None:
        return None
    labs = raw.get("labs") if isinstance(raw, dict) else None
    if (
        not isinstance(raw, dict)
        or raw.get("found") not in ("0", "1")
        or not isinstance(labs, list)
        or not all(isinstance(n, str) and LAB_NAME.fullmatch(n) for n in labs)
    ):
        raise RegistryError(_corrupt(path, '"forwarding" is not what this helper writes'))
    return {"found": raw["found"], "labs": list(labs)}


def _corrupt(path: Path, why: str) -> str:
    return (
        f"the registry {path} is damaged ({why}); move it aside to start afresh "
        "(labs it listed must then be removed by hand with ip netns del / ip link del)"
    )
