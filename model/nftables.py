"""The nftables text nstopo loads for a node's `nat:` and `firewall:` keys.

No nft parser here: the ruleset a person writes goes to `nft -f` as written, inside a
text nstopo frames. One `nft -f` is one transaction, so loading a frame replaces the
node's rules atomically: packets see the old rules or the new ones, never none.

- A netns node with either key: the namespace's whole ruleset is the lab's
  (`flush ruleset`, then the firewall as written, then the NAT table).
- The host: only a table of the lab's own, `inet nstopo-<lab>`, replaced by the
  add-then-delete idiom (an empty add never fails, so the delete always finds it).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from .types import NatRule

NETNS_NAT_TABLE = "nstopo-nat"
# Lines of the netns frame before the firewall's first line (error lines map back).
FIREWALL_OFFSET = 1
_NFT_ERROR = re.compile(r"^[^:\n]*:(\d+):(\d+)(?:-\d+)?(?::\d+)?(?:-\d+)?: Error: (.*)$", re.M)


def host_table(lab: str) -> str:
    return f"nstopo-{lab}"


def _masquerade_rules(nat: tuple[NatRule, ...]) -> list[str]:
    rules = []
    for rule in nat:
        network = ipaddress.ip_network(rule.source, strict=False)
        family = "ip" if network.version == 4 else "ip6"
        match = f"{family} saddr {network}"
        if rule.out:
            match += f' oifname "{rule.out}"'
        else:  # traffic that stays inside the sources' own network keeps its address
            match += f" {family} daddr != {network}"
        rules.append(f"    {match} masquerade")
    return rules


def nat_table(name: str, nat: tuple[NatRule, ...]) -> str:
    body = "\n".join(_masquerade_rules(nat))
    return (
        f"table inet {name} {{\n"
        "  chain postrouting {\n"
        "    type nat hook postrouting priority srcnat; policy accept;\n"
        f"{body}\n"
        "  }\n"
        "}\n"
    )


def netns_ruleset(firewall: str | None, nat: tuple[NatRule, ...]) -> str:
    """The whole ruleset of a netns node (FIREWALL_OFFSET lines before the firewall)."""
    text = "flush ruleset\n"
    if firewall:
        text += firewall if firewall.endswith("\n") else firewall + "\n"
    if nat:
        text += nat_table(NETNS_NAT_TABLE, nat)
    return text


def host_ruleset(lab: str, nat: tuple[NatRule, ...]) -> str:
    name = host_table(lab)
    return f"table inet {name}\ndelete table inet {name}\n" + nat_table(name, nat)


def host_table_removal(lab: str) -> str:
    """Remove the lab's host table whether or not it is there (one transaction)."""
    name = host_table(lab)
    return f"table inet {name}\ndelete table inet {name}\n"


@dataclass(frozen=True)
class NftError:
    line: int  # in the text given to nft
    col: int
    message: str

    def in_firewall(self, offset: int = FIREWALL_OFFSET) -> NftError:
        """The same error, its line counted from the firewall's first line."""
        return NftError(self.line - offset, self.col, self.message)


def nft_errors(stderr: str) -> list[NftError]:
    """nft's `file:line:col-col: Error: ...` lines; one without a place as line 0."""
    found = [NftError(int(m[1]), int(m[2]), m[3].strip()) for m in _NFT_ERROR.finditer(stderr)]
    if not found and stderr.strip():
        first = stderr.strip().splitlines()[0]
        found = [NftError(0, 0, first.removeprefix("Error: "))]
    return found
