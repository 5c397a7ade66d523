"""What the kernel should hold for a topology, in tests/kernel_facts.py's vocabulary."""

from __future__ import annotations

import ipaddress

from nstopo.model.plan import DEFAULT_MTU
from nstopo.model.state import KernelState


def expected_facts(state: KernelState) -> dict:
    devices = {
        f"{d.ns or ''}/{d.name}": {
            "kind": d.kind,
            "up": d.up,
            "mtu": d.mtu or DEFAULT_MTU,
            "master": d.master,
            "mac": d.mac,
        }
        for d in state.devices.values()
    }
    interfaces = [(ns or "", dev, ipaddress.ip_interface(a)) for ns, dev, a in state.addresses]
    return {
        "namespaces": sorted(state.namespaces),
        "devices": devices,
        "addresses": sorted(
            f"{ns}/{dev}/{i.ip}/{i.network.prefixlen}" for ns, dev, i in interfaces
        ),
        "routes": sorted(f"{ns or ''}|{r.to}|{r.via}" for ns, r in state.routes),
        "sysctls": {f"{ns}/{key}": value for (ns, key), value in state.sysctls.items()},
        "loopback": dict(state.namespaces),
    }


def assert_kernel_matches(
    facts: dict, expected: dict, ignore_devices: tuple[str, ...] = ()
) -> None:
    """Every expected object is there with its attributes, and nothing else is."""
    devices = {k: v for k, v in facts["devices"].items() if k not in ignore_devices}
    for key, device in expected["devices"].items():
        assert key in devices, f"{key} missing; kernel has {sorted(devices)}"
        want = {k: v for k, v in device.items() if not (k == "mac" and v is None)}
        assert {k: devices[key][k] for k in want} == want, key
    assert sorted(devices) == sorted(expected["devices"])
    for name in ("namespaces", "addresses", "routes", "sysctls", "loopback"):
        assert facts[name] == expected[name], name
