"""`nstopo import FILE`: which tool's lab a path is, read it, and the topology file
text (with what was not mapped in its header)."""

from __future__ import annotations

from pathlib import Path

from .clabimport import import_containerlab
from .importlab import Imported
from .katharaimport import import_kathara
from .yamlfile import dumps


class NotALab(Exception):
    """A path that is no lab nstopo can import; its message is one sentence."""


def import_path(path: Path) -> tuple[str, Imported]:
    """The topology file's text and the import's report."""
    if path.is_dir() and (path / "lab.conf").is_file():
        path = path / "lab.conf"
    try:
        text = path.read_text()
    except OSError as exc:
        raise NotALab(f"cannot read {path}: {exc.strerror or exc}") from None
    if path.name == "lab.conf":
        startups = {p.stem: p.read_text() for p in path.parent.glob("*.startup")}
        imported = import_kathara(text, startups, path.parent.resolve().name)
        tool = "Kathara"
    elif path.name.endswith((".clab.yml", ".clab.yaml")) or "topology:" in text:
        imported = import_containerlab(text, str(path))
        tool = "containerlab"
    else:
        raise NotALab(
            f"{path} is neither a containerlab topology (*.clab.yml) nor a Kathara lab.conf"
        )
    return imported.header(str(path), tool) + dumps(imported.topology), imported
