"""The exported shell script, run by hand as root, builds exactly what `plan` printed,
and `down` removes it. Runs every example inside a sandbox (tests/sandbox.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from expectations import assert_kernel_matches, expected_facts
from nstopo.model.plan import plan_up
from nstopo.model.script import export_script
from nstopo.model.state import kernel_state
from nstopo.model.yamlfile import load
from sandbox import needs_root, quote, run_sandboxed

FACTS = str(Path(__file__).parent.parent / "kernel_facts.py")


def script_commands(script: str, function: str) -> list[str]:
    """The `ip` commands of the script's function; a here-document (`nft -f - <<'NFT'`)
    stays one command with its text, as the plan writes it (its `}` lines are nft's)."""
    lines = script.split(f"\n{function}() {{\n", 1)[1].splitlines()
    commands: list[str] = []
    heredoc: list[str] | None = None
    for line in lines:
        if heredoc is not None:
            heredoc.append(line)
            if line == "NFT":
                commands[-1] += "\n" + "\n".join(heredoc)
                heredoc = None
        elif line == "}":
            break
        elif line.strip().startswith("ip "):
            commands.append(line.strip())
            heredoc = [] if line.endswith("<<'NFT'") else None
    return commands


@needs_root
def test_script_builds_the_plan_and_down_removes_it(example_file: Path, tmp_path: Path) -> None:
    topology = load(example_file).topology
    script = export_script(topology, example_file.name)
    assert script_commands(script, "up") == plan_up(topology).commands()
    target = tmp_path / "lab.sh"
    target.write_text(script)
    expected = expected_facts(kernel_state(topology))
    keys = list(expected["sysctls"])
    facts = quote(sys.executable, FACTS, *keys)
    host_netns_before = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)

    done = run_sandboxed(
        f"bash {quote(str(target))} up\n{facts}\necho\n"
        f"bash {quote(str(target))} down\n{quote(sys.executable, FACTS)}\n"
    )
    up_json, down_json = done.stdout.strip().split("\n")
    up, down = json.loads(up_json), json.loads(down_json)

    assert_kernel_matches(up, expected)

    assert down["namespaces"] == [] and down["devices"] == {} and down["addresses"] == []
    after = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    assert after.stdout == host_netns_before.stdout  # the sandbox kept the host untouched


@needs_root
def test_down_is_safe_to_run_twice_and_on_a_half_built_lab(tmp_path: Path) -> None:
    from nstopo.resources import EXAMPLES

    topology = load(EXAMPLES / "container-bridge.yaml").topology
    target = tmp_path / "lab.sh"
    target.write_text(export_script(topology))
    done = run_sandboxed(
        "ip netns add router\n"  # half-built: only one namespace exists
        f"bash {quote(str(target))} down\nbash {quote(str(target))} down\nip netns list\n"
    )
    assert done.stdout.strip() == ""


@needs_root
def test_the_scripts_ipv6_addresses_are_usable_at_once_as_the_helpers(tmp_path: Path) -> None:
    from nstopo.resources import EXAMPLES

    target = tmp_path / "lab.sh"
    target.write_text(export_script(load(EXAMPLES / "veth-namespaces.yaml").topology))
    done = run_sandboxed(
        f"bash {quote(str(target))} up\n"
        "ip -n left -6 addr show tentative scope global\n"  # no lab address waits for DAD
        "ip -n right -6 addr show tentative scope global\n"
        "echo ---\n"
        "ip netns exec left ping -6 -c 1 -W 3 fd00:10::2 >/dev/null && echo answered\n"
    )
    tentative, after = done.stdout.split("---\n")
    assert tentative.strip() == ""
    assert after.strip() == "answered"
