"""What the helper owns: a registry file in its state dir, written atomically.

Each lab records the topology it was last applied with and every kernel object it
created (namespaces, and devices outside them). An apply first records what it is
about to create as `pending`, so a helper killed half-way still knows what might be
its own after a restart (`reconcile` in labs.py decides with the kernel tags).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGISTRY_FILE = "registry.json"
REGISTRY_VERSION = 1


@dataclass
class LabRecord:
    name: str
    topology: dict[str, Any] | None = None  # the last applied topology (model.schema.to_document)
    owner_uid: int = 0
    namespaces: list[str] = field(default_factory=list)
    host_devices: list[str] = field(default_factory=list)  # devices in the host namespace
    pending_namespaces: list[str] = field(default_factory=list)
    pending_host_devices: list[str] = field(default_factory=list)

    def owns_namespace(self, name: str) -> bool:
        return name in self.namespaces or name in self.pending_namespaces

    def owns_host_device(self, name: str) -> bool:
        return name in self.host_devices or name in self.pending_host_devices


@dataclass
class Registry:
    path: Path
    labs: dict[str, LabRecord] = field(default_factory=dict)

    @classmethod
    def load(cls, state_dir: Path) -> Registry:
        path = state_dir / REGISTRY_FILE
        registry = cls(path)
        if path.exists():
            data = json.loads(path.read_text())
            if data.get("version") != REGISTRY_VERSION:
                raise ValueError(f"{path} has registry version {data.get('version')}; "
                                 f"this helper reads {REGISTRY_VERSION}")  # fmt: skip
            for name, record in data.get("labs", {}).items():
                registry.labs[name] = LabRecord(**record)
        return registry

    def save(self) -> None:
        """Write to a temporary file, fsync, rename: a crash leaves the old or the new."""
        # vars(), not asdict(): no deep copy; compact json.dumps uses the C encoder.
        data: dict[str, Any] = {
            "version": REGISTRY_VERSION,
            "labs": {name: vars(record) for name, record in sorted(self.labs.items())},
        }
        text = json.dumps(data, separators=(",", ":"))
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def owner_of_namespace(self, name: str) -> str | None:
        return next((lab for lab, r in self.labs.items() if r.owns_namespace(name)), None)

    def owner_of_host_device(self, name: str) -> str | None:
        return next((lab for lab, r in self.labs.items() if r.owns_host_device(name)), None)
