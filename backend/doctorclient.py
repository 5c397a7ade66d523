"""The doctor's client side, for the CLI and the editor alike: what only the caller
sees, added to the helper's `host.doctor` answer (standard library only)."""

from __future__ import annotations

from typing import Any

from nstopo import __version__
from nstopo.model import doctor

from .paths import same_directory


def client_findings(server: str, netns_dir: dict[str, Any] | None) -> list[doctor.Finding]:
    """Given hello's `server` and host.doctor's `netns_dir`: a helper of another
    version, a helper whose /run/netns is not the caller's."""
    found = []
    if (version := doctor.helper_version(__version__, server)) is not None:
        found.append(version)
    if netns_dir is not None:
        same = same_directory(netns_dir["path"], netns_dir["device"], netns_dir["inode"])
        if (shared := doctor.netns_not_shared(netns_dir["path"], same)) is not None:
            found.append(shared)
    return found


def all_findings(server: str, answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The caller's findings first, then the helper's, as JSON."""
    extra = client_findings(server, answer.get("netns_dir"))
    return [*(f.to_json() for f in extra), *answer["findings"]]
