"""Load and save topology files: YAML with comments, key order and positions kept.

Loading goes text -> ruamel tree (positions, comments) -> pydantic (structure)
-> `Topology`; every problem found on the way names file:line:col. Saving merges the
topology back into the tree it was loaded from, entity by entity, touching only
values whose meaning changed, so hand-written comments and short forms survive.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from . import inputbudget
from .checks import Check, ExecProbe, KernelProbe, PingProbe, Scenario
from .netem import Netem
from .problems import Path, Problem, TopologyFileError, error
from .schema import FORMAT_VERSION, parse_lab, topology_from_lab
from .topology import Topology
from .types import Endpoint, NatRule, Route
from .validate import validate_lab

MAX_FILE_BYTES = 16 * 1024 * 1024


try:  # libyaml's parser with ruamel's YAML 1.2 resolver: the same values, much sooner
    _FAST = YAML(typ="safe", pure=False)
except (ImportError, AttributeError):  # pragma: no cover - no compiler for the C part
    _FAST = YAML(typ="safe", pure=True)


# Plain scalars that YAML 1.1 readers (PyYAML, yq, most tools) take for something
# other than a string, while YAML 1.2 (ruamel, nstopo) reads a string: a MAC address
# such as 52:54:00:12:34:56 is a base-60 integer there, node names on/off/yes/no are
# booleans. Written quoted, they mean the same to both.
_YAML11_NOT_STRING = re.compile(
    r"""(?x)^(?:
      y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
    | ~|null|Null|NULL|<<|=
    | [-+]?0b[01_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
    | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    | [-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)? | [-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
    | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt\ \t].*)?
    )$"""
)


class _Representer(RoundTripRepresenter):
    def represent_str(self, data: str) -> Any:
        style = '"' if _YAML11_NOT_STRING.match(data) else None
        return self.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Representer.add_representer(str, _Representer.represent_str)


def _yaml() -> YAML:
    yaml = YAML()  # round-trip mode
    yaml.Representer = _Representer
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


@dataclass
class SourceMap:
    """Finds the line and column of a path such as ("nodes", "br0", "addresses", 0)."""

    tree: Any

    def locate(self, path: Path) -> tuple[int, int] | None:
        node, pos = self.tree, _own_position(self.tree)
        for item in path:
            if isinstance(node, CommentedMap) and item in node:
                pos = node.lc.key(item)
                node = node[item]
            elif isinstance(node, CommentedSeq) and isinstance(item, int) and item < len(node):
                pos = node.lc.item(item)
                node = node[item]
            else:
                break
        return (pos[0] + 1, pos[1] + 1) if pos else None

    def place(self, problem: Problem, file: str | None) -> Problem:
        where = self.locate(problem.path)
        return problem.at(file, *(where or (None, None)))


def _own_position(node: Any) -> tuple[int, int] | None:
    lc = getattr(node, "lc", None)
    return (lc.line, lc.col) if lc is not None and lc.line is not None else None


@dataclass
class LoadedFile:
    """A topology plus what is needed to save it back faithfully and to place problems.

    The round-trip tree (comments, quoting, positions) takes ruamel's pure-Python parser
    several times longer to build than the topology itself, so it is built from `text`
    only when first needed: to save, or to place a problem at its line and column.
    """

    topology: Topology
    text: str
    file: str | None = None
    original: Topology | None = None  # the topology as the tree says it
    link_order: list[str] = field(default_factory=list)  # link ids by tree index
    problems: list[Problem] = field(default_factory=list)  # found at load, placed
    checks: tuple[Check, ...] = ()  # top-level checks: and scenarios: (model/checks.py)
    scenarios: tuple[Scenario, ...] = ()
    _tree: CommentedMap | None = None
    _merged: bool = False  # `_tree` was merged, not parsed: its line numbers are stale

    @property
    def tree(self) -> CommentedMap:
        """The tree that says `original` (to merge into; never changed by saving)."""
        if self._tree is None:
            self._tree = _parse_yaml(self.text, self.file)
        return self._tree

    @property
    def source(self) -> SourceMap:
        return SourceMap(_parse_yaml(self.text, self.file) if self._merged else self.tree)


# -- loading ---------------------------------------------------------------------------


def load(path: str | FsPath) -> LoadedFile:
    """Read a topology file. Raises TopologyFileError naming file:line:col."""
    return parse_text(read_text(path), str(path))


def read_text(path: str | FsPath, what: str = "the file") -> str:
    """A YAML file's text: readable, within the size budget, UTF-8 (else one
    TopologyFileError that says which and where; `what`: how the file is called)."""
    try:
        data = FsPath(path).read_bytes()
    except OSError as exc:
        raise TopologyFileError(
            [error("file", f"cannot read {what}: {exc.strerror or exc}; check the path")]
        ) from None
    return decode_text(data, str(path), what)


def parse_bytes(data: bytes, file: str | None = None) -> LoadedFile:
    return parse_text(decode_text(data, file), file)


def decode_text(data: bytes, file: str | None = None, what: str = "the file") -> str:
    if len(data) > MAX_FILE_BYTES:
        raise TopologyFileError(
            [error("file", f"the file is larger than {MAX_FILE_BYTES >> 20} MiB").at(file, 1, 1)]
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise TopologyFileError(
            [error("encoding", f"{what} is not UTF-8 text; save it as UTF-8").at(file, line, col)]
        ) from None


def parse_text(text: str, file: str | None = None) -> LoadedFile:
    if too_deep := inputbudget.check_yaml(text):  # before any recursive tree builder
        raise TopologyFileError(
            [error("budget", too_deep.message).at(file, *too_deep.line_col(text))]
        )
    data = _fast_data(text)
    tree = None
    if data is None:  # libyaml could not read it (or is missing): ruamel's own parser
        tree = _parse_yaml(text, file)
        data = _plain_data(tree)
    parsed = parse_lab(data)
    if isinstance(parsed, list):
        tree = tree if tree is not None else _parse_yaml(text, file)
        raise TopologyFileError([SourceMap(tree).place(p, file) for p in parsed])
    topology = topology_from_lab(parsed)
    # Link ids are positions in the file (links to missing nodes are left out of the
    # graph, so the order names every item of the file's list).
    order = [f"link-{index}" for index in range(len(parsed.links))]
    loaded = LoadedFile(topology, text, file, topology.copy(), order, _tree=tree)
    loaded.checks, loaded.scenarios = parsed.checks, parsed.scenarios  # for `nstopo test`
    # Validate the file as written: links to missing nodes never enter the graph.
    found = validate_lab(parsed)
    loaded.problems = [loaded.source.place(p, file) for p in found] if found else []
    return loaded


def _fast_data(text: str) -> dict[str, Any] | None:
    """The file's plain data through libyaml (ruamel.yaml.clib), about eight times
    faster than the round-trip parser; None when libyaml is not installed or rejects
    the text (YAML 1.1 reads some hand-written forms differently, e.g. [a:eth0]), so
    the round-trip parser decides, with its exact error positions."""
    try:
        data = _FAST.load(text)
    except Exception:  # any libyaml complaint: the slow path reports it properly
        return None
    return data if isinstance(data, dict) else None


def _parse_yaml(text: str, file: str | None) -> CommentedMap:
    try:
        tree = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = (exc.problem or exc.context or "invalid YAML").strip()
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise TopologyFileError(
            [error("yaml", f"this is not valid YAML ({what}); fix the syntax").at(file, line, col)]
        ) from None
    except YAMLError as exc:  # reader errors: control characters, bad encodings
        position = getattr(exc, "position", None)
        line, col = _line_col(text, position) if position is not None else (None, None)
        raise TopologyFileError(
            [error("yaml", f"this is not YAML text ({_first_line(exc)})").at(file, line, col)]
        ) from None
    except (ValueError, TypeError, RecursionError) as exc:  # odd constructs ruamel rejects
        raise TopologyFileError(
            [error("yaml", f"this YAML cannot be read ({_first_line(exc)})").at(file, None, None)]
        ) from None
    if not isinstance(tree, CommentedMap):
        raise TopologyFileError(
            [
                error(
                    "yaml",
                    f'a topology file is a mapping that starts with "nstopo: {FORMAT_VERSION}"; '
                    "this file is not",
                ).at(file, 1, 1)
            ]
        )
    return tree


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _plain_data(value: Any) -> Any:
    """ruamel's commented containers and scalar subclasses as plain Python values."""
    if isinstance(value, dict):
        return {_plain_data(k): _plain_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_data(v) for v in value]
    for base in (bool, int, float, str):
        if isinstance(value, base):
            return base(value)
    return value


