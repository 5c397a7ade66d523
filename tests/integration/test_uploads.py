"""A topology bigger than one request line (1 MiB) goes in upload.part pieces: from the
command line as the file's YAML text (its problems keep their lines), from the editor
as a JSON document; the budgets refuse what is too big and the helper keeps serving."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from helper_process import NSTOPO, RunningHelper
from nstopo.model.inputbudget import MAX_TEXT_CHARS
from nstopo.model.schema import to_document
from nstopo.model.yamlfile import load
from nstopo.protocol.errors import ErrorCode, RpcError
from nstopo.protocol.upload import upload_parts
from nstopo.protocol.wire import MAX_MESSAGE_BYTES
from nstopo.resources import EXAMPLES
from sandbox import needs_root

pytestmark = needs_root

# A comment that makes the file three request lines long, with what a line can hold
# least of: characters JSON escapes (a tab is two bytes) and characters UTF-8 widens.
_LINE = "# " + "\t网" * 64 + "\n"  # 259 bytes
PADDING = _LINE * (3 * MAX_MESSAGE_BYTES // 250)


def test_the_command_line_applies_and_plans_a_file_bigger_than_a_request(
    helper: RunningHelper, tmp_path
) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(PADDING + (EXAMPLES / "bridge-fixed.yaml").read_text())
    assert len(path.read_bytes()) > 3 * MAX_MESSAGE_BYTES
    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([NSTOPO, *args], capture_output=True, text=True, env=env)

    applied = cli("apply", str(path))
    assert applied.stdout == "lab bridge-pitfall: applied 12 steps\n", applied.stderr
    assert "a\nhub\n" in helper.sandbox.run("ip", "netns", "list").stdout.replace(" ", "\n")
    planned = cli("plan", str(path))
    assert planned.returncode == 0 and planned.stdout == "", planned.stderr
    assert cli("destroy", "bridge-pitfall").returncode == 0

    # A problem below the padding is placed on its own line of the file.
    path.write_text(PADDING + "nstopo: 1\nname: big\nnodes:\n  a: {kind: nope}\n")
    refused = cli("apply", str(path))
    line = PADDING.count("\n") + 4
    assert refused.returncode == 1
    assert f"{path}:{line}:" in refused.stderr, refused.stderr


def test_the_editors_json_document_goes_in_pieces_too(helper: RunningHelper) -> None:
    topology = load(EXAMPLES / "veth-namespaces.yaml").topology
    document = to_document(topology)
    text = json.dumps(document) + " " * (2 * MAX_MESSAGE_BYTES)  # JSON allows the spaces
    name, parts = upload_parts(text)
    assert len(parts) >= 3
    with helper.client() as client:
        for part in parts:
            client.call("upload.part", part)
        result = client.call("lab.apply", {"upload": name, "upload_format": "json"})
        assert result["changed"] and result["lab"] == topology.name
        with pytest.raises(RpcError) as used:  # an upload is used once
            client.call("lab.plan", {"upload": name})
        assert used.value.code == ErrorCode.INVALID_PARAMS
        client.call("lab.destroy", {"lab": topology.name})


def test_the_upload_budgets_refuse_and_the_helper_keeps_serving(helper: RunningHelper) -> None:
    piece = "x" * (MAX_MESSAGE_BYTES // 2)
    with helper.client() as client:
        with pytest.raises(RpcError) as both:
            client.call("lab.plan", {"topology": "nstopo: 1", "upload": "u"})
        assert "either topology or upload" in both.value.message
        with pytest.raises(RpcError) as too_big:
            for _ in range(MAX_TEXT_CHARS // len(piece) + 1):
                client.call("upload.part", {"upload": "big", "text": piece})
        assert too_big.value.code == ErrorCode.INVALID_PARAMS
        assert "larger than 16 MiB" in too_big.value.message
        for n in range(4):
            client.call("upload.part", {"upload": f"u{n}", "text": "a"})
        with pytest.raises(RpcError) as many:
            client.call("upload.part", {"upload": "u4", "text": "a"})
        assert "4 unfinished uploads" in many.value.message
        # An upload belongs to its connection.
    with helper.client() as other:
        with pytest.raises(RpcError) as elsewhere:
            other.call("lab.apply", {"upload": "u0"})
        assert "no upload 'u0' on this connection" in elsewhere.value.message
        assert other.call("lab.status", {}) == []
