"""Data shipped with nstopo: example labs, the JSON Schema, icons."""

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent
EXAMPLES = RESOURCES / "examples"
SCHEMA_FILE = RESOURCES / "schema" / "nstopo-topology.schema.json"
ICONS = RESOURCES / "icons"
