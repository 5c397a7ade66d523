"""The commands that read topology files themselves, with the model (pydantic,
networkx, ruamel): `validate`, `plan` without a helper, `export`, and the editor.
Imported only when one of them runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nstopo.backend.paths import socket_path
from nstopo.model.problems import TopologyFileError, errors_first
from nstopo.model.validate import has_errors
from nstopo.model.yamlfile import LoadedFile, parse_bytes

from .common import CliError, ProblemsFound, count, print_problems


def _load(path: str) -> LoadedFile:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CliError(
            f"cannot read the file {path}: {exc.strerror or exc}; check the path"
        ) from None
    try:
        return parse_bytes(data, path)
    except TopologyFileError as exc:
        raise ProblemsFound(path, [p.format() for p in errors_first(exc.problems)]) from None


def load_checked(path: str) -> tuple[LoadedFile, list[str]]:
    """The file and its warnings; ProblemsFound if it has errors."""
    loaded = _load(path)
    lines = [p.format() for p in errors_first(loaded.problems)]
    if has_errors(loaded.problems):
        raise ProblemsFound(path, lines)
    return loaded, lines


def document_of(path: str) -> dict[str, Any]:
    """The checked file as the JSON document the helper takes (for files the command
    line does not send as text)."""
    from nstopo.model.schema import to_document

    return to_document(load_checked(path)[0].topology)


def name_of(path: str) -> str:
    return _load(path).topology.name


def cmd_validate(args: argparse.Namespace) -> int:
    from .firewallcheck import firewall_problems

    loaded = _load(args.file)
    found = loaded.problems + firewall_problems(loaded)
    lines = [p.format() for p in errors_first(found)]
    if print_problems(args.file, lines):
        return 1
    topo = loaded.topology
    summary = f"{count(len(topo), 'node')}, {count(len(topo.link_ids()), 'link')}"
    print(f"{args.file}: valid ({summary}; {count(len(lines), 'warning')})")
    return 0


def plan_offline(path: str) -> int:
    """`nstopo plan` when no helper answers: the plan from scratch."""
    from nstopo.model.plan import plan_up

    loaded, warnings = load_checked(path)
    for line in warnings:
        print(line, file=sys.stderr)
    print(
        f"# no helper is reachable at {socket_path()}: this is the plan from scratch "
        f"(lab {loaded.topology.name!r} not running)",
        file=sys.stderr,
    )
    for name, node in loaded.topology.nodes():  # what apply would refuse, refused here
        if node.kind == "netns" and Path("/run/netns", name).exists():
            raise CliError(
                f'namespace "{name}" already exists, so apply would refuse to add it '
                "unless it is this lab's (no helper is reachable to ask); rename the "
                "node, or start the helper to see the plan against the running lab"
            ) from None
    for command in plan_up(loaded.topology).commands():
        print(command)
    from .exec_cmd import print_node_commands

    print_node_commands(loaded.topology, False)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    loaded, _ = load_checked(args.file)
    if args.script:
        from nstopo.model.script import export_script

        text = export_script(loaded.topology, Path(args.file).name)
        _write_output(args.script, text, executable=True)
        return 0
    if args.containerlab:
        from nstopo.model.containerlab import export_containerlab

        _write_output(args.containerlab, export_containerlab(loaded.topology))
        return 0
    from nstopo.gui.export import export_picture  # Qt only when a picture is asked for

    target, kind = (args.png, "png") if args.png else (args.svg, "svg")
    try:
        export_picture(Path(args.file), Path(target), kind)
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror or exc}") from None
    return 0


def _write_output(target: str, text: str, executable: bool = False) -> None:
    if target == "-":
        sys.stdout.write(text)
        return
    try:
        path = Path(target)
        path.write_text(text)
        if executable:
            path.chmod(0o755)
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror or exc}") from None


def show_discovery(found: dict[str, Any], as_yaml: bool) -> int:
    """`nstopo discover` as text or YAML: the helper's answer drawn with the model."""
    from nstopo.model.schema import topology_from_document
    from nstopo.model.yamlfile import dumps

    topology = topology_from_document(found["topology"])
    foreign = sorted(
        n
        for n, lab in found["owners"].items()
        if lab is None and n in topology and topology.node(n).kind != "host"
    )
    if as_yaml:
        header = [
            "# The live host, as `nstopo discover --yaml` saw it (read-only snapshot).",
            "# Not made by nstopo: " + (", ".join(foreign) or "nothing"),
        ]
        header += [f"# Left out: {item}" for item in found["unmapped"]]
        sys.stdout.write("\n".join(header) + "\n" + dumps(topology))
        return 0
    for name, node in topology.nodes():
        owner = found["owners"].get(name)
        mark = f"lab {owner}" if owner else "not nstopo's"
        extra = found["namespaces"].get(name, {})
        pids = f", processes {extra['pids']}" if extra.get("pids") else ""
        print(f"{node.kind:<6} {name:<20} {mark}{pids}")
    for _, link in topology.links():
        a, b = link.endpoints
        print(f"veth   {a.short} <-> {b.short}")
    for item in found["unmapped"]:
        print(f"left out: {item}", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """A containerlab or Kathara lab as a topology file; what did not map on stderr."""
    from nstopo.model.importfile import NotALab, import_path
    from nstopo.model.problems import TopologyFileError as FileError

    try:
        text, imported = import_path(Path(args.file))
    except NotALab as exc:
        raise CliError(str(exc)) from None
    except FileError as exc:
        raise CliError(exc.problems[0].message) from None
    if args.output:
        _write_output(args.output, text)
    else:
        sys.stdout.write(text)
    for note in imported.notes:
        print(f"not mapped: {note}", file=sys.stderr)
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    try:
        from nstopo.gui.app import main as gui_main
    except ImportError as exc:
        raise CliError(f"the editor cannot start: {exc}; run scripts/bootstrap") from None
    return gui_main(args.file)