# -- saving ----------------------------------------------------------------------------


def dumps(
    topology: Topology, base: LoadedFile | None = None, checks: tuple[Check, ...] | None = None
) -> str:
    """The file text for `topology`, merged into `base`'s tree when given; `checks`: the
    top-level checks: as the editor has them now (None: as `base` has them).

    Pure: `base` is not changed (the merge works on fresh containers that share the
    untouched parts of its tree), so any number of calls (autosave, the commands
    panel) can come before a save."""
    return _dump(_merged(topology, base, checks))


def _dump(tree: CommentedMap) -> str:
    out = io.StringIO()
    _yaml().dump(tree, out)
    return out.getvalue()


def save(
    topology: Topology,
    path: str | FsPath,
    base: LoadedFile | None = None,
    checks: tuple[Check, ...] | None = None,
) -> LoadedFile:
    """Write atomically; returns the new base for the next save (the given one is left
    as it was). Raises OSError (permission, disk full): the file is then unchanged."""
    tree = _merged(topology, base, checks)
    text = _dump(tree)
    target = FsPath(path)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(target)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    written = base.checks if checks is None and base is not None else checks or ()
    kept = base.scenarios if base is not None else ()
    return saved_base(topology, text, str(path), tree, written, kept)


def saved_base(
    topology: Topology,
    text: str,
    file: str | None,
    tree: CommentedMap | None = None,
    checks: tuple[Check, ...] = (),
    scenarios: tuple[Scenario, ...] = (),
) -> LoadedFile:
    """The base for the next save after `text` was written for `topology` and `checks`:
    the file's tree (`tree`, when the caller has it: it dumps to `text`) says exactly
    `topology`, link by link in its order, under its link ids."""
    said = topology.copy()
    return LoadedFile(
        said, text, file, said, said.link_ids(), checks=checks, scenarios=scenarios,
        _tree=tree, _merged=tree is not None,
    )  # fmt: skip


