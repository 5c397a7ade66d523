"""A listener gets the whole first state of a lab applied after it subscribed, even if it
was slow to read (issue 12, item 6: on a 200-namespace lab "n126:eth0: missing from
the kernel ... and 67 more" stayed while the interfaces were up: the new watchers'
first dumps had been dropped with the outbox full)."""

from __future__ import annotations

import json
import socket
import time

from helper_process import RunningHelper
from labs import star
from nstopo.model.schema import to_document
from sandbox import needs_root

pytestmark = needs_root
SIZE = 250


def test_a_slow_listener_still_gets_every_new_namespaces_first_state(
    helper: RunningHelper,
) -> None:
    with socket.socket(socket.AF_UNIX) as slow:
        slow.connect(str(helper.socket))
        for number, (method, params) in enumerate(
            [("hello", {"protocol": [1]}), ("events.subscribe", {"lab": "star"})]
        ):
            request = {"jsonrpc": "2.0", "id": number, "method": method, "params": params}
            slow.sendall(json.dumps(request).encode() + b"\n")
        # It reads nothing while another client applies the lab.
        with helper.client() as client:
            client.call("lab.apply", {"topology": to_document(star(SIZE))})
            received = b""
            slow.settimeout(2.0)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    chunk = slow.recv(1 << 20)
                except TimeoutError:
                    break
                if not chunk:
                    break
                received += chunk
            client.call("lab.destroy", {"lab": "star"})
    messages = [json.loads(line) for line in received.splitlines() if line.strip()]
    up = {
        m["params"]["namespace"]
        for m in messages
        if m.get("method") == "link.changed"
        and m["params"]["name"] == "eth0"
        and m["params"]["change"] == "new"
    }
    addressed = {
        m["params"]["namespace"]
        for m in messages
        if m.get("method") == "addr.changed" and m["params"]["address"].startswith("10.100.")
    }
    wanted = {f"s{i}" for i in range(SIZE)}
    assert wanted - up == set(), f"{len(wanted - up)} namespaces' eth0 never reported"
    assert wanted - addressed == set(), f"{len(wanted - addressed)} addresses never reported"
