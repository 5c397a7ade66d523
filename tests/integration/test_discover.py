"""discover: the whole (sandboxed) host as a topology, ours and not ours."""

from __future__ import annotations

import json
import os
import subprocess
import time

from helper_process import NSTOPO, RunningHelper
from nstopo.model.schema import topology_from_document
from nstopo.model.types import BridgeNode, NetnsNode, Route
from nstopo.model.validate import validate
from nstopo.model.yamlfile import parse_text
from nstopo.resources import EXAMPLES
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
    as_json = json.loads(
        subprocess.run(
            [NSTOPO, "discover", "--json"], capture_output=True, text=True, env=env, check=True
        ).stdout
    )
    assert as_json["owners"]["tap0"] == "tap-bridge"


def _child_pid(parent: int) -> int:
    """setpriv/nsenter exec; unshare --net without --fork execs too: one pid all along."""
    return parent
