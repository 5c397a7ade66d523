"""`nstopo show LAB NODE [routes|rules|neigh|firewall]`: what the kernel holds in the
node's namespace, as iproute2 and nft print it (the helper reads it there)."""

from __future__ import annotations

import argparse
import json

from nstopo.backend.client import HelperClient
from nstopo.protocol.methods import Method

SECTIONS = ("routes", "rules", "neigh", "firewall")


def cmd_show(args: argparse.Namespace) -> int:
    sections = [args.section] if args.section else list(SECTIONS)
    with HelperClient() as client:
        found = client.call(
            Method.NODE_SHOW, {"lab": args.lab, "node": args.node, "sections": sections}
        )
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    for name in sections:
        section = found["sections"][name]
        if not args.section:  # several parts: say which is which
            print(f"# {name} ({'; '.join(section['commands'])})")
        print(section["text"], end="")
    return 0
