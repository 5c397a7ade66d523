"""The running lab behind the open document, as the helper reports it.

Holds what was deployed (read back from the helper, so a restarted editor or helper
re-syncs), the live state of every interface from `link.changed`/`addr.changed`, the
pending changes (the helper's own plan for the document), and the last error.
Deploy, Apply and Destroy are asynchronous calls; nothing here blocks the UI.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from nstopo.model.live import (
    Changes,
    InterfaceKey,
    Owner,
    changes_since,
    describe_owner,
    drift,
    interface_owners,
    owner_of_step,
)
from nstopo.model.schema import to_document, topology_from_document
from nstopo.model.topology import ChangeSet, Topology
from nstopo.protocol.upload import needs_upload, upload_parts
from PySide6.QtCore import QObject, QTimer, Signal

from .connection import CallError, HelperConnection
from .document import Document

PLAN_DELAY_MS = 150  # edits come in bursts (a drag, typing): plan once they pause
COUNTER_INTERVAL = 1.0


class LiveSession(QObject):
    changed = Signal()  # running/deployed/pending/busy changed
    interface_changed = Signal(object, str)  # namespace (None: host), interface name
    progress = Signal(int, int, str)  # step index, total, its command
    counters = Signal(float, object)  # time, [{"namespace", "name", "rx_bytes", ...}]
    error = Signal(str, object)  # message, the Owner it concerns (or None)
    notification = Signal(str, object)  # the other streams (ping, capture) of this lab

    def __init__(self, doc: Document, connection: HelperConnection) -> None:
        super().__init__()
        self.doc, self.connection = doc, connection
        self.lab = doc.topology.name
        self.running = False
        self.deployed: Topology | None = None
        self.links: dict[InterfaceKey, dict[str, Any]] = {}
        self.addresses: dict[InterfaceKey, set[str]] = {}
        self.pending_steps: list[dict[str, Any]] = []
        self._plans = 0  # plan requests made: only the last one's answer is shown
        self.pending_problem = ""  # why there is no plan (invalid document, ...)
        self.busy = ""  # "Deploying", "Applying", "Destroying" while a call runs
        self.startup: list[dict[str, Any]] = []  # the last apply's exec: results
        self.last_error: tuple[str, Owner | None] | None = None
        self.owners: dict[InterfaceKey, Owner] = interface_owners(doc.topology)
        self._changes: Changes | None = None
        self._counting: str | None = None  # the lab whose counters stream to us
        self._deployed_owners: dict[InterfaceKey, Owner] | None = None
        self._plan_timer = QTimer(self)
        self._plan_timer.setSingleShot(True)
        self._plan_timer.setInterval(PLAN_DELAY_MS)
        self._plan_timer.timeout.connect(self.request_plan)
        doc.edited.connect(self._document_changed)
        doc.problemsChanged.connect(self.changed)
        connection.notification.connect(self._notified)
        connection.ready.connect(self.resync)
        connection.lost.connect(self._lost)
        if connection.is_ready:
            self.resync()

    def detach(self) -> None:
        """Stop following the connection and the document (another document is shown)."""
        self._plan_timer.stop()
        if self._counting is not None:
            self.connection.call("counters.unsubscribe")
        self.doc.edited.disconnect(self._document_changed)
        self.doc.problemsChanged.disconnect(self.changed)
        self.connection.notification.disconnect(self._notified)
        self.connection.ready.disconnect(self.resync)
        self.connection.lost.disconnect(self._lost)

    # -- state ---------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self.connection.is_ready

    def changes(self) -> Changes | None:
        """What the document changed since the deploy (None: nothing deployed)."""
        if self.deployed is None:
            return None
        if self._changes is None:
            self._changes = changes_since(self.deployed, self.doc.topology)
        return self._changes

    @property
    def deployed_owners(self) -> dict[InterfaceKey, Owner]:
        """The interfaces the running lab should have (from the deployed topology)."""
        if self._deployed_owners is None:
            self._deployed_owners = interface_owners(self.deployed) if self.deployed else {}
        return self._deployed_owners

    def drift_of(self, key: InterfaceKey) -> list[str]:
        """How the kernel's interface differs from what was deployed (empty: it matches)."""
        owner = self.deployed_owners.get(key)
        if owner is None or self.deployed is None or not self.connected:
            return []
        return drift(self.deployed, owner, self.links.get(key), self.addresses.get(key, set()))

    def drifts(self) -> list[str]:
        """Every difference between the kernel and the deployed lab, one line each."""
        if not self.running or self.deployed is None:
            return []
        lines = []
        for key, owner in self.deployed_owners.items():
            found = self.drift_of(key)
            if found:
                lines.append(f"{describe_owner(self.deployed, owner)}: {'; '.join(found)}")
        return sorted(lines)

    def _document_changed(self, changes: ChangeSet) -> None:
        if changes.positions_only:
            return  # nothing the kernel, the plan or the interface map cares about
        self._changes = None
        self.owners = interface_owners(self.doc.topology)
        if self.doc.topology.name != self.lab:  # renamed: a different lab
            self.lab = self.doc.topology.name
            self.resync()
            return
        if self.running:
            self._plan_timer.start()
        # `changed` follows with the document's problemsChanged (once per event-loop
        # turn): the panels listening read the validation, which is computed then.

    def _lost(self) -> None:
        self._counting = None
        self.links.clear()
        self.addresses.clear()
        self.busy = ""
        self.changed.emit()

    # -- re-sync -------------------------------------------------------------------------------
    def resync(self) -> None:
        """Ask the helper what runs under this lab's name, then stream its state."""
        lab = self.lab
        self.links.clear()
        self.addresses.clear()
        # Its own lab only, running or not: the helper streams it from its next apply.
        self.connection.call("events.subscribe", {"lab": lab})
        self.connection.call(
            "lab.topology",
            {"lab": lab},
            lambda result: self._running_as(lab, result["topology"]),
            lambda error: self._not_running(lab, error),
            owner=self,
        )

    def _running_as(self, lab: str, document: dict[str, Any]) -> None:
        if lab != self.lab:
            return
        self.running = True
        self.deployed = topology_from_document(document)
        self._deployed_owners = None
        self._changes = None
        if self._counting != lab:  # one stream per lab and connection
            if self._counting is not None:
                self.connection.call("counters.unsubscribe")
            self.connection.call("counters.subscribe", {"lab": lab, "interval": COUNTER_INTERVAL})
            self._counting = lab
        self.request_plan()
        self.changed.emit()

    def _not_running(self, lab: str, error: CallError) -> None:
        if lab != self.lab:
            return
        self.running = False
        self.deployed = None
        self._deployed_owners = None
        self._changes = None
        self._counting = None
        self.pending_steps = []
        self._plans += 1
        self.changed.emit()

    # -- the plan: what Apply would do ---------------------------------------------------------
    def request_plan(self) -> None:
        if not self.running:
            return
        self._plans += 1  # an answer to an older request (another lab state) is stale
        asked = (self.lab, self._plans)
        self._call_with_topology(
            "lab.plan",
            to_document(self.doc.topology),
            {},
            lambda result: self._planned(asked, result["steps"], ""),
            lambda error: self._planned(asked, [], error.message),
        )

    def _planned(self, asked: tuple[str, int], steps: list[dict[str, Any]], problem: str) -> None:
        if asked == (self.lab, self._plans) and self.running:
            self.pending_steps, self.pending_problem = steps, problem
            self.changed.emit()

    # -- deploy, apply, destroy ----------------------------------------------------------------
    def deploy(self) -> None:
        """Deploy (or, when running, apply the pending changes): one diff either way."""
        if self.busy:
            return
        self._start("Applying" if self.running else "Deploying")
        snapshot = to_document(self.doc.topology)
        lab = self.lab
        self._call_with_topology(
            "lab.apply",
            snapshot,
            {},
            lambda result: self._applied(lab, snapshot, result.get("exec", [])),
            self._failed,
        )

    def _call_with_topology(
        self,
        method: str,
        document: dict[str, Any],
        params: dict[str, Any],
        on_result: Callable[[Any], None],
        on_error: Callable[[CallError], None],
    ) -> None:
        """`method` with the document; one too big for a request line (a few thousand
        nodes) goes ahead in upload.part pieces, and the call follows the last one."""
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        if not needs_upload(text):
            self.connection.call(method, {**params, "topology": document}, on_result,
                                 on_error, owner=self)  # fmt: skip
            return
        name, parts = upload_parts(text)
        call = {**params, "upload": name, "upload_format": "json"}
        for part in parts[:-1]:
            self.connection.call("upload.part", part, None, on_error, owner=self)
        self.connection.call(
            "upload.part",
            parts[-1],
            lambda _: self.connection.call(method, call, on_result, on_error, owner=self),
            on_error,
            owner=self,
        )

    def destroy(self, force: bool = False) -> None:
        if self.busy or not self.running:
            return
        self._start("Destroying")
        self.connection.call(
            "lab.destroy",
            {"lab": self.lab, "force": force},
            self._destroyed,
            self._failed,
            owner=self,
        )

    def _start(self, what: str) -> None:
        self.busy = what
        self.last_error = None
        self.changed.emit()

    def _applied(
        self, lab: str, snapshot: dict[str, Any], startup: list[dict[str, Any]] | None = None
    ) -> None:
        self.busy = ""
        self.startup = startup or []
        if lab == self.lab:
            self._running_as(lab, snapshot)
        self.changed.emit()

    def _destroyed(self, result: dict[str, Any]) -> None:
        self.busy = ""
        self.running, self.deployed, self._changes = False, None, None
        self._deployed_owners = None
        self._counting = None  # the helper ended the stream with the lab
        self.pending_steps = []
        self._plans += 1
        self.links.clear()
        self.addresses.clear()
        self.changed.emit()
        for key in list(self.owners):
            self.interface_changed.emit(*key)

    def _failed(self, error: CallError) -> None:
        self.busy = ""
        owner = None
        message = error.message
        about = (
            error.data.get("step") or error.data.get("object")
            if isinstance(error.data, dict)
            else None
        )
        if isinstance(about, dict):  # a failed step, or the object that is not the lab's
            owner = owner_of_step(self.doc.topology, about)
            if "command" in about:
                message = f"{error.message} (at: {about['command']})"
        elif isinstance(error.data, list) and error.data:
            message = f"{error.message}: {error.data[0]}"
        self.last_error = (message, owner)
        self.error.emit(message, owner)
        self.changed.emit()

    # -- the helper's streams ------------------------------------------------------------------
    def _kernel_changed(self) -> None:
        """Changed outside nstopo (or by our own apply, which re-plans when it ends):
        the helper plans against the kernel as it is now, so ask again once events
        pause; Apply then offers to put the kernel back."""
        if self.running and not self.busy:
            self._plan_timer.start()

    def _notified(self, method: str, params: Any) -> None:
        if not isinstance(params, dict) or params.get("lab", self.lab) != self.lab:
            return
        if method == "link.changed":
            key = (params["namespace"], params["name"])
            if params["change"] == "del":
                self.links.pop(key, None)
                self.addresses.pop(key, None)
            else:
                self.links[key] = params
            self.interface_changed.emit(*key)
            self._kernel_changed()
        elif method == "addr.changed":
            key = (params["namespace"], params["interface"])
            found = self.addresses.setdefault(key, set())
            if params["change"] == "del":
                found.discard(params["address"])
            else:
                found.add(params["address"])
            self.interface_changed.emit(*key)
            self._kernel_changed()
        elif method == "lab.changed" and not self.busy:
            self.resync()  # applied or destroyed by another client (the CLI, another editor)
        elif method == "apply.progress":
            self.progress.emit(params["index"], params["total"], params["command"])
        elif method == "counters":
            self.counters.emit(params["time"], params["interfaces"])
        else:
            self.notification.emit(method, params)
