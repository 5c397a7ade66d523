"""Print, as JSON, what the kernel holds in this network stack (run inside a sandbox).

Read with `ip -j` only, independently of nstopo's own code, so tests compare the
model's expectations against the kernel, not against themselves.
"""

from __future__ import annotations

import json
import subprocess
import sys


def ip_json(ns: str | None, *args: str) -> list[dict]:
    prefix = ["ip", "-n", ns] if ns else ["ip"]
    out = subprocess.run([*prefix, "-j", *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout or "[]")


def facts(sysctl_keys: list[str]) -> dict:
    namespaces = sorted(entry["name"] for entry in ip_json(None, "netns", "list"))
    devices, addresses, routes, loopback = {}, [], [], {}
    for ns in [None, *namespaces]:
        where = ns or ""
        for link in ip_json(ns, "-d", "link", "show"):
            name = link["ifname"]
            if name == "lo":
                loopback[where] = "UP" in link["flags"]
                continue
            info = link.get("linkinfo", {})
            kind = info.get("info_kind", "?")
            if kind == "tun":
                kind = info.get("info_data", {}).get("type", "tun")
            devices[f"{where}/{name}"] = {
                "kind": kind,
                "up": "UP" in link["flags"],
                "mtu": link["mtu"],
                "mac": link.get("address"),
                "master": link.get("master"),
            }
        for link in ip_json(ns, "addr", "show"):
            for a in link.get("addr_info", []):
                if a["local"].startswith("fe80:") or link["ifname"] == "lo":
                    continue
                addresses.append(f"{where}/{link['ifname']}/{a['local']}/{a['prefixlen']}")
        for family in ("-4", "-6"):
            for r in ip_json(ns, family, "route", "show"):
                if r.get("protocol") in ("kernel", "ra") or r.get("type") == "multicast":
                    continue
                routes.append(f"{where}|{r['dst']}|{r.get('gateway')}")
    sysctls = {}
    for item in sysctl_keys:
        ns, key = item.split("/", 1)
        out = subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-n", key],
                             capture_output=True, text=True, check=True)  # fmt: skip
        sysctls[item] = out.stdout.strip()
    return {
        "namespaces": namespaces,
        "devices": devices,
        "addresses": sorted(addresses),
        "routes": sorted(routes),
        "sysctls": sysctls,
        "loopback": {k: v for k, v in loopback.items() if k},
    }


if __name__ == "__main__":
    json.dump(facts(sys.argv[1:]), sys.stdout, sort_keys=True)