def _merged(
    new: Topology, base: LoadedFile | None, checks: tuple[Check, ...] | None = None
) -> CommentedMap:
    old = base.original if base is not None else None
    tree = _fresh_map(base.tree) if base is not None else CommentedMap()
    if "nstopo" not in tree:
        tree.insert(0, "nstopo", FORMAT_VERSION)
    if old is None or old.name != new.name or "name" not in tree:
        _set(tree, "name", new.name, position=1)
    if old is None or old.subnet != new.subnet:
        _set(tree, "subnet", new.subnet, position=2)
    nodes = tree.get("nodes")
    tree["nodes"] = _merge_nodes(nodes if isinstance(nodes, CommentedMap) else None, old, new)
    _merge_links(tree, base, new)
    if checks is not None:
        _merge_checks(tree, base.checks if base is not None else (), checks)
    return tree


def _merge_checks(tree: CommentedMap, old: tuple[Check, ...], new: tuple[Check, ...]) -> None:
    """The top-level checks: saying `new`, from the list that says `old`: checks the
    editor did not change keep their text and comments."""
    if new == old:
        return
    seq = tree.get("checks")
    if not new:
        tree.pop("checks", None)
    elif isinstance(seq, CommentedSeq) and len(seq) == len(old):
        tree["checks"] = seq = _fresh_seq(seq)
        _merge_items(seq, old, new)
    else:
        tree["checks"] = to_yaml(new)


def _merge_nodes(nodes: CommentedMap | None, old: Topology | None, new: Topology) -> CommentedMap:
    """The nodes mapping for `new`, from the one that says `old`: a node keeps its
    entry (place, comments, forms) when it is the same node, found by identity (so a
    renamed node keeps its place) or, for a node added again, by name."""
    if nodes is None or old is None:
        return CommentedMap((name, to_yaml(value)) for name, value in new.nodes())
    by_uid = {old.node_uid(name): name for name in old.node_names()}
    new_uids = {new.node_uid(name) for name in new.node_names()}
    source: dict[str, str] = {}  # new name -> the key of its entry in `nodes`
    for name in new.node_names():
        was = by_uid.get(new.node_uid(name))
        if was is None and name in old and old.node_uid(name) not in new_uids:
            was = name  # removed, then added again under its name
        if was is not None and was in nodes:
            source[name] = was
    renamed = {was: name for name, was in source.items()}
    out = CommentedMap()
    nodes.copy_attributes(out, memo={})  # comments, flow style: copies, not shared
    comments = dict(out.ca.items)
    out.ca.items.clear()
    for key, entry in nodes.items():
        if key in renamed:
            out[renamed[key]] = entry
            if key in comments:
                out.ca.items[renamed[key]] = comments[key]
    for name, value in new.nodes():
        previous = old.node(source[name]) if name in source else None
        if previous is not None and type(previous) is type(value):
            if previous != value:
                out[name] = entry = _fresh_map(out[name])
                _merge_entity(entry, previous, value)
        else:
            out[name] = to_yaml(value)
    return out


