"""Labs on the kernel: apply (diff, ownership checks, rollback), destroy, status.

Ownership (design.md §4, contract): the helper changes or deletes only objects that
are both recorded in the registry for the lab and tagged in the kernel. Everything
a plan would touch is checked before the first change.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import pwd
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nstopo.model import nftables
from nstopo.model import steps as s
from nstopo.model.plan import Plan, diff_states
from nstopo.model.problems import TopologyFileError
from nstopo.model.schema import to_document, topology_from_document
from nstopo.model.simulate import advance, copy_state
from nstopo.model.state import KernelState, kernel_state
from nstopo.model.topology import Topology
from nstopo.model.validate import validate
from nstopo.model.yamlfile import parse_text
from nstopo.protocol.errors import ErrorCode, RpcError

from . import hostpolicy, kernelnow, qdiscsync, repair
from .forwarding import HostForwarding
from .hostpolicy import HostView
from .realizer import Realizer, tag_for
from .registry import LabRecord, Registry
from .rtnl import LinkInfo

Progress = Callable[[dict[str, Any]], None]
log = logging.getLogger("nstopo.helper")


_CODES = {
    "invalid": ErrorCode.TOPOLOGY_INVALID,
    "not-owned": ErrorCode.NOT_OWNED,
    "step-failed": ErrorCode.STEP_FAILED,
    "no-such-lab": ErrorCode.NO_SUCH_LAB,
}


class LabError(RpcError):
    """A refusal or failure to report to the client: the protocol's error, its code
    following from `kind`."""

    def __init__(self, kind: str, message: str, data: Any = None) -> None:
        super().__init__(_CODES.get(kind, ErrorCode.INTERNAL_ERROR), message, data)
        self.kind = kind


@dataclass
class ApplyResult:
    lab: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    changed: bool = False
    elapsed_ms: float = 0.0  # time spent in the helper, plan to last step


class LabService:
    def __init__(self, realizer: Realizer, registry: Registry, shared: bool = False) -> None:
        self.realizer, self.registry = realizer, registry
        self.shared = shared  # --share-labs: every group member may change every lab
        self._registry_lock = threading.Lock()
        self._lab_locks: dict[str, threading.Lock] = {}
        self._running: dict[str, KernelState] = {}  # what each lab's kernel state is
        # Run first by every destroy (procs.py: the commands nstopo started end first).
        self.before_destroy: list[Callable[[LabRecord], object]] = []
        self.forwarding = HostForwarding(registry)

    def _lock_for(self, lab: str) -> threading.Lock:
        with self._registry_lock:
            return self._lab_locks.setdefault(lab, threading.Lock())

    def _save(self) -> None:
        with self._registry_lock:
            self.registry.save()

    # -- plan ---------------------------------------------------------------------------
    def running_topology(self, lab: str) -> Topology:
        """The topology a running lab was last applied with."""
        record = self.registry.labs.get(lab)
        if record is None or record.topology is None:
            raise LabError(
                "no-such-lab",
                f'there is no running lab "{lab}"; nstopo status lists the running ones',
            )
        return topology_from_document(record.topology)

    def plan(self, topology: Topology) -> Plan:
        """What apply would do, refused as apply would refuse it (ownership)."""
        _check_valid(topology)
        desired = kernel_state(topology)
        before = qdiscsync.with_kernel_qdiscs(
            self.realizer, self._current_state(topology.name), desired
        )
        plan = diff_states(before, desired)
        record = self.registry.labs.get(topology.name) or LabRecord(topology.name, owner_uid=0)
        self._check_ownership(record, plan)
        return plan

    def _current_state(self, lab: str) -> KernelState:
        """The kernel state of a running lab, from memory or (after a restart) the
        registry, minus what was removed by hand (so apply rebuilds it)."""
        state = self._running.get(lab)
        record = self.registry.labs.get(lab)
        if state is None:
            topology = Topology()
            if record is not None and record.topology is not None:
                topology = topology_from_document(record.topology)
            state = self._running[lab] = kernel_state(topology)
        if record is None or (not state.namespaces and not record.host_devices):
            return state
        missing_ns = {n for n in state.namespaces if not (self.realizer.run_dir / n).exists()}
        host = {link.name for link in self.realizer.links_in(None)}
        missing_host = {name for ns, name in state.devices if ns is None and name not in host}
        if missing_ns or missing_host:
            state = self._running[lab] = repair.without(state, missing_ns, missing_host)
        # What was changed by hand inside what is left (a link set down, an address
        # or a veth removed): read the kernel now, so the diff puts it back.
        spaces: list[str | None] = list(state.namespaces)
        if any(ns is None for ns, _ in state.devices) or any(ns is None for ns, _ in state.routes):
            spaces.append(None)
        return kernelnow.as_observed(state, self.realizer.observe(spaces))

    def _settle_interrupted(self, lab: str, uid: int) -> None:
        """An apply the helper did not finish (it died): how far it got is unknown, so
        what it left, recorded and tagged, is removed first; this apply starts over."""
        record = self.registry.labs.get(lab)
        if record is None or record.topology is not None:
            return
        self._check_may_change(record, uid)
        self._destroy_locked(record, force=False)

    # -- apply --------------------------------------------------------------------------
    def apply(
        self, topology: Topology, uid: int, dry_run: bool = False, progress: Progress | None = None
    ) -> ApplyResult:
        lab = topology.name
        started = time.perf_counter()
        with self._lock_for(lab):
            _check_valid(topology)
            if not dry_run:
                self._settle_interrupted(lab, uid)
            desired = kernel_state(topology)
            before = qdiscsync.with_kernel_qdiscs(self.realizer, self._current_state(lab), desired)
            plan = diff_states(before, desired)
            result = ApplyResult(lab, [step.to_dict() for step in plan], bool(len(plan)))
            record = self.registry.labs.get(lab) or LabRecord(lab, owner_uid=uid)
            self._check_may_change(record, uid)
            self._check_ownership(record, plan)  # a dry run refuses what apply refuses
            if dry_run or not len(plan):
                result.elapsed_ms = (time.perf_counter() - started) * 1000
                return result
            previous = _copy_record(record)
            reached = copy_state(before)
            steps = list(plan)

            def done(index: int) -> None:
                advance(reached, steps[index])
                if progress:
                    progress(
                        {
                            "lab": lab,
                            "index": index,
                            "total": len(steps),
                            "command": steps[index].command(),
                        }
                    )

            try:
                self._record_pending(record, plan)
                failures = self.realizer.realize(steps, lab, done)
                if failures:
                    failed = failures[0]
                    raise LabError(
                        "step-failed",
                        f"step {failed.index + 1} of {len(steps)} failed: "
                        f"{failed}; nothing of this apply was kept",
                        {"step": failed.step.to_dict(), "index": failed.index},
                    )
                if None in reached.rulesets:
                    self.forwarding.need(lab)
                else:
                    self.forwarding.release(lab)
                self._record_applied(record, topology, reached)
            except BaseException as exc:
                # Whatever failed (a step, EMFILE, ENOSPC writing the registry, a bug):
                # nothing of this apply is kept.
                _restore(record, previous)
                self._roll_back(record, reached, before)
                if isinstance(exc, LabError):
                    raise
                if not isinstance(exc, Exception):
                    raise
                raise LabError(
                    "step-failed",
                    f"the apply failed: {_reason(exc)}; nothing of this apply was kept",
                    {"step": None, "index": None},
                ) from None
            result.elapsed_ms = (time.perf_counter() - started) * 1000
            return result

    def _check_may_change(self, record: LabRecord, uid: int) -> None:
        """A lab belongs to the user who created it: others may read it, only root and
        its owner may change or destroy it (unless the helper runs with --share-labs)."""
        if self.shared or uid == 0 or uid == record.owner_uid:
            return
        raise LabError(
            "not-owned",
            f'lab "{record.name}" belongs to user {_user_name(record.owner_uid)}; only they '
            "and root may change or destroy it",
        )

    def _check_ownership(self, record: LabRecord, plan: Plan) -> None:
        """Refuse, before any change, a plan that would touch what is not ours."""
        created_ns = {step.name for step in plan if isinstance(step, s.AddNetns)}
        created_host = {name for step in plan for ns, name in _created_devices(step) if ns is None}
        # A host device of this lab that the plan deletes before making one of that name
        # again (a veth whose far end moved back to the host) is ours to replace.
        replaced_host = {
            step.name
            for step in plan
            if isinstance(step, s.DelLink)
            and step.ns is None
            and self.registry.owner_of_host_device(step.name) == record.name
        }
        tag = tag_for(record.name)
        for name in sorted(created_ns):
            owner = self.registry.owner_of_namespace(name)
            if owner is not None and owner != record.name:
                raise LabError(
                    "not-owned",
                    f'namespace "{name}" belongs to lab "{owner}"; '
                    "rename the node or destroy that lab first",
                    {"object": {"op": "netns.add", "ns": None, "name": name}},
                )
            if (self.realizer.run_dir / name).exists():
                raise LabError(
                    "not-owned",
                    f'namespace "{name}" already exists and was not made '
                    "by this lab; rename the node or remove that namespace",
                    {"object": {"op": "netns.add", "ns": None, "name": name}},
                )
        for name in sorted(created_host - replaced_host):
            owner = self.registry.owner_of_host_device(name)
            if (owner is not None and owner != record.name) or self.realizer.device_exists(
                None, name
            ):
                raise LabError(
                    "not-owned",
                    f'interface "{name}" already exists in the host '
                    "namespace and is not this lab's; rename the interface",
                    {"object": {"op": "link.add", "ns": None, "name": name}},
                )
        checked: set[str | None] = set()
        host_view: list[HostView] = []  # read once, if the plan touches the host
        for step in plan:
            ns = getattr(step, "ns", None) if not isinstance(step, s.DelNetns) else step.name
            if isinstance(step, s.AddNetns) or (ns is not None and ns in checked):
                continue
            checked.add(ns)
            foreign = (
                ns is not None
                and ns not in created_ns
                and (not record.owns_namespace(ns) or self.realizer.namespace_tag(ns) != tag)
            )
            if foreign:
                raise LabError(
                    "not-owned",
                    f'namespace "{ns}" is not recorded and tagged as '
                    f'lab "{record.name}"\'s; nstopo leaves it alone',
                )
            if ns is None:
                self._check_host_step(record, step, created_host, tag)
                if isinstance(step, s.AddRoute | s.AddAddress):
                    if not host_view:
                        host_view.append(self.realizer.host_view())
                    lab_devices = created_host | set(record.host_devices)
                    lab_devices |= set(record.pending_host_devices)
                    _check_host_addition(step, host_view[0], lab_devices)

    def _check_host_step(
        self, record: LabRecord, step: s.Step, created: set[str], tag: str
    ) -> None:
        """In the host namespace only the lab's own devices may change, and routes
        must go through one of them: the host's own routes and addresses stay as
        they are."""
        if isinstance(step, s.AddVeth | s.AddBridge | s.AddTuntap):
            return
        if isinstance(step, s.AddRoute | s.DelRoute):
            device = step.route.dev
            if device is None:
                raise LabError(
                    "not-owned",
                    f"route {step.route.to} in the host namespace "
                    "names no dev; nstopo only adds host routes through the lab's "
                    "own interfaces: add dev",
                )
        else:
            device = getattr(step, "name", None) or getattr(step, "dev", None)
        if device is None or device in created:
            return
        if not record.owns_host_device(device) or self.realizer.tag_of_device(None, device) != tag:
            raise LabError(
                "not-owned",
                f'interface "{device}" in the host namespace is not '
                f'recorded and tagged as lab "{record.name}"\'s; nstopo leaves it '
                "alone",
            )

    def _record_pending(self, record: LabRecord, plan: Plan) -> None:
        """Write down what this apply may create before creating it (for a crash)."""
        new = record.name not in self.registry.labs
        for step in plan:
            if isinstance(step, s.LoadRuleset) and step.ns is None and not record.host_nat:
                record.host_nat = new = True
            if isinstance(step, s.AddNetns) and step.name not in record.pending_namespaces:
                record.pending_namespaces.append(step.name)
                new = True
            for ns, name in _created_devices(step):
                if ns is None and name not in record.pending_host_devices:
                    record.pending_host_devices.append(name)
                    new = True
        self.registry.labs[record.name] = record
        if new:
            self._save()

    def _record_applied(self, record: LabRecord, topology: Topology, state: KernelState) -> None:
        self._running[record.name] = state
        record.topology = to_document(topology)
        record.namespaces = list(state.namespaces)
        record.host_devices = [name for ns, name in state.devices if ns is None]
        record.pending_namespaces, record.pending_host_devices = [], []
        record.host_nat = None in state.rulesets
        if not record.namespaces and not record.host_devices and not record.host_nat:
            self.registry.labs.pop(record.name, None)
            self._running.pop(record.name, None)
        self._save()

    def _roll_back(self, record: LabRecord, reached: KernelState, before: KernelState) -> None:
        # Best effort: what cannot be undone stays pending, for destroy to find.
        self.realizer.realize(
            list(diff_states(reached, before)), record.name, lambda _: None, keep_going=True
        )
        # A pending object the rollback could not remove stays pending (destroy finds
        # it); one that cannot be read stays too: a read error is never "gone".
        record.pending_namespaces = [n for n in record.pending_namespaces if self._maybe_present(n)]
        try:
            host = {link.name for link in self.realizer.links_in(None)}
        except OSError:
            host = set(record.pending_host_devices)
        record.pending_host_devices = [n for n in record.pending_host_devices if n in host]
        self._running.pop(record.name, None)  # re-read from the registry next time
        if not (record.topology or record.pending_namespaces or record.pending_host_devices):
            self.registry.labs.pop(record.name, None)
        try:
            self._save()
        except OSError as exc:  # the pending record written before the apply remains
            log.warning("cannot save the registry after a rollback: %s", _reason(exc))

    def _maybe_present(self, name: str) -> bool:
        try:
            return self.realizer.namespace_tag(name) is not None
        except OSError:
            return True

    def remember_document(self, topology: Topology) -> dict[str, Any]:
        """After an apply that changed nothing in the kernel: the file may still have
        changed (exec:, services:, positions); the record keeps the file as applied."""
        document = to_document(topology)
        with self._lock_for(topology.name):
            record = self.registry.labs.get(topology.name)
            if record is not None and record.topology is not None and record.topology != document:
                record.topology = document
                self._save()
        return document

    # -- destroy ------------------------------------------------------------------------
    def destroy(self, lab: str, force: bool = False, uid: int = 0) -> dict[str, Any]:
        with self._lock_for(lab):
            record = self.registry.labs.get(lab)
            if record is None:
                raise LabError(
                    "no-such-lab", f'there is no lab "{lab}"; nstopo status lists the running ones'
                )
            self._check_may_change(record, uid)
            return self._destroy_locked(record, force)

    def _destroy_locked(self, record: LabRecord, force: bool) -> dict[str, Any]:
        """Remove what the lab made (the caller holds the lab's lock)."""
        lab = record.name
        for hook in self.before_destroy:
            hook(record)
        tag = tag_for(lab)
        unreadable: list[str] = []
        report: dict[str, Any] = {"lab": lab, "removed": [], "skipped": [], "processes": []}
        steps: list[s.Step] = []
        users = processes_by_namespace()
        for name in dict.fromkeys(record.namespaces + record.pending_namespaces):
            path = self.realizer.run_dir / name
            if not path.exists():
                continue
            try:
                found = self.realizer.namespace_tag(name)
            except OSError as exc:
                unreadable.append(name)
                report["skipped"].append(f"namespace {name} (cannot read it: {_reason(exc)})")
                continue
            if found != tag:
                if _placeholder(path):
                    path.unlink()  # a creation that never finished: not a namespace
                    continue
                report["skipped"].append(f"namespace {name} (not tagged as this lab's)")
                continue
            st = path.stat()
            pids = users.get((st.st_dev, st.st_ino), [])
            if pids:
                report["processes"].append({"namespace": name, "pids": pids})
                if force:
                    for pid in pids:
                        _kill(pid)
            steps.append(s.DelNetns(name))
        host_links = {link.name: link.alias for link in self.realizer.links_in(None)}
        for name in dict.fromkeys(record.host_devices + record.pending_host_devices):
            if name not in host_links:
                continue  # gone with its peer
            if host_links[name] != tag:
                report["skipped"].append(f"interface {name} (not tagged as this lab's)")
                continue
            steps.append(s.DelLink(None, name, "veth"))
        if record.host_nat:  # the lab's own table; the idiom removes it even if absent
            steps.append(s.FlushRuleset(None, nftables.host_table_removal(lab)))
        failures = self.realizer.realize(
            steps,
            lab,
            lambda i: report["removed"].append(_describe_removal(steps[i])),
            keep_going=True,
        )
        for failure in failures:
            report["skipped"].append(f"{failure.step.command()} failed: {failure.reason}")
        self._running.pop(lab, None)
        self.forwarding.release(lab)
        if unreadable:  # kept: a later destroy finishes the job
            record.namespaces, record.pending_namespaces = unreadable, []
            record.host_devices, record.pending_host_devices = [], []
            record.topology = None
        else:
            self.registry.labs.pop(lab, None)
        self._save()
        return report

    # -- status -------------------------------------------------------------------------
    def status(self, lab: str | None = None) -> list[dict[str, Any]]:
        names = [lab] if lab else sorted(self.registry.labs)
        if lab and lab not in self.registry.labs:
            raise LabError("no-such-lab", f'there is no lab "{lab}"')
        return [self._lab_status(self.registry.labs[name]) for name in names]

    def _lab_status(self, record: LabRecord) -> dict[str, Any]:
        namespaces = []
        for name in record.namespaces:
            present = (self.realizer.run_dir / name).exists()
            found, roots = self.realizer.links_and_qdiscs_in(name) if present else ([], {})
            links = [{**_link_json(x), **qdiscsync.qdisc_json(roots.get(x.name))} for x in found]
            namespaces.append({"name": name, "present": present, "links": links})
        host = [
            _link_json(x) for x in self.realizer.links_in(None) if x.name in record.host_devices
        ]
        if host:
            roots = self.realizer.root_qdiscs_in(None)
            host = [{**x, **qdiscsync.qdisc_json(roots.get(x["name"]))} for x in host]
        pending = bool(record.pending_namespaces or record.pending_host_devices)
        return {
            "lab": record.name,
            "namespaces": namespaces,
            "host_links": host,
            "pending": pending,
        }

    # -- after a restart ---------------------------------------------------------------------
    def reconcile(self) -> None:
        """Bring the registry in line with the kernel after a crash or restart: keep
        what exists and carries the lab's tag; forget what is gone. A lab whose objects
        cannot be read (EMFILE, ENOMEM, ...) is kept exactly as recorded: a read error
        is never "not ours"."""
        try:
            host = {link.name: link.alias for link in self.realizer.links_in(None)}
        except OSError as exc:
            log.warning("cannot read the host's interfaces (%s): registry kept", _reason(exc))
            return
        for record in list(self.registry.labs.values()):
            tag = tag_for(record.name)
            names = list(dict.fromkeys(record.namespaces + record.pending_namespaces))
            for name in names:
                path = self.realizer.run_dir / name
                if _placeholder(path):
                    path.unlink()  # a creation (or deletion) interrupted half-way
            try:
                namespaces = [n for n in names if self.realizer.namespace_tag(n) == tag]
            except OSError as exc:
                log.warning("cannot read lab %s (%s): kept as recorded", record.name,
                            _reason(exc))  # fmt: skip
                continue
            record.namespaces = namespaces
            record.host_devices = [
                n
                for n in dict.fromkeys(record.host_devices + record.pending_host_devices)
                if host.get(n) == tag
            ]
            interrupted = bool(record.pending_namespaces or record.pending_host_devices)
            record.pending_namespaces, record.pending_host_devices = [], []
            if interrupted:
                record.topology = None  # unknown how far it got: the next apply starts over
            if not record.namespaces and not record.host_devices and not record.host_nat:
                del self.registry.labs[record.name]
        self._save()


def _check_host_addition(step: s.AddRoute | s.AddAddress, view: HostView, lab: set[str]) -> None:
    """A lab adds to the host only what overlaps nothing the host has (hostpolicy.py)."""
    if isinstance(step, s.AddRoute):
        problem = hostpolicy.route_problem(step.route, view, lab)
    else:
        problem = hostpolicy.address_problem(step.address, step.dev, view, lab)
    if problem is not None:
        raise LabError("not-owned", problem, {"step": step.to_dict()})


def _placeholder(path: Path) -> bool:
    """An empty file in /run/netns that is not a mounted namespace: what a creation
    killed before its bind mount, or a deletion killed after its unmount, leaves."""
    try:
        return path.stat().st_size == 0 and not os.path.ismount(path)
    except OSError:
        return False


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _user_name(uid: int) -> str:
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def _copy_record(record: LabRecord) -> LabRecord:
    return dataclasses.replace(
        record,
        namespaces=list(record.namespaces),
        host_devices=list(record.host_devices),
        pending_namespaces=list(record.pending_namespaces),
        pending_host_devices=list(record.pending_host_devices),
    )


def _restore(record: LabRecord, previous: LabRecord) -> None:
    """Undo what _record_applied may have written into the record before failing;
    the pending lists stay as this apply extended them (the rollback prunes them)."""
    record.topology = previous.topology
    record.namespaces, record.host_devices = previous.namespaces, previous.host_devices
    record.pending_namespaces = list(
        dict.fromkeys(previous.pending_namespaces + record.pending_namespaces)
    )
    record.pending_host_devices = list(
        dict.fromkeys(previous.pending_host_devices + record.pending_host_devices)
    )


def _link_json(link: LinkInfo) -> dict[str, Any]:
    return {
        "name": link.name,
        "kind": link.kind,
        "oper": link.oper,
        "up": link.up,
        "tag": link.alias,
    }


def _describe_removal(step: s.Step) -> str:
    if isinstance(step, s.DelNetns):
        return f"namespace {step.name}"
    return f"interface {getattr(step, 'name', '?')}"


def _check_valid(topology: Topology) -> None:
    errors = [p for p in validate(topology) if p.is_error]
    if errors:
        raise LabError(
            "invalid",
            f"the topology has {len(errors)} error(s); first: {errors[0].message}",
            [p.format() for p in errors],
        )


def _created_devices(step: s.Step) -> list[tuple[str | None, str]]:
    if isinstance(step, s.AddVeth):
        return [(step.ns, step.name), (step.peer_ns, step.peer)]
    if isinstance(step, s.AddBridge | s.AddTuntap):
        return [(step.ns, step.name)]
    return []


def processes_by_namespace() -> dict[tuple[int, int], list[int]]:
    """Pids by network namespace identity (st_dev, st_ino), from one scan of /proc."""
    found: dict[tuple[int, int], list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            st = os.stat(f"/proc/{entry}/ns/net")
        except OSError:
            continue
        found.setdefault((st.st_dev, st.st_ino), []).append(int(entry))
    return found


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def parse_topology(data: str | dict[str, Any]) -> Topology:
    """A topology sent by a client: the file's YAML text, or the same structure as JSON
    (model.schema.to_document; much faster for large labs). Problems: one LabError."""
    try:
        if isinstance(data, str):
            return parse_text(data, "<request>").topology
        return topology_from_document(data)
    except TopologyFileError as exc:
        raise LabError(
            "invalid", exc.problems[0].format(), [p.format() for p in exc.problems]
        ) from None
