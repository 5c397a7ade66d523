"""Apply repairs what was changed by hand (issue 12, item 6): the helper plans against
what the kernel has now, not only against what its last apply reached."""

from __future__ import annotations

from helper_process import RunningHelper
from nstopo.backend.client import HelperClient
from nstopo.resources import EXAMPLES
from sandbox import needs_root

pytestmark = needs_root
LAB = (EXAMPLES / "container-bridge.yaml").read_text()


def commands(client: HelperClient, method: str = "lab.plan") -> list[str]:
    return [step["command"] for step in client.call(method, {"topology": LAB})["steps"]]


def ip(helper: RunningHelper, *argv: str) -> str:
    return helper.sandbox.run("ip", *argv).stdout


def test_a_link_set_down_by_hand_is_planned_up_again_with_its_routes(
    helper: RunningHelper,
) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": LAB})
        assert commands(client) == []
        ip(helper, "-n", "c1", "link", "set", "eth0", "down")  # takes the default route along
        assert "default" not in ip(helper, "-n", "c1", "route")
        planned = commands(client)
        assert planned == [
            "ip -n c1 link set dev eth0 up",
            "ip -n c1 route add default via 10.80.1.1",
        ]
        assert commands(client, "lab.apply") == planned
        assert "state UP" in ip(helper, "-n", "c1", "link", "show", "eth0")
        assert "default via 10.80.1.1 dev eth0" in ip(helper, "-n", "c1", "route")
        helper.sandbox.run("ip", "netns", "exec", "c1", "ping", "-c1", "-W2", "10.80.2.2")
        assert commands(client) == []
        client.call("lab.destroy", {"lab": "container-bridge"})


def test_addresses_removed_or_added_by_hand_are_put_back(helper: RunningHelper) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": LAB})
        ip(helper, "-n", "c2", "addr", "del", "10.80.1.3/24", "dev", "eth0")
        ip(helper, "-n", "far", "addr", "add", "10.80.2.9/24", "dev", "eth0")
        planned = commands(client, "lab.apply")
        assert "ip -n far addr del 10.80.2.9/24 dev eth0" in planned
        assert "ip -n c2 addr add 10.80.1.3/24 dev eth0" in planned
        assert "ip -n c2 route add default via 10.80.1.1" in planned  # went with the subnet
        assert "10.80.1.3/24" in ip(helper, "-n", "c2", "addr", "show", "eth0")
        assert "10.80.2.9" not in ip(helper, "-n", "far", "addr", "show", "eth0")
        assert commands(client) == []
        client.call("lab.destroy", {"lab": "container-bridge"})


def test_a_veth_deleted_by_hand_is_made_again_and_joins_its_bridge(
    helper: RunningHelper,
) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": LAB})
        ip(helper, "-n", "router", "link", "del", "veth-c1")  # takes c1's eth0 along
        planned = commands(client, "lab.apply")
        made = "ip -n router link add name veth-c1 type veth peer name eth0 netns c1"
        assert planned[0] == made
        assert "ip -n router link set dev veth-c1 master cbr0" in planned
        assert "master cbr0" in ip(helper, "-n", "router", "link", "show", "veth-c1")
        assert "10.80.1.2/24" in ip(helper, "-n", "c1", "addr", "show", "eth0")
        helper.sandbox.run("ip", "netns", "exec", "c1", "ping", "-c1", "-W2", "10.80.1.1")
        assert commands(client) == []
        client.call("lab.destroy", {"lab": "container-bridge"})


def test_a_bridge_and_lo_set_down_by_hand_are_set_up_again(
    helper: RunningHelper,
) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": LAB})
        ip(helper, "-n", "router", "link", "set", "lo", "down")
        ip(helper, "-n", "router", "link", "set", "cbr0", "down")
        planned = commands(client, "lab.apply")
        assert sorted(planned) == [
            "ip -n router link set dev cbr0 up",
            "ip -n router link set dev lo up",
        ]
        assert commands(client) == []
        client.call("lab.destroy", {"lab": "container-bridge"})
