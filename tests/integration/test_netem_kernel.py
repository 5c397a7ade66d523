"""Link impairments on the real kernel, through a real helper in a sandbox: what the
helper sends is what `tc` sends; delay, loss and rate as ping and a bulk transfer
measure them; a changed impairment replaces only the qdisc; a hand-made change is
drift that apply repairs.

The kernel must have netem (CONFIG_NET_SCH_NETEM) for the measuring tests: a kernel
without it skips them, and the helper's refusal is checked there instead.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from helper_process import Listener, RunningHelper
from netem_probe import NO_NETEM, has_netem
from nstopo.backend import qdisc
from nstopo.model.live import drift, interface_owners
from nstopo.model.netem import Netem, values
from nstopo.model.yamlfile import parse_text
from nstopo.protocol.errors import ErrorCode, RpcError
from pyroute2.netlink.rtnl.tcmsg import tcmsg
from sandbox import Sandbox, needs_root

pytestmark = needs_root

LAB = """\
nstopo: 1
name: {name}
nodes:
  a: {{kind: netns}}
  b: {{kind: netns}}
links:
  - endpoints:
      - {{node: a, interface: eth0, addresses: [10.61.0.1/24]{a_netem}}}
      - {{node: b, interface: eth0, addresses: [10.61.0.2/24]{b_netem}}}
{link_netem}"""


def lab(name: str = "impaired", link: str = "", a: str = "", b: str = "") -> str:
    return LAB.format(
        name=name,
        link_netem=f"    netem: {link}\n" if link else "",
        a_netem=f", netem: {a}" if a else "",
        b_netem=f", netem: {b}" if b else "",
    )


@pytest.fixture
def netem_helper(helper: RunningHelper) -> RunningHelper:
    if not has_netem(helper.sandbox):
        pytest.skip(NO_NETEM)
    return helper


def apply(helper: RunningHelper, text: str) -> dict:
    with helper.client() as client:
        return client.call("lab.apply", {"topology": text})


def rtt_ms(helper: RunningHelper, source: str, target: str, count: int = 6) -> float:
    done = helper.sandbox.run(
        "ip", "netns", "exec", source, "ping", "-n", "-c", str(count), "-i", "0.2", target
    )
    match = re.search(r"= [\d.]+/([\d.]+)/", done.stdout)
    assert match, done.stdout
    return float(match[1])


def ifindex(helper: RunningHelper, ns: str, dev: str) -> int:
    shown = helper.sandbox.run("ip", "-n", ns, "-j", "link", "show", "dev", dev).stdout
    return json.loads(shown)[0]["ifindex"]


def root_qdisc(helper: RunningHelper, ns: str, dev: str) -> str:
    return helper.sandbox.run("tc", "-n", ns, "qdisc", "show", "dev", dev, "root").stdout


def link_in(status: dict, ns: str, dev: str) -> dict:
    (namespace,) = [n for n in status["namespaces"] if n["name"] == ns]
    return next(x for x in namespace["links"] if x["name"] == dev)


# -- what the helper sends ------------------------------------------------------------------


def tc_request(box: Sandbox, words: list[str]) -> bytes:
    """The RTM_NEWQDISC message `tc qdisc replace dev probe0 root WORDS` sends (read with
    strace: the kernel need not know netem for tc to send it)."""
    traced = box.run("strace", "-qq", "-e", "trace=sendmsg", "-e", "write=3", "-o", "/dev/stdout",
                     "tc", "qdisc", "replace", "dev", "probe0", "root", *words,
                     check=False).stdout  # fmt: skip
    messages, current = [], bytearray()
    for line in traced.splitlines():
        if line.startswith("sendmsg("):
            if current:
                messages.append(bytes(current))
            current = bytearray()
        elif line.startswith(" | "):
            current += bytes.fromhex(line[10:58].replace(" ", ""))
    messages.append(bytes(current))
    (request,) = [m for m in messages if len(m) > 16 and m[4] == 36]  # RTM_NEWQDISC
    return request


@pytest.mark.parametrize(
    ("netem", "words"),
    [
        (Netem(delay="20ms", jitter="2ms", loss="1%", rate="10mbit"),
         "netem delay 20ms 2ms loss 1% rate 10mbit"),
        (Netem(delay="50ms"), "netem delay 50ms"),
        (Netem(loss="100%"), "netem loss 100%"),
        (Netem(rate="1mbit", limit=50), "netem rate 1mbit limit 50"),
        (Netem(delay="10ms", reorder="25%"), "netem delay 10ms reorder 25%"),
        (Netem(corrupt="0.5%", duplicate="2%"), "netem duplicate 2% corrupt 0.5%"),
    ],
)  # fmt: skip
def test_the_helpers_netem_request_is_the_one_tc_sends(
    sandbox: Sandbox, netem: Netem, words: str
) -> None:
    sandbox.run("ip", "link", "add", "probe0", "type", "veth", "peer", "name", "probe1")
    index = ifindex_in_root(sandbox, "probe0")
    theirs = tc_request(sandbox, words.split())
    ours = qdisc.replace_netem(index, values(netem)).data
    # Same type, flags, tcmsg and attributes; only the sequence number differs.
    assert (ours[:8], ours[16:]) == (theirs[:8], theirs[16:])
    # And reading tc's message back gives the same values (a dump has the same layout).
    msg = tcmsg(theirs)
    msg.decode()
    assert qdisc.netem_values(msg.get_attr("TCA_OPTIONS")) == values(netem)


def ifindex_in_root(box: Sandbox, dev: str) -> int:
    return json.loads(box.run("ip", "-j", "link", "show", "dev", dev).stdout)[0]["ifindex"]


def test_a_kernel_without_netem_refuses_the_step_and_nothing_is_kept(
    helper: RunningHelper,
) -> None:
    if has_netem(helper.sandbox):
        pytest.skip("this kernel has netem: the measuring tests run instead")
    before = helper.sandbox.run("ip", "netns", "list").stdout
    with helper.client() as client, pytest.raises(RpcError) as exc:
        client.call("lab.apply", {"topology": lab(link="{delay: 50ms}")})
    assert exc.value.code == ErrorCode.STEP_FAILED
    assert "this kernel has no netem qdisc" in exc.value.message
    assert exc.value.data["step"]["op"] == "qdisc.netem"
    assert exc.value.data["step"]["command"] == (
        "tc -n a qdisc replace dev eth0 root netem delay 50ms"
    )
    with helper.client() as client:
        assert client.call("lab.status", {}) == []  # rolled back, and still serving
    assert helper.sandbox.run("ip", "netns", "list").stdout == before


# -- measured on the kernel -----------------------------------------------------------------


def test_delay_on_a_link_is_taken_both_ways_on_an_endpoint_one_way(
    netem_helper: RunningHelper,
) -> None:
    helper = netem_helper
    apply(helper, lab(link="{delay: 50ms}"))
    assert "netem" in root_qdisc(helper, "a", "eth0") and "delay 50ms" in root_qdisc(
        helper, "b", "eth0"
    )
    assert rtt_ms(helper, "a", "10.61.0.2") == pytest.approx(100, rel=0.15)
    apply(helper, lab(a="{delay: 50ms}"))
    assert "netem" not in root_qdisc(helper, "b", "eth0")
    assert rtt_ms(helper, "a", "10.61.0.2") == pytest.approx(50, rel=0.15)


def test_changing_the_delay_is_one_qdisc_step_per_end_and_keeps_the_veth(
    netem_helper: RunningHelper,
) -> None:
    helper = netem_helper
    apply(helper, lab(link="{delay: 50ms}"))
    indexes = (ifindex(helper, "a", "eth0"), ifindex(helper, "b", "eth0"))
    result = apply(helper, lab(link="{delay: 10ms}"))
    assert [s["command"] for s in result["steps"]] == [
        "tc -n a qdisc replace dev eth0 root netem delay 10ms",
        "tc -n b qdisc replace dev eth0 root netem delay 10ms",
    ]
    assert (ifindex(helper, "a", "eth0"), ifindex(helper, "b", "eth0")) == indexes
    assert rtt_ms(helper, "a", "10.61.0.2") == pytest.approx(20, rel=0.3, abs=3)
    removed = apply(helper, lab())
    assert [s["op"] for s in removed["steps"]] == ["qdisc.del", "qdisc.del"]
    assert "netem" not in root_qdisc(helper, "a", "eth0")


def test_full_loss_on_one_end_makes_the_ping_fail(netem_helper: RunningHelper) -> None:
    helper = netem_helper
    apply(helper, lab(b="{loss: 100%}"))
    done = helper.sandbox.run(
        "ip", "netns", "exec", "a", "ping", "-n", "-c", "3", "-W", "1", "10.61.0.2", check=False
    )
    assert done.returncode == 1, done.stdout
    assert " 0 received" in done.stdout


RECEIVER = """\
import socket, sys, time
server = socket.create_server(("10.61.0.2", 5001))
print("listening", flush=True)
conn, _ = server.accept()
first = conn.recv(65536)
start, total = time.monotonic(), 0
while time.monotonic() - start < float(sys.argv[1]):
    total += len(conn.recv(65536))
