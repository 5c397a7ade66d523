"""The host's `net.ipv4.ip_forward`, switched on only while a lab's host NAT needs it.

The value found before the first such lab is kept in the registry; when the last one
goes, it is put back, unless someone else changed the value in between (then theirs
stays: nstopo never undoes a change it did not make).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")  # of the helper's (the host's) netns


class HostForwarding:
    def __init__(self, registry: Any, path: Path = IP_FORWARD) -> None:
        self.registry, self.path = registry, path

    def _read(self) -> str:
        return self.path.read_text().strip()

    def _write(self, value: str) -> None:
        with open(self.path, "w") as out:
            out.write(value)

    def need(self, lab: str) -> None:
        record = self.registry.forwarding
        if record is None:
            found = self._read()
            if found != "1":
                self._write("1")
            record = self.registry.forwarding = {"found": found, "labs": []}
        if lab not in record["labs"]:
            record["labs"].append(lab)

    def release(self, lab: str) -> None:
        record = self.registry.forwarding
        if record is None or lab not in record["labs"]:
            return
        record["labs"].remove(lab)
        if record["labs"]:
            return
        self.registry.forwarding = None
        if record["found"] != "1" and self._read() == "1":  # still what nstopo set
            self._write(record["found"])
