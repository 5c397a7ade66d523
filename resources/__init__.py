"""Data shipped with nstopo: example labs, lessons, the JSON Schema, icons."""

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent
EXAMPLES = RESOURCES / "examples"
LESSONS = RESOURCES / "lessons"
SCHEMA_FILE = RESOURCES / "schema" / "nstopo-topology.schema.json"
ICONS = RESOURCES / "icons"
