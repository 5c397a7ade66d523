from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from kernelsim import comparable, replay, settings_reached
from nstopo.model.plan import diff, plan_down, plan_up
from nstopo.model.state import kernel_state
from nstopo.model.topology import Topology
from nstopo.model.types import BridgeNode, Endpoint, Link, Route
from nstopo.model.yamlfile import load
from nstopo.resources import EXAMPLES
from strategies import topologies


def example(name: str) -> Topology:
    return load(EXAMPLES / f"{name}.yaml").topology


def test_bridge_lab_plan_in_order() -> None:
    assert plan_up(example("bridge-fixed")).commands() == [
        "ip netns add hub",
        "ip netns add a",
        "ip -n hub link add name br0 type bridge",
        "ip -n hub link add name p0 type veth peer name eth0 netns a",
        "ip -n hub link set dev p0 master br0",
        "ip -n hub addr add 10.77.0.1/24 dev br0",
        "ip -n a addr add 10.77.0.2/24 dev eth0",
        "ip -n hub link set dev br0 up",
        "ip -n hub link set dev p0 up",
        "ip -n a link set dev eth0 up",
        "ip -n hub link set dev lo up",
        "ip -n a link set dev lo up",
    ]


def test_host_veth_plan_creates_the_pair_from_the_host_side() -> None:
    commands = plan_up(example("veth-host")).commands()
    assert commands[:2] == [
        "ip netns add netns1",
        "ip link add name veth0 type veth peer name veth1 netns netns1",
    ]
    assert "ip addr add 10.1.1.1/24 dev veth0" in commands


def test_routes_and_sysctls_come_after_addresses_and_up() -> None:
    commands = plan_up(example("container-bridge")).commands()
    last_up = max(i for i, c in enumerate(commands) if c.endswith(" up"))
    sysctl = commands.index("ip netns exec router sysctl -qw net.ipv4.ip_forward=1")
    route = commands.index("ip -n c1 route add default via 10.80.1.1")
    assert last_up < sysctl < route


def test_tap_plan() -> None:
    commands = plan_up(example("tap-bridge")).commands()
    assert "ip -n hub tuntap add dev tap0 mode tap" in commands
    assert commands.index("ip -n hub link set dev tap0 master br0") > commands.index(
        "ip -n hub tuntap add dev tap0 mode tap"
    )


def test_loopback_down_is_not_brought_up() -> None:
    assert plan_up(example("loopback")).commands() == ["ip netns add ns1"]


def test_down_deletes_namespaces_and_host_side_devices_only() -> None:
    # The host end of the pair dies with the namespace that holds its peer.
    assert plan_down(example("veth-host")).commands() == ["ip netns del netns1"]
    topo = example("veth-host")
    topo.add_node("br9", BridgeNode())
    topo.add_link(Link((Endpoint("host", "veth9"), Endpoint("br9", "p9"))))
    assert plan_down(topo).commands() == [
        "ip link del dev br9",
        "ip link del dev veth9",
        "ip netns del netns1",
    ]


def test_diff_of_every_example_with_itself_is_empty(example_file: Path) -> None:
    topo = load(example_file).topology
    assert len(diff(topo, topo.copy())) == 0


def test_pitfall_to_fix_moves_one_address() -> None:
    assert diff(example("bridge-pitfall"), example("bridge-fixed")).commands() == [
        "ip -n hub addr del 10.77.0.1/24 dev p0",
        "ip -n hub addr add 10.77.0.1/24 dev br0",
    ]


def test_one_address_change_is_two_steps() -> None:
    before = example("veth-namespaces")
    after = before.copy()
    lid = after.link_ids()[0]
    a, b = after.link(lid).endpoints
    after.update_link(lid, endpoints=(a, Endpoint(b.node, b.interface, ("10.10.0.3/24",))))
    assert diff(before, after).commands() == [
        "ip -n right addr del 10.10.0.2/24 dev eth0",
        "ip -n right addr del fd00:10::2/64 dev eth0",
        "ip -n right addr add 10.10.0.3/24 dev eth0",
    ]


