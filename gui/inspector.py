"""The inspector: edits every field of the selected node or link (or of the lab when
nothing is selected). An edit is checked against the model's own types and rules
first; an invalid one shows its message and leaves the model unchanged."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from nstopo.model.names import interface_name_problem, namespace_name_problem
from nstopo.model.problems import Problem
from nstopo.model.types import (
    BridgeNode,
    Endpoint,
    HostNode,
    Link,
    NatRule,
    NetnsNode,
    Route,
    TapNode,
    TunNode,
)
from nstopo.model.validate import validate
from pydantic import TypeAdapter, ValidationError
from PySide6.QtCore import Signal
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from . import netemform
from .commandfields import add_command_fields, command_changes
from .commands import RenameNode, SetLab, SetLink, SetNode
from .document import Document
from .elided import ElidedLabel

NONE = "(none)"
HOST = "(host)"
# The syntax of the free-text fields: shown greyed in an empty field, and as tooltip.
HINTS = {
    "routes": (
        "default via 10.77.0.1, 10.9.0.0/16 dev eth0",
        "Routes, separated by commas: TO [via GATEWAY] [dev INTERFACE] [metric N]\n"
        "TO is a prefix (10.9.0.0/16) or default.",
    ),
    "sysctls": (
        "net.ipv4.ip_forward=1",
        "Sysctls of this namespace, separated by commas: key=value\n"
        "e.g. net.ipv4.ip_forward=1, net.ipv6.conf.all.disable_ipv6=1",
    ),
    "addresses": (
        "10.77.0.1/24, fd00::1/64",
        "Addresses with their prefix length (CIDR), separated by commas",
    ),
    "nat": (
        "10.50.0.0/24, 10.60.0.0/24 out wan0",
        "Masquerade these sources when they leave this node, separated by commas:\n"
        "SOURCE [out INTERFACE] (nftables, in the node; on the host in the lab's own table)",
    ),
    "mac": ("02:00:00:00:00:01", "A MAC address; empty: the kernel picks one"),
    "subnet": (
        "10.77.0.0/16",
        "The pool new links take their addresses from (empty: no automatic addresses)",
    ),
}


def parse_list(text: str) -> tuple[str, ...]:
    return tuple(part for part in re.split(r"[,\s]+", text.strip()) if part)


def parse_sysctls(text: str) -> dict[str, int | str]:
    out: dict[str, int | str] = {}
    for item in filter(None, (x.strip() for x in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f'"{item}" is not key=value')
        out[key.strip()] = int(value) if value.strip().isdigit() else value.strip()
    return out


def format_sysctls(sysctls: Any) -> str:
    return ", ".join(f"{k}={v}" for k, v in sysctls.items())


def parse_routes(text: str) -> tuple[Route, ...]:
    routes = []
    for item in filter(None, (x.strip() for x in text.split(","))):
        words = item.split()
        fields: dict[str, Any] = {"to": words[0]}
        for key, value in zip(words[1::2], words[2::2], strict=False):
            if key not in ("via", "dev", "metric"):
                raise ValueError(f'"{key}" in route "{item}"; use: TO [via GW] [dev IF] [metric N]')
            fields[key] = int(value) if key == "metric" else value
        routes.append(Route(**fields))
    return tuple(routes)


def format_routes(routes: tuple[Route, ...]) -> str:
    def one(r: Route) -> str:
        words = [r.to, *(["via", r.via] if r.via else []), *(["dev", r.dev] if r.dev else [])]
        return " ".join(words + (["metric", str(r.metric)] if r.metric is not None else []))

    return ", ".join(one(r) for r in routes)


def parse_nat(text: str) -> tuple[NatRule, ...]:
    rules = []
    for item in filter(None, (x.strip() for x in text.split(","))):
        words = item.split()
        if len(words) == 1:
            rules.append(NatRule(source=words[0]))
        elif len(words) == 3 and words[1] == "out":
            rules.append(NatRule(source=words[0], out=words[2]))
        else:
            raise ValueError(f'nat "{item}": use SOURCE [out INTERFACE] (10.50.0.0/24 out wan0)')
    return tuple(rules)


def format_nat(rules: tuple[NatRule, ...]) -> str:
    return ", ".join(r.source + (f" out {r.out}" if r.out else "") for r in rules)


class Inspector(QWidget):
    """Committing a field (Return, or leaving it) keeps what is inspected and the focus
    where they were: the scene may replace the edited item (and drop its selection)
    while the edit is applied, so the inspector holds on to its subject meanwhile and
    asks for it to be selected again (`subject_kept`); keys typed next stay here
    instead of reaching the canvas's shortcuts."""

    subject_kept = Signal(str, str)  # ("node", name) | ("link", id): select it again

    def __init__(self, doc: Document) -> None:
        super().__init__()
        self.doc = doc
        self.subject: tuple[str, str] | None = None  # ("node", name) | ("link", id) | None
        self._committing = False
        self.fields: dict[str, QWidget] = {}
        self.checked: list[Problem] | None = None
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d93025;")
        self.title = ElidedLabel()
        title_font = self.title.font()  # a font, not a style sheet: colors follow the desktop
        title_font.setBold(True)
        title_font.setPointSizeF(11)
        self.title.setFont(title_font)
        self.form = QFormLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.show_subject(None)

    # -- building the form ----------------------------------------------------------------
    def show_subject(self, subject: tuple[str, str] | None) -> None:
        if self._committing:
            return  # the selection flickers while an edit replaces items: hold on
        focus = self.window().focusWidget()
        if subject == self.subject and focus is not None and self.isAncestorOf(focus):
            return  # the same thing, being edited: rebuilding the form would drop the focus
        self._show(subject)

    def _push(
        self,
        command: QUndoCommand,
        after: tuple[str, str] | None = None,
        checked: list[Problem] | None = None,
    ) -> None:
        """Apply an edit, then show `after` (default: the same subject, whose form
        stays as it is, the focus in the field that was being edited)."""
        subject = after or self.subject
        self._committing = True
        try:
            self.doc.push(command, checked)
        finally:
            self._committing = False
        if subject is not None:
            if subject != self.subject:  # renamed: the same form, under the new name
                self.subject = subject
                self.title.setText(f"{self.doc.topology.node(subject[1]).kind} {subject[1]}")
            self.subject_kept.emit(*subject)

    def _show(self, subject: tuple[str, str] | None) -> None:
        self.subject = subject
        self.error.clear()
        while self.form.rowCount():
            self._drop_row(self.form.takeRow(0))
        self.fields = {}
        topo = self.doc.topology
        if subject is None:
            self.title.setText("Lab")
            self._line("name", topo.name, self._apply_lab)
            self._line("subnet", topo.subnet or "", self._apply_lab)
        elif subject[0] == "node" and subject[1] in topo:
            self._node_form(subject[1])
        elif subject[0] == "link" and topo.has_link(subject[1]):
            self._link_form(subject[1])
        else:
            self._show(None)

    @staticmethod
    def _drop_row(row: QFormLayout.TakeRowResult) -> None:
        """Widgets of the old form go on the next loop turn, silenced and unnamed: the
        form is rebuilt from inside a field's own editingFinished (a focus-out after a
        rename), and deleting that field at once crashed Qt."""
        for item in (row.labelItem, row.fieldItem):
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.blockSignals(True)
                widget.setObjectName("")
                widget.hide()
                widget.deleteLater()

    def _line(self, key: str, text: str, apply: Any, label: str | None = None) -> QLineEdit:
        edit = QLineEdit(text)
        edit.setObjectName(key)
        hint = HINTS.get(key.split(".")[-1])
        if hint is not None:
            edit.setPlaceholderText(hint[0])
            edit.setToolTip(hint[1])
        edit.editingFinished.connect(apply)
        self.form.addRow(label or key, edit)
        self.fields[key] = edit
        return edit

    def _combo(self, key: str, options: list[str], current: str, apply: Any) -> QComboBox:
        box = QComboBox()
        box.setObjectName(key)
        box.addItems(options)
        box.setCurrentText(current)
        box.currentTextChanged.connect(lambda _: apply())
        self.form.addRow(key, box)
        self.fields[key] = box
        return box

    def _spin(self, key: str, value: int | None, apply: Any) -> QSpinBox:
        spin = QSpinBox()
        spin.setObjectName(key)
        spin.setRange(0, 65535)
        spin.setSpecialValueText("default")
        spin.setValue(value or 0)
        spin.editingFinished.connect(apply)
        self.form.addRow(key, spin)
        self.fields[key] = spin
        return spin

    def _node_form(self, name: str) -> None:
        value = self.doc.topology.node(name)
        self.title.setText(f"{value.kind} {name}")
        apply = self._apply_node
        self._line("name", name, apply)
        if isinstance(value, NetnsNode):
            self._combo("loopback", ["up", "down"], value.loopback, apply)
            self._line("sysctls", format_sysctls(value.sysctls), apply)
            add_command_fields(self.form, self.fields, value, apply)
        if isinstance(value, NetnsNode | HostNode):
            self._line("routes", format_routes(value.routes), apply)
            self._line("nat", format_nat(value.nat), apply)
        if isinstance(value, BridgeNode | TapNode | TunNode):
            spaces = [HOST, *(n for n, v in self.doc.topology.nodes() if isinstance(v, NetnsNode))]
            self._combo("namespace", spaces, value.namespace or HOST, apply)
            self._line("addresses", ", ".join(value.addresses), apply)
            if not isinstance(value, TunNode):
                self._line("mac", value.mac or "", apply)
            self._spin("mtu", value.mtu, apply)
            self._combo("state", ["up", "down"], value.state, apply)
        if isinstance(value, TapNode):
            bridges = [
                NONE,
                *(n for n, v in self.doc.topology.nodes() if isinstance(v, BridgeNode)),
            ]
            self._combo("bridge", bridges, value.bridge or NONE, apply)

    def _link_form(self, lid: str) -> None:
        link = self.doc.topology.link(lid)
        a, b = link.endpoints
        self.title.setText(f"veth {a.short} ↔ {b.short}")
        apply = self._apply_link
        for tag, ep in (("a", a), ("b", b)):
            self._line(f"{tag}.interface", ep.interface, apply, f"{ep.node} interface")
            self._line(f"{tag}.addresses", ", ".join(ep.addresses), apply, f"{ep.node} addresses")
            self._line(f"{tag}.mac", ep.mac or "", apply, f"{ep.node} mac")
        self._spin("mtu", link.mtu, apply)
        self._combo("state", ["up", "down"], link.state, apply)
        netemform.add_grid(self.form, self.fields, link, apply)

    def _text(self, key: str) -> str:
        widget = self.fields[key]
        if isinstance(widget, QLineEdit):
            return widget.text().strip()
        if isinstance(widget, QComboBox):
            return widget.currentText()
        assert isinstance(widget, QSpinBox)
        return str(widget.value())

    # -- applying -------------------------------------------------------------------------
    def _apply_lab(self) -> None:
        name, subnet = self._text("name"), self._text("subnet") or None
        topo = self.doc.topology
        if (name, subnet) == (topo.name, topo.subnet):
            return
        candidate = topo.copy()
        candidate.set_lab(name=name, subnet=subnet)
        if self._refused(candidate, ("name",), ("subnet",)):
            return
        self._push(SetLab(self.doc, name, subnet), checked=self.checked)

    def _apply_node(self) -> None:
        assert self.subject is not None
        name = self.subject[1]
        old = self.doc.topology.node(name)
        new_name = self._text("name")
        try:
            changes: dict[str, Any] = {}
            if isinstance(old, NetnsNode):
                changes["loopback"] = self._text("loopback")
                changes["sysctls"] = parse_sysctls(self._text("sysctls"))
                changes.update(command_changes(self.fields, old))
            if isinstance(old, NetnsNode | HostNode):
                changes["routes"] = parse_routes(self._text("routes"))
                changes["nat"] = parse_nat(self._text("nat"))
            if isinstance(old, BridgeNode | TapNode | TunNode):
                namespace = self._text("namespace")
                changes["namespace"] = None if namespace == HOST else namespace
                changes["addresses"] = parse_list(self._text("addresses"))
                if not isinstance(old, TunNode):
                    changes["mac"] = self._text("mac") or None
                changes["mtu"] = int(self._text("mtu")) or None
                changes["state"] = self._text("state")
            if isinstance(old, TapNode):
                bridge = self._text("bridge")
                changes["bridge"] = None if bridge == NONE else bridge
            new = _checked(type(old), {**dataclasses.asdict(old), **changes})
        except (ValueError, TypeError) as exc:
            self.error.setText(str(exc))
            return
        if new_name != name:
            self._rename(name, new_name, old)
            return
        if new == old:
            self.error.clear()
            return
        candidate = self.doc.topology.copy()
        candidate.set_node(name, new)
        if self._refused(candidate, ("nodes", name)):
            return
        self._push(SetNode(self.doc, name, new), checked=self.checked)

    def _rename(self, old: str, new: str, value: Any) -> None:
        device = isinstance(value, BridgeNode | TapNode | TunNode)
        problem = (interface_name_problem if device else namespace_name_problem)(new)
        if problem or new in self.doc.topology:
            self.error.setText(f'"{new}" {problem or "is already the name of another node"}')
            return
        self._push(RenameNode(self.doc, old, new), ("node", new))

    def _apply_link(self) -> None:
        assert self.subject is not None
        lid = self.subject[1]
        old = self.doc.topology.link(lid)
        try:
            ends = []
            for tag, ep in zip(("a", "b"), old.endpoints, strict=True):
                ends.append(
                    Endpoint(
                        ep.node,
                        self._text(f"{tag}.interface"),
                        parse_list(self._text(f"{tag}.addresses")),
                        self._text(f"{tag}.mac") or None,
                    )
                )
            new = _checked(
                Link,
                {
                    "endpoints": [dataclasses.asdict(e) for e in ends],
                    "mtu": int(self._text("mtu")) or None,
                    "state": self._text("state"),
                },
            )
            new = netemform.with_impairments(old, new, self._text)
        except (ValueError, TypeError) as exc:
            self.error.setText(str(exc))
            return
        if new == old:
            self.error.clear()
            return
        candidate = self.doc.topology.copy()
        candidate.set_link(lid, new)
        index = self.doc.topology.link_index(lid)
        if self._refused(candidate, ("links", index)):
            return
        self._push(SetLink(self.doc, lid, new), checked=self.checked)

    def _refused(self, candidate: Any, *paths: tuple) -> bool:
        """Refuse an edit that adds an error about this item; show why."""
        before = {p.message for p in self.doc.problems() if p.is_error}
        self.checked = validate(candidate)  # the document's problems once it is applied
        for problem in self.checked:
            if (
                problem.is_error
                and problem.message not in before
                and any(problem.path[: len(path)] == path for path in paths)
            ):
                self.error.setText(problem.message)
                return True
        self.error.clear()
        return False


def _checked(kind: type, data: dict[str, Any]) -> Any:
    """A model value built through the same checks as a file (types, ranges, keys)."""
    try:
        return TypeAdapter(kind).validate_python(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ValueError(f"{where}: {first['msg']}") from None
