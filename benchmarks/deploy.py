"""Deploy benchmark: nstopo apply + destroy against a shell script of `ip` commands.

The lab is a star of N namespaces, each with lo up and a veth to one bridge in a
hub namespace, one address each (tests/labs.py). Both ways run in the same
sandbox, one after the other, so they see the same kernel. Needs root; touches
nothing outside its sandbox.

    sudo .venv/bin/python benchmarks/deploy.py [N ...]      (default: 100 300)
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from helper_process import helper_in_sandbox
from labs import star
from nstopo.model.schema import to_document
from nstopo.model.script import export_script
from nstopo.model.types import Endpoint


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


ROUNDS = 3  # each figure is the median of this many runs (the machine is noisy)
REAPPLIES = 7


def main(sizes: list[int]) -> None:
    rows: dict[int, dict[str, list[float]]] = {n: {} for n in sizes}

    def record(n: int, key: str, value: float) -> None:
        rows[n].setdefault(key, []).append(value)

    with helper_in_sandbox("nstopo-bench-") as helper:
        box = helper.sandbox
        with helper.client() as client:  # warm-up: first namespace, first imports
            client.call("lab.apply", {"topology": to_document(star(5, "warm"))})
            client.call("lab.destroy", {"lab": "warm"})
        for _ in range(ROUNDS):
            for n in sizes:
                topo = star(n)
                script = helper.base / f"star{n}.sh"
                script.write_text(export_script(topo))
                with helper.client() as client:
                    record(n, "apply", timed(client.call, "lab.apply",
                                             {"topology": to_document(topo)}))  # fmt: skip
                    if n == max(sizes) and "rss_mb" not in rows[n]:
                        record(n, "rss_mb", client.call("helper.info")["rss_kib"] / 1024)
                        for i in range(REAPPLIES):
                            record(n, "reapply_ms", reapply_one_address(client, topo, i))
                    record(n, "destroy", timed(client.call, "lab.destroy", {"lab": "star"}))
                record(n, "shell_up", timed(box.run, "bash", str(script), "up"))
                record(n, "shell_down", timed(box.run, "bash", str(script), "down"))
    report(rows)


def reapply_one_address(client, topo, i: int) -> float:
    edited = topo.copy()
    lid = edited.link_ids()[0]
    a, b = edited.link(lid).endpoints
    edited.update_link(lid, endpoints=(Endpoint(a.node, a.interface, (f"10.100.9.{i}/16",)), b))
    reply = client.call("lab.apply", {"topology": to_document(edited)})
    assert len(reply["steps"]) == 2, reply["steps"]
    return reply["elapsed_ms"]


def report(rows: dict[int, dict[str, list[float]]]) -> None:
    med = {n: {k: statistics.median(v) for k, v in r.items()} for n, r in rows.items()}
    print(f"deploy benchmark, star lab, median of {ROUNDS} rounds, {os.cpu_count()} CPUs")
    for n, r in med.items():
        ours, shell = r["apply"] + r["destroy"], r["shell_up"] + r["shell_down"]
        print(
            f"N={n:4d}  nstopo apply {r['apply']:6.2f} s + destroy {r['destroy']:5.2f} s = "
            f"{ours:6.2f} s | shell up {r['shell_up']:6.2f} s + down {r['shell_down']:5.2f} s "
            f"= {shell:6.2f} s | nstopo/shell {ours / shell:4.2f}x"
        )
    if len(med) >= 2:
        small, large = min(med), max(med)
        cost = {n: med[n]["apply"] + med[n]["destroy"] for n in (small, large)}
        shell = {n: med[n]["shell_up"] + med[n]["shell_down"] for n in (small, large)}
        print(
            f"N={large} costs {cost[large] / cost[small]:4.2f}x N={small} "
            f"(the shell script: {shell[large] / shell[small]:4.2f}x)"
        )
    top = rows[max(rows)]
    print(
        f"re-apply N={max(rows)} with one address changed, in the helper: median "
        f"{statistics.median(top['reapply_ms']):.1f} ms, min {min(top['reapply_ms']):.1f} ms, "
        f"max {max(top['reapply_ms']):.1f} ms ({REAPPLIES} runs, 2 steps each)"
    )
    print(f"helper RSS with the N={max(rows)} lab up: {top['rss_mb'][0]:.1f} MB")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 300])
