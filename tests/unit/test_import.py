"""`nstopo import`: containerlab's own Linux-only labs and a Kathara lab become
topology files that validate, and what does not map is reported."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from nstopo.cli.main import main
from nstopo.model.clabimport import import_containerlab
from nstopo.model.importfile import import_path
from nstopo.model.katharaimport import import_kathara
from nstopo.model.types import Route
from nstopo.model.yamlfile import parse_text
from ruamel.yaml import YAML

DATA = Path(__file__).resolve().parents[1] / "data"
CLAB_EXAMPLES = sorted((DATA / "containerlab" / "examples").glob("*.clab.y*ml"))
KATHARA = DATA / "kathara" / "static-routing"


def errors_of(text: str) -> list[str]:
    return [p.format() for p in parse_text(text, "imported.yaml").problems if p.is_error]


@pytest.mark.parametrize("path", CLAB_EXAMPLES, ids=lambda p: p.name)
def test_every_containerlab_example_imports_to_a_file_that_validates(path: Path) -> None:
    text, imported = import_path(path)
    assert errors_of(text) == []
    assert text.startswith(f"# Imported by nstopo from the containerlab lab {path}.")
    assert all(f"# Not mapped: {note}" in text for note in imported.notes)
    same_meaning_to_yaml_1_1(text)


def test_the_kathara_import_means_the_same_to_yaml_1_1_readers() -> None:
    text, _ = import_path(KATHARA / "lab.conf")
    assert errors_of(text) == []
    same_meaning_to_yaml_1_1(text)


def same_meaning_to_yaml_1_1(text: str) -> None:
    """A file nstopo writes reads the same in PyYAML (YAML 1.1) as in nstopo (1.2)."""
    assert yaml.safe_load(text) == YAML(typ="safe", pure=True).load(text)


def test_frr01_keeps_nodes_links_addresses_and_routes() -> None:
    imported = import_containerlab((DATA / "containerlab/examples/frr01.clab.yml").read_text())
    topo = imported.topology
    assert topo.name == "frr01" and len(topo.link_ids()) == 6
    assert {n.kind for _, n in topo.nodes()} == {"netns"}
    pc1 = topo.node("PC1")
    assert Route("192.168.0.0/16", via="192.168.11.1", dev="eth1") in pc1.routes
    link = next(link for _, link in topo.links() if link.endpoints[0].node == "PC1")
    assert link.endpoints[0].addresses == ("192.168.11.2/24",)
    assert "router1: binds, image (nstopo makes network namespaces, not containers)" in (
        imported.notes
    )


def test_containerlabs_own_link_forms_map_or_are_reported() -> None:
    imported = import_containerlab(
        (DATA / "containerlab/examples/01-linux-nodes.clab.yml").read_text()
    )
    topo = imported.topology
    links = {frozenset(ep.short for ep in link.endpoints): link for _, link in topo.links()}
    assert links[frozenset({"l1:eth1", "l2:some1"})].mtu == 2000
    macs = [ep.mac for ep in links[frozenset({"l1:eth3", "l2:eth3"})].endpoints]
    assert macs == ["02:00:00:00:00:00", "02:00:00:00:00:01"]
    assert frozenset({"l2:eth4", "host:l2eth4"}) in links  # type: host
    notes = "\n".join(imported.notes)
    for words in (
        "l3: network-mode host",
        "link 5: a mgmt-net link",
        "link 6: a dummy link",
        "l1: exec 'echo this_is_an_exec_test': not an address, route or sysctl",
    ):
        assert words in notes


def test_a_bridge_in_a_nodes_namespace_and_exec_addresses_on_it() -> None:
    topo = import_containerlab(
        (DATA / "containerlab/examples/24-bridge-in-ns.clab.yaml").read_text()
    ).topology
    bridge = topo.node("br01")
    assert bridge.kind == "bridge" and bridge.namespace == "bp1"
    assert bridge.addresses == ("192.168.0.1/24",)


def test_kinds_nstopo_has_not_are_reported_with_their_links() -> None:
    imported = import_containerlab((DATA / "containerlab/examples/br01.clab.yml").read_text())
    assert list(imported.topology.node_names()) == ["br-clab"]
    assert "srl1: kind nokia_srlinux has no nstopo kind (nstopo draws linux, bridge, host)" in (
        imported.notes
    )
    assert "link 1: srl1 is not imported" in imported.notes


def test_a_kathara_lab_imports_with_its_startup_addresses() -> None:
    text, imported = import_path(KATHARA)
    assert errors_of(text) == []
    topo = imported.topology
    assert topo.name == "static-routing" and len(topo.link_ids()) == 3  # three wires
    ends = {ep.short: ep.addresses for _, link in topo.links() for ep in link.endpoints}
    assert ends["r1:eth1"] == ("100.0.0.9/30",) and ends["pc2:eth0"] == ("200.1.1.7/24",)


def test_a_kathara_collision_domain_of_three_is_a_bridge_and_the_rest_is_reported() -> None:
    conf = (
        'LAB_NAME="Three On A Hub"\na[0]="lan"\nb[0]="lan/02:00:00:00:00:0b"\nc[0]="lan"\n'
        'a[image]="kathara/base"\na[sysctl]="net.ipv4.ip_forward=1"\nnot a setting\n'
    )
    startup = "ip addr add 10.0.0.1/24 dev eth0\nip route add default via 10.0.0.254\nvtysh\n"
    imported = import_kathara(conf, {"a": startup})
    topo = imported.topology
    assert topo.name == "three-on-a-hub" and topo.node("lan").kind == "bridge"
    ports = sorted(
        ep.short for _, link in topo.links() for ep in link.endpoints if ep.node == "lan"
    )
    assert ports == ["lan:a-eth0", "lan:b-eth0", "lan:c-eth0"]
    assert topo.node("a").sysctls == {"net.ipv4.ip_forward": 1}
    assert topo.node("a").routes == (Route("default", via="10.0.0.254"),)
    notes = "\n".join(imported.notes)
    assert "a[image]: a Kathara device setting" in notes
    assert "lab.conf line 7: 'not a setting' is not machine[key]=value" in notes
    assert "a: startup 'vtysh': not an address, route or sysctl" in notes


def test_what_would_not_validate_is_left_out_and_said() -> None:
    clab = (
        "name: x\ntopology:\n  nodes:\n    a: {kind: linux, exec: ['ip route add 10.9.0.0/16 "
        "via 10.5.0.1']}\n    b: {kind: linux}\n  links:\n    - endpoints: [a:eth1, b:eth1]\n"
    )
    imported = import_containerlab(clab)
    assert imported.topology.node("a").routes == ()
    assert any("gateway 10.5.0.1 is in no subnet" in note for note in imported.notes)


def test_the_import_command_writes_a_file_and_reports(capsys, tmp_path: Path) -> None:
    out = tmp_path / "frr01.yaml"
    assert main(["import", str(DATA / "containerlab/examples/frr01.clab.yml"), "-o", str(out)]) == 0
    assert errors_of(out.read_text()) == []
    assert "not mapped: router1: binds, image" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "nothing.clab.yml")]) == 1
    assert capsys.readouterr().err.startswith("nstopo: cannot read ")
