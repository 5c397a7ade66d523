from __future__ import annotations

import pytest
from nstopo.model.reach import NoAddress, choose_target, node_holding
from nstopo.model.yamlfile import load
from nstopo.resources import EXAMPLES


def lab(name: str):
    return load(EXAMPLES / f"{name}.yaml").topology


def test_same_subnet_first() -> None:
    choice = choose_target(lab("container-bridge"), "c1", "c2")
    assert choice.address == "10.80.1.3"
    assert "eth0's subnet 10.80.1.0/24" in choice.reason


def test_then_the_routed_address() -> None:
    choice = choose_target(lab("container-bridge"), "c1", "far")
    assert choice.address == "10.80.2.2"
    assert "route to default via 10.80.1.1" in choice.reason


def test_a_router_picks_the_address_on_its_own_side() -> None:
    assert choose_target(lab("container-bridge"), "far", "router").address == "10.80.2.1"
    assert choose_target(lab("container-bridge"), "c2", "router").address == "10.80.1.1"


def test_bridge_and_host_nodes() -> None:
    assert choose_target(lab("bridge-fixed"), "a", "hub").address == "10.77.0.1"
    assert choose_target(lab("bridge-fixed"), "a", "br0").address == "10.77.0.1"
    assert choose_target(lab("veth-host"), "netns1", "host").address == "10.1.1.1"
    assert choose_target(lab("veth-host"), "host", "netns1").address == "10.1.1.2"


def test_ipv6_only_when_it_is_what_matches() -> None:
    topo = lab("veth-namespaces")
    assert choose_target(topo, "left", "right").address == "10.10.0.2"


def test_no_address_is_a_clear_error() -> None:
    with pytest.raises(NoAddress, match='node "ns1" has no address to ping'):
        choose_target(lab("loopback"), "ns1", "ns1")


def test_the_node_holding_a_typed_address() -> None:
    topo = load(EXAMPLES / "bridge-pitfall.yaml").topology
    assert node_holding(topo, "10.77.0.2") == "a"
    assert node_holding(topo, "10.77.0.1") == "hub"  # on its port p0
    assert node_holding(topo, "a") == "a"
    assert node_holding(topo, "10.99.0.1") == "10.99.0.1"  # nobody's: as typed
    assert node_holding(topo, "not an address") == "not an address"