print(total * 8 / (time.monotonic() - start))
"""
SENDER = """\
import socket
conn = socket.create_connection(("10.61.0.2", 5001))
chunk = b"x" * 65536
while True:
    conn.sendall(chunk)
"""


def test_rate_holds_a_bulk_transfer(netem_helper: RunningHelper, tmp_path: Path) -> None:
    helper = netem_helper
    apply(helper, lab(link="{rate: 1mbit}"))
    (tmp_path / "rx.py").write_text(RECEIVER)
    (tmp_path / "tx.py").write_text(SENDER)
    receiver = helper.sandbox.popen("ip", "netns", "exec", "b", sys.executable,
                                    str(tmp_path / "rx.py"), "4", stdout=-1, text=True)  # fmt: skip
    sender = None
    try:
        assert receiver.stdout is not None and receiver.stdout.readline() == "listening\n"
        sender = helper.sandbox.popen("ip", "netns", "exec", "a", sys.executable,
                                      str(tmp_path / "tx.py"), stderr=-3)  # fmt: skip
        bits_per_s = float(receiver.stdout.readline())
    finally:
        for proc in (sender, receiver):
            if proc is not None:
                proc.kill()
                proc.wait()
    assert bits_per_s == pytest.approx(1_000_000, rel=0.15)


def test_a_qdisc_deleted_by_hand_is_drift_that_apply_repairs(
    netem_helper: RunningHelper,
) -> None:
    helper = netem_helper
    text = lab(link="{delay: 50ms}")
    apply(helper, text)
    helper.sandbox.run("tc", "-n", "a", "qdisc", "del", "dev", "eth0", "root")
    with helper.client() as client:
        (status,) = client.call("lab.status", {"lab": "impaired"})
        eth0 = link_in(status, "a", "eth0")
        assert eth0["qdisc"] == "noqueue" and eth0["netem"] is None
        planned = client.call("lab.plan", {"topology": text})
        assert [s["command"] for s in planned["steps"]] == [
            "tc -n a qdisc replace dev eth0 root netem delay 50ms"
        ]
    apply(helper, text)
    assert "delay 50ms" in root_qdisc(helper, "a", "eth0")


def test_netem_shows_in_status(netem_helper: RunningHelper) -> None:
    helper = netem_helper
    apply(helper, lab(link="{delay: 20ms, loss: 1%}"))
    with helper.client() as client:
        (status,) = client.call("lab.status", {"lab": "impaired"})
    eth0 = link_in(status, "a", "eth0")
    assert eth0["netem"] == {"delay": "20ms", "loss": "1%"}


# -- live: status, events and drift (pfifo stands in where the kernel has no netem) -----------


def test_a_root_qdisc_set_by_hand_shows_in_status_events_and_drift(
    helper: RunningHelper,
) -> None:
    text = lab()
    apply(helper, text)
    topology = parse_text(text).topology
    events = Listener(helper, "events.subscribe", {"lab": "impaired"})
    try:
        events.wait_for(lambda m, p: m == "link.changed" and p["resync"] and p["name"] == "eth0")
        with helper.client() as client:
            (status,) = client.call("lab.status", {"lab": "impaired"})
        assert (link_in(status, "a", "eth0")["qdisc"], link_in(status, "a", "eth0")["netem"]) == (
            "noqueue",
            None,
        )
        helper.sandbox.run("tc", "-n", "a", "qdisc", "add", "dev", "eth0", "root", "pfifo")
        _, params = events.wait_for(
            lambda m, p: m == "link.changed" and p["namespace"] == "a" and p["qdisc"] == "pfifo"
        )
        owner = interface_owners(topology)[("a", "eth0")]
        assert drift(topology, owner, params, {"10.61.0.1/24"}) == [
            "root qdisc pfifo set outside nstopo (document: netem none)"
        ]
        helper.sandbox.run("tc", "-n", "a", "qdisc", "del", "dev", "eth0", "root")
        _, params = events.wait_for(
            lambda m, p: m == "link.changed" and p["namespace"] == "a" and p["qdisc"] is None
        )
        assert drift(topology, owner, params, {"10.61.0.1/24"}) == []
    finally:
        events.close()


def test_a_netem_changed_by_hand_is_drift_in_events(netem_helper: RunningHelper) -> None:
    helper = netem_helper
    text = lab(link="{delay: 50ms}")
    apply(helper, text)
    topology = parse_text(text).topology
    owner = interface_owners(topology)[("b", "eth0")]
    events = Listener(helper, "events.subscribe", {"lab": "impaired"})
    try:
        _, params = events.wait_for(
            lambda m, p: m == "link.changed" and p["resync"] and p["namespace"] == "b"
            and p["name"] == "eth0"
        )  # fmt: skip
        assert params["netem"] == {"delay": "50ms"}
        assert drift(topology, owner, params, {"10.61.0.2/24"}) == []
        helper.sandbox.run("tc", "-n", "b", "qdisc", "replace", "dev", "eth0", "root", "netem",
                           "delay", "5ms")  # fmt: skip
        _, params = events.wait_for(
            lambda m, p: m == "link.changed" and p.get("netem") == {"delay": "5ms"}
        )
        assert drift(topology, owner, params, {"10.61.0.2/24"}) == ["netem 5 ms (document: 50 ms)"]
    finally:
        events.close()


THREE = """\
nstopo: 1
name: impaired
nodes:
  a: {kind: netns}
  b: {kind: netns}
  c: {kind: netns}
links:
  - endpoints:
      - {node: a, interface: eth0, addresses: [10.61.0.1/24]NETEM}
      - {node: b, interface: eth0, addresses: [10.61.0.2/24]}
  - endpoints: ["a:eth1", "c:eth0"]
"""


def test_the_plan_diffs_against_the_qdiscs_really_there(helper: RunningHelper) -> None:
    """Runs on any kernel (plan only): a pfifo put by hand on a lab interface in a
    namespace the file impairs is taken away; the file's netem is set."""
    apply(helper, THREE.replace("NETEM", ""))
    helper.sandbox.run("tc", "-n", "a", "qdisc", "add", "dev", "eth1", "root", "pfifo")
    with helper.client() as client:
        planned = client.call(
            "lab.plan", {"topology": THREE.replace("NETEM", ", netem: {delay: 5ms}")}
        )
    assert [s["command"] for s in planned["steps"]] == [
        "tc -n a qdisc replace dev eth0 root netem delay 5ms",
        "tc -n a qdisc del dev eth1 root",
    ]
    assert "pfifo" in root_qdisc(helper, "a", "eth1")  # a plan changes nothing