def _merge_links(tree: CommentedMap, base: LoadedFile | None, new: Topology) -> None:
    old = base.original if base is not None else None
    order = base.link_order if base is not None else []
    seq = tree.get("links")
    if not new.link_ids():
        tree.pop("links", None)
        return
    if not isinstance(seq, CommentedSeq) or old is None or len(seq) != len(order):
        tree["links"] = CommentedSeq(to_yaml(link) for _, link in new.links())
        return
    seq = tree["links"] = _fresh_seq(seq)
    new_ids = new.link_ids()
    present = set(new_ids)
    kept = [lid for lid in order if lid in present]
    for index in reversed(range(len(order))):
        if order[index] not in present:
            del seq[index]
    if new_ids[: len(kept)] != kept:  # reordered: rebuild, comments on items may move
        old_items = dict(zip(kept, seq, strict=True))
        seq.clear()
        seq.extend(old_items.get(lid, to_yaml(link)) for lid, link in new.links())
        kept = [lid for lid in new_ids if lid in old_items]
    for index, lid in enumerate(new_ids):
        link = new.link(lid)
        if index < len(kept) and kept[index] == lid:
            previous = old.link(lid)
            if previous == link:
                continue
            if isinstance(seq[index], CommentedMap):
                seq[index] = _fresh_map(seq[index])
                _merge_entity(seq[index], previous, link)
            else:
                seq[index] = to_yaml(link)
        else:
            seq.append(to_yaml(link))


def _fresh_map(mapping: CommentedMap) -> CommentedMap:
    """A new mapping with the same entries and copies of its comments and format, so
    changing it leaves the original (the loaded file's tree) as it was."""
    out = CommentedMap()
    for key, value in mapping.items():
        out[key] = value
    mapping.copy_attributes(out, memo={})
    return out


def _fresh_seq(seq: CommentedSeq) -> CommentedSeq:
    out = CommentedSeq(seq)
    seq.copy_attributes(out, memo={})
    return out


def _merge_entity(target: Any, old: Any, new: Any) -> None:
    """Update the YAML mapping `target` (which says `old`) so that it says `new`."""
    for f in dataclasses.fields(new):
        before, after = getattr(old, f.name), getattr(new, f.name)
        if before == after:
            continue  # untouched: keep its text, comments and form as written
        if f.name in getattr(new, "yaml_keys", {}):
            _set(target, _yaml_key(new, f.name), to_yaml(after))
        elif _default(f) == after:
            target.pop(f.name, None)
        elif (
            isinstance(after, tuple)
            and isinstance(before, tuple)
            and isinstance(target.get(f.name), CommentedSeq)
            and after
            and dataclasses.is_dataclass(after[0])
        ):
            target[f.name] = _fresh_seq(target[f.name])
            _merge_items(target[f.name], before, after)
        else:
            _set(target, f.name, to_yaml(after))


def _merge_items(seq: CommentedSeq, before: tuple, after: tuple) -> None:
    del seq[len(after) :]
    for index, value in enumerate(after):
        if index >= len(seq):
            seq.append(to_yaml(value))
        elif index < len(before) and before[index] == value:
            continue
        elif isinstance(seq[index], CommentedMap) and index < len(before):
            seq[index] = _fresh_map(seq[index])
            _merge_entity(seq[index], before[index], value)
        else:
            seq[index] = to_yaml(value)


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _set(tree: CommentedMap, key: str, value: Any, position: int | None = None) -> None:
    if value is None:
        tree.pop(key, None)
    elif key in tree or position is None:
        tree[key] = value
    else:
        tree.insert(min(position, len(tree)), key, value)


_ONE_LINE = (Endpoint, Route, Netem, NatRule, PingProbe, KernelProbe, ExecProbe)


def to_yaml(value: Any) -> Any:
    """A model value as YAML nodes in the file's shortest readable form."""
    if (
        isinstance(value, Endpoint)
        and not value.addresses
        and value.mac is None
        and value.netem is None
    ):
        # Quoted: YAML 1.1 readers (libyaml, PyYAML, yq) reject `[a:eth0]` in flow style.
        return DoubleQuotedScalarString(value.short)
    if isinstance(value, NatRule) and value.out is None:
        return value.source  # the short form, `nat: [10.50.0.0/24]`
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)  # a firewall ruleset reads best as a block
    if dataclasses.is_dataclass(value):
        out = CommentedMap()
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.name == "kind" or (item is not None and item != _default(f)):
                out[_yaml_key(value, f.name)] = to_yaml(item)
        if isinstance(value, _ONE_LINE):  # small records
            out.fa.set_flow_style()
        return out
    if isinstance(value, tuple | list):
        seq = CommentedSeq(to_yaml(v) for v in value)
        if _all_scalar(seq):
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, dict):
        mapping = CommentedMap((k, to_yaml(v)) for k, v in value.items())
        mapping.fa.set_flow_style()
        return mapping
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _yaml_key(value: Any, name: str) -> str:
    """The key a field has in files (NatRule's `source` is written `from`)."""
    return getattr(value, "yaml_keys", {}).get(name, name)


def _all_scalar(values: Any) -> bool:
    return all(not isinstance(v, dict | list) for v in values)