def test_moving_a_link_end_recreates_the_pair_and_its_gateway_routes() -> None:
    before = example("container-bridge")
    after = before.copy()
    lid = after.link_ids()[0]
    c1, port = after.link(lid).endpoints
    after.update_link(lid, endpoints=(Endpoint("c1", "eth1", c1.addresses), port))
    commands = diff(before, after).commands()
    assert commands == [
        "ip -n c1 route del default via 10.80.1.1",
        "ip -n router link del dev veth-c1",  # takes c1's eth0 with it
        "ip -n router link add name veth-c1 type veth peer name eth1 netns c1",
        "ip -n router link set dev veth-c1 master cbr0",
        "ip -n c1 addr add 10.80.1.2/24 dev eth1",
        "ip -n c1 link set dev eth1 up",
        "ip -n router link set dev veth-c1 up",
        "ip -n c1 route add default via 10.80.1.1",
    ]


def test_route_change_and_ipv6_route_rendering() -> None:
    before = example("veth-namespaces")
    after = before.copy()
    after.update_node("left", routes=(Route("fd00:99::/64", via="fd00:10::2"),))
    assert diff(before, after).commands() == ["ip -n left -6 route add fd00:99::/64 via fd00:10::2"]
    assert diff(after, before).commands() == ["ip -n left -6 route del fd00:99::/64 via fd00:10::2"]


@settings(max_examples=150, deadline=None)
@given(topologies(), topologies())
def test_replaying_a_diff_reaches_the_desired_state(a: Topology, b: Topology) -> None:
    reached = replay(kernel_state(a), diff(a, b))
    assert comparable(reached) == comparable(kernel_state(b))
    assert settings_reached(reached, kernel_state(b))


@settings(max_examples=150, deadline=None)
@given(topologies())
def test_diff_properties(topo: Topology) -> None:
    assert len(diff(topo, topo.copy())) == 0
    up = plan_up(topo)
    assert comparable(replay(kernel_state(Topology()), up)) == comparable(kernel_state(topo))
    down = replay(kernel_state(topo), plan_down(topo))
    assert not down.namespaces and not down.devices and not down.addresses


@settings(max_examples=60, deadline=None)
@given(topologies(), st.data())
def test_removing_one_link_touches_only_that_pair(topo: Topology, data: st.DataObject) -> None:
    if not topo.link_ids():
        return
    lid = data.draw(st.sampled_from(topo.link_ids()))
    after = topo.copy()
    link = after.remove_link(lid)
    steps = list(diff(topo, after))
    names = {ep.interface for ep in link.endpoints}
    assert all(getattr(step, "name", getattr(step, "dev", None)) in names or step.op.startswith(
        "route") for step in steps), steps  # fmt: skip


def test_steps_serialize_with_their_command() -> None:
    step = plan_up(example("veth-host")).steps[1]
    assert step.to_dict() == {
        "op": "veth.add", "ns": None, "name": "veth0", "peer_ns": "netns1", "peer": "veth1",
        "mtu": None, "mac": None, "peer_mac": None,
        "command": "ip link add name veth0 type veth peer name veth1 netns netns1",
    }  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(topologies(), topologies(), st.integers(0, 200))
def test_rollback_from_any_point_returns_to_the_start(a: Topology, b: Topology, cut: int) -> None:
    """What the helper does when step `cut` fails: diff the reached state back."""
    from nstopo.model.plan import diff_states
    from nstopo.model.simulate import advance, copy_state

    start = kernel_state(a)
    done = list(diff(a, b))[:cut]
    reached = copy_state(start)
    for step in done:
        advance(reached, step)
    # The strict kernel model agrees with the helper's own simulation...
    assert comparable(replay(start, done)) == comparable(reached)
    # ...and the rollback plan, replayed strictly, gets back to the start.
    back = replay(replay(start, done), diff_states(reached, start))
    assert comparable(back) == comparable(start)
