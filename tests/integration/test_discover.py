"""discover: the whole (sandboxed) host as a topology, ours and not ours."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import yaml
from helper_process import NSTOPO, RunningHelper
from nstopo.model.schema import topology_from_document
from nstopo.model.types import BridgeNode, NetnsNode, Route
from nstopo.model.validate import validate
from nstopo.model.yamlfile import parse_text
from nstopo.resources import EXAMPLES
from ruamel.yaml import YAML
from sandbox import needs_root

pytestmark = needs_root


def test_discover_finds_labs_foreign_namespaces_and_containers(helper: RunningHelper) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": (EXAMPLES / "container-bridge.yaml").read_text()})
    run = helper.sandbox.run
    run("ip", "netns", "add", "foreign")  # another tool's namespace, with a veth to the host
    run("ip", "link", "add", "fv0", "type", "veth", "peer", "name", "fv1", "netns", "foreign")
    container = helper.sandbox.popen("unshare", "--net", "sleep", "300")  # a "container"
    try:
        time.sleep(0.3)
        pid = _child_pid(container.pid)
        run("ip", "link", "add", "cv0", "type", "veth", "peer", "name", "cv1", "netns", str(pid))
        with helper.client() as client:
            found = client.call("host.discover")
        topo = topology_from_document(found["topology"])
        assert [p.format() for p in validate(topo) if p.is_error] == []

        owners = found["owners"]
        assert {n: owners[n] for n in ("router", "c1", "c2", "far", "cbr0")} == dict.fromkeys(
            ("router", "c1", "c2", "far", "cbr0"), "container-bridge"
        )
        assert owners["foreign"] is None and owners[f"pid{pid}"] is None
        assert found["namespaces"][f"pid{pid}"] == {"named": False, "pids": [pid]}
        assert found["namespaces"]["foreign"]["named"] is True

        ends = {frozenset(ep.short for ep in link.endpoints) for _, link in topo.links()}
        assert frozenset({"c1:eth0", "cbr0:veth-c1"}) in ends  # a bridge port drawn on the bridge
        assert frozenset({"router:uplink", "far:eth0"}) in ends
        assert frozenset({"host:fv0", "foreign:fv1"}) in ends
        assert frozenset({"host:cv0", f"pid{pid}:cv1"}) in ends

        router = topo.node("router")
        assert isinstance(router, NetnsNode) and router.sysctls == {"net.ipv4.ip_forward": 1}
        assert Route("default", via="10.80.1.1") in topo.node("c1").routes
        bridge = topo.node("cbr0")
        assert isinstance(bridge, BridgeNode) and bridge.namespace == "router"
        assert bridge.addresses == ("10.80.1.1/24",)
    finally:
        container.kill()
        container.wait()


def test_discover_yaml_is_a_file_that_validates(helper: RunningHelper, tmp_path) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": (EXAMPLES / "tap-bridge.yaml").read_text()})
    helper.sandbox.run("ip", "netns", "add", "other")
    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}
    out = subprocess.run(
        [NSTOPO, "discover", "--yaml"], capture_output=True, text=True, env=env, check=True
    )
    assert "# Not made by nstopo: " in out.stdout and "other" in out.stdout.splitlines()[1]
    path = tmp_path / "live.yaml"
    path.write_text(out.stdout)
    checked = subprocess.run([NSTOPO, "validate", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    topo = parse_text(out.stdout).topology
    assert topo.node("tap0").kind == "tap" and topo.node("tap0").bridge == "br0"
    # PyYAML (YAML 1.1) reads what discover writes as nstopo does (MACs, names)
    assert yaml.safe_load(out.stdout) == YAML(typ="safe", pure=True).load(out.stdout)
    as_json = json.loads(
        subprocess.run(
            [NSTOPO, "discover", "--json"], capture_output=True, text=True, env=env, check=True
        ).stdout
    )
    assert as_json["owners"]["tap0"] == "tap-bridge"


def _child_pid(parent: int) -> int:
    """setpriv/nsenter exec; unshare --net without --fork execs too: one pid all along."""
    return parent


def _kind_available(kind: str) -> bool:
    """Only kinds the kernel has already: creating another would make it load a module.
    Without /proc/modules the kernel has no modules (everything is built in)."""
    return not Path("/proc/modules").exists() or Path(f"/sys/module/{kind}").exists()


def test_discover_says_what_it_leaves_out(helper: RunningHelper) -> None:
    def sh(script: str) -> None:
        helper.sandbox.run("bash", "-euo", "pipefail", "-c", script)

    sh("""
    ip netns add dx && ip netns add host
    ip link add dv0 type veth peer name dv1 netns dx
    ip link set dv0 up && ip -n dx link set dv1 up && ip -n dx link set lo up
    ip addr add 10.50.0.1/24 dev dv0 && ip -6 addr add fd00:50::1/64 dev dv0 nodad
    ip -n dx addr add 10.50.0.2/24 dev dv1 && ip -n dx -6 addr add fd00:50::2/64 dev dv1 nodad
    ip link add dw0 mtu 1400 type veth peer name dw1 netns dx && ip link set dw0 up
    ip link add hv0 type veth peer name hv1 netns host
    ip -n dx route add 10.60.0.0/16 via 10.50.0.1
    ip -n dx route add default via 10.50.0.1 src 10.50.0.2
    ip -n dx route add blackhole 10.61.0.0/16
    ip -n dx route add unreachable 10.62.0.0/16
    ip -n dx route add 10.63.0.0/16 via 10.50.0.1 table 100
    ip -n dx route add 10.64.0.0/16 nexthop via 10.50.0.1 nexthop via 10.50.0.3
    ip -n dx -6 route add fd00:99::/64 via fd00:50::1
    ip -n dx rule add from 10.50.0.0/24 lookup 100
    ip -n dx addr add 10.99.0.1/32 dev lo
    """)
    kinds = [kind for kind in ("macvlan", "vxlan", "ifb") if _kind_available(kind)]
    made = {
        "macvlan": "ip -n dx link add link dv1 name mv0 type macvlan && ip -n dx link set mv0 up"
        " && ip -n dx route add 10.65.0.0/16 dev mv0",
        "vxlan": "ip -n dx link add vx0 type vxlan id 42 dstport 4789 dev dv1",
        "ifb": "ip -n dx link add ifb0 type ifb",
    }
    for kind in kinds:
        sh(made[kind])
    with helper.client() as client:
        found = client.call("host.discover")
    topo = topology_from_document(found["topology"])
    assert [p.format() for p in validate(topo) if p.is_error] == []
    left_out = "\n".join(found["unmapped"])

    # A netns named host is a namespace; the host node takes another name.
    assert topo.node("host").kind == "netns" and topo.node("host-root").kind == "host"
    ends = {frozenset(ep.short for ep in link.endpoints) for _, link in topo.links()}
    assert frozenset({"host-root:hv0", "host:hv1"}) in ends
    assert frozenset({"host-root:dv0", "dx:dv1"}) in ends

    # What maps is there, multipath and the rest notwithstanding.
    routes = topo.node("dx").routes
    assert Route("10.60.0.0/16", via="10.50.0.1") in routes
    assert Route("default", via="10.50.0.1") in routes
    assert Route("fd00:99::/64", via="fd00:50::1") in routes
    # What does not is said, each once.
    for words in (
        "blackhole route 10.61.0.0/16 in namespace dx: nstopo routes are unicast",
        "unreachable route 10.62.0.0/16 in namespace dx: nstopo routes are unicast",
        "route 10.63.0.0/16 in namespace dx, table 100: nstopo routes only in the main table",
        "multipath route 10.64.0.0/16 in namespace dx (2 next hops): nstopo routes have one",
        "route default in namespace dx: its src hint 10.50.0.2 (nstopo routes have none)",
        "rule 32765: from 10.50.0.0/24 lookup 100 in namespace dx: nstopo has no policy rules",
        "address 10.99.0.1/32 on lo in namespace dx: nstopo sets no addresses on lo",
        "veth host-root:dw0 - dx:dw1: MTU 1400 on host-root:dw0, 1500 on dx:dw1",
        "veth host-root:dw0 - dx:dw1: host-root:dw0 is up, dx:dw1 is down",
    ):
        assert left_out.count(words) == 1, f"{words!r} not in:\n{left_out}"
    if "macvlan" in kinds:
        assert "mv0 in namespace dx: a macvlan device; nstopo draws none" in left_out
        assert "route 10.65.0.0/16 in namespace dx: through mv0, which is not drawn" in left_out
    if "vxlan" in kinds:
        assert "vx0 in namespace dx: a vxlan device; nstopo draws none" in left_out
    if "ifb" in kinds:
        assert "ifb0 in namespace dx: an ifb device; nstopo draws none" in left_out
    assert kinds, "no macvlan, vxlan or ifb in this kernel: the kinds went untested"
