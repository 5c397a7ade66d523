"""Link impairments (`netem:` on a link or an endpoint): what the file says, what the
kernel's netem qdisc holds, and the `tc` words a person would type for it.

A `Netem` keeps the text as written (`20ms`, `1%`, `10mbit`) so saving keeps it;
`NetemValues` is the same in the kernel's units, and the only thing ever compared
(a file's `20ms` and the kernel's 312500 ticks are the same delay).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints

from .problems import Path, Problem, error

_NUMBER = r"(?:\d+(?:\.\d+)?|\.\d+)"
DURATION_RE = re.compile(rf"^({_NUMBER})(us|ms|s)$")
PERCENT_RE = re.compile(rf"^({_NUMBER})%$")
# The JSON Schema's form: 0% to 100% (validate says "loss 140% is more than 100%").
PERCENT_SCHEMA = r"^(?:100(?:\.0+)?|\d{1,2}(?:\.\d+)?|\.\d+)%$"
RATE_RE = re.compile(rf"^({_NUMBER})(kbit|mbit|gbit)$")
_DURATION_US = {"us": 1, "ms": 1000, "s": 1_000_000}
_RATE_BITS = {"kbit": 1000, "mbit": 1000_000, "gbit": 1000_000_000}
U32 = 2**32 - 1
# netem's delay travels in psched ticks of 64 ns (PSCHED_SHIFT 6, fixed since 2.6.x);
# its rate in bytes per second, as a u32 (~34 Gbit/s at most).
TICK_NS = 64
MAX_DELAY_US = U32 * TICK_NS // 1000
MAX_RATE_BITS = 32_000_000_000
DEFAULT_LIMIT = 1000  # packets: the kernel's (and tc's) default netem queue


def _text_like(example: str, pattern: re.Pattern[str]) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, str):
            raise ValueError(f"should be text like {example}")
        if not pattern.match(value):
            raise ValueError(f"should be written like {example}")
        if pattern is PERCENT_RE and percent(value) > 100:
            raise ValueError("is more than 100%; write a percentage from 0% to 100%")
        return value

    return BeforeValidator(check)


# The validators come after the pattern so the JSON Schema keeps it (see types.py).
Duration = Annotated[
    str, StringConstraints(pattern=DURATION_RE.pattern), _text_like("20ms", DURATION_RE)
]
Percent = Annotated[
    str, StringConstraints(pattern=PERCENT_SCHEMA), _text_like("1% or 0.5%", PERCENT_RE)
]
Rate = Annotated[str, StringConstraints(pattern=RATE_RE.pattern), _text_like("10mbit", RATE_RE)]


def _packets(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("should be a whole number of packets, like 1000")
    return value


Limit = Annotated[int, Field(ge=1, le=U32), BeforeValidator(_packets)]


@dataclass(frozen=True)
class Netem:
    """What one end sends is delayed, dropped, duplicated, reordered, corrupted or
    paced: a netem qdisc at the root of that interface. Empty: no impairment."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # unknown keys are errors
    delay: Duration | None = None
    jitter: Duration | None = None
    loss: Percent | None = None
    duplicate: Percent | None = None
    reorder: Percent | None = None
    corrupt: Percent | None = None
    rate: Rate | None = None
    limit: Limit | None = None

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))


FIELDS = tuple(f.name for f in fields(Netem))
PERCENT_FIELDS = ("loss", "duplicate", "reorder", "corrupt")


def effective(link_netem: Netem | None, end_netem: Netem | None) -> Netem | None:
    """What an end sends with: its own netem, else the link's (None: no qdisc).
    An endpoint's empty `netem: {}` means this direction is not impaired."""
    chosen = end_netem if end_netem is not None else link_netem
    return chosen if chosen else None


# -- units ------------------------------------------------------------------------------


def duration_us(text: str) -> int:
    match = DURATION_RE.match(text)
    assert match, text
    return round(float(match[1]) * _DURATION_US[match[2]])


def percent(text: str) -> float:
    match = PERCENT_RE.match(text)
    assert match, text
    return float(match[1])


def rate_bits(text: str) -> int:
    match = RATE_RE.match(text)
    assert match, text
    return round(float(match[1]) * _RATE_BITS[match[2]])


def _probability(text: str | None) -> int:
    return 0 if text is None else min(U32, round(percent(text) / 100 * U32))


@dataclass(frozen=True)
class NetemValues:
    """A netem qdisc in the kernel's units: microseconds, u32 probabilities
    (0..2**32-1 for 0..100%), bytes per second, packets."""

    delay_us: int = 0
    jitter_us: int = 0
    loss: int = 0
    duplicate: int = 0
    reorder: int = 0
    corrupt: int = 0
    rate_bytes: int = 0  # 0: not paced
    limit: int = DEFAULT_LIMIT

    @property
    def delay_ticks(self) -> int:
        return round(self.delay_us * 1000 / TICK_NS)

    @property
    def jitter_ticks(self) -> int:
        return round(self.jitter_us * 1000 / TICK_NS)


def values(netem: Netem) -> NetemValues:
    """The kernel's numbers for what the file says (assumed valid)."""
    return NetemValues(
        delay_us=duration_us(netem.delay) if netem.delay else 0,
        jitter_us=duration_us(netem.jitter) if netem.jitter else 0,
        loss=_probability(netem.loss),
        duplicate=_probability(netem.duplicate),
        reorder=_probability(netem.reorder),
        corrupt=_probability(netem.corrupt),
        rate_bytes=round(rate_bits(netem.rate) / 8) if netem.rate else 0,
        limit=netem.limit if netem.limit is not None else DEFAULT_LIMIT,
    )


def _duration_text(us: int) -> str:
    if us and us % 1_000_000 == 0:
        return f"{us // 1_000_000}s"
    if us % 1000 == 0:
        return f"{us // 1000}ms"
    return f"{us}us"


def _percent_text(probability: int) -> str:
    text = f"{probability / U32 * 100:.4f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _rate_text(bytes_per_s: int) -> str:
    bits = bytes_per_s * 8
    for unit in ("gbit", "mbit", "kbit"):
        if bits % _RATE_BITS[unit] == 0:
            return f"{bits // _RATE_BITS[unit]}{unit}"
    return f"{bits / 1000:g}kbit"


def from_values(v: NetemValues) -> Netem:
    """The file's words for what the kernel holds (for status, drift, discover)."""
    return Netem(
        delay=_duration_text(v.delay_us) if v.delay_us else None,
        jitter=_duration_text(v.jitter_us) if v.jitter_us else None,
        loss=_percent_text(v.loss) if v.loss else None,
        duplicate=_percent_text(v.duplicate) if v.duplicate else None,
        reorder=_percent_text(v.reorder) if v.reorder else None,
        corrupt=_percent_text(v.corrupt) if v.corrupt else None,
        rate=_rate_text(v.rate_bytes) if v.rate_bytes else None,
        limit=v.limit if v.limit != DEFAULT_LIMIT else None,
    )


def same(a: Netem | None, b: Netem | None) -> bool:
    """Do two impairments do the same to packets (whatever their spelling)?"""
    if not a or not b:
        return not a and not b
    return values(a) == values(b)


# -- words ------------------------------------------------------------------------------


def tc_words(netem: Netem) -> list[str]:
    """`netem delay 20ms 2ms loss 1% ...` as tc reads it (after `qdisc replace dev X root`)."""
    words = ["netem"]
    if netem.delay:
        words += ["delay", netem.delay, *([netem.jitter] if netem.jitter else [])]
    for name in PERCENT_FIELDS:
        value = getattr(netem, name)
        if value:
            words += [name, value]
    if netem.rate:
        words += ["rate", netem.rate]
    if netem.limit is not None:
        words += ["limit", str(netem.limit)]
    return words


def label(netem: Netem | None) -> str:
    """A short label for the canvas: `20 ms ±2, 1% loss, 10 Mbit/s`."""
    if not netem:
        return ""
    parts: list[str] = []
    if netem.delay:
        delay = _short_duration(netem.delay)
        if netem.jitter:
            jitter = _short_duration(netem.jitter)
            unit = delay.split(" ")[1]
            jitter = jitter.removesuffix(f" {unit}") if jitter.endswith(f" {unit}") else jitter
            delay += f" ±{jitter}"
        parts.append(delay)
    for name in PERCENT_FIELDS:
        value = getattr(netem, name)
        if value:
            parts.append(f"{value} {name}")
    if netem.rate:
        match = RATE_RE.match(netem.rate)
        assert match
        parts.append(f"{match[1]} {match[2][0].upper()}bit/s".replace("Kbit", "kbit"))
    if netem.limit is not None:
        parts.append(f"limit {netem.limit}")
    return ", ".join(parts)


def _short_duration(text: str) -> str:
    match = DURATION_RE.match(text)
    assert match
    return f"{match[1]} {'µs' if match[2] == 'us' else match[2]}"


# -- checks -----------------------------------------------------------------------------


def problems(netem: Netem, path: Path, where: str) -> list[Problem]:
    """What the kernel would refuse or what makes no sense; `where` names the place in
    words (`link 1`, `link 1, endpoint 2`), `path` points at the `netem` key."""
    found: list[Problem] = []
    why = {
        "jitter": "jitter varies the delay, and there is none",
        "reorder": "netem reorders by sending some packets at once, ahead of delayed ones",
    }
    for name in ("jitter", "reorder"):
        if getattr(netem, name) and not netem.delay:
            found.append(
                error(
                    "netem",
                    f"{where}: {name} without delay: {why[name]}; "
                    "add a delay (like delay: 20ms) or drop the key",
                    (*path, name),
                )
            )
    for name in PERCENT_FIELDS:
        value = getattr(netem, name)
        if value and percent(value) > 100:
            found.append(
                error(
                    "netem",
                    f"{where}: {name} {value} is more than 100%; write a percentage "
                    "from 0% to 100%",
                    (*path, name),
                )
            )
    for name in ("delay", "jitter"):
        value = getattr(netem, name)
        if value and duration_us(value) > MAX_DELAY_US:
            found.append(
                error(
                    "netem",
                    f"{where}: {name} {value} is longer than netem can hold "
                    f"({MAX_DELAY_US // 1_000_000} s); write a shorter one",
                    (*path, name),
                )
            )
    if netem.rate:
        bits = rate_bits(netem.rate)
        if bits < 8 or bits > MAX_RATE_BITS:
            found.append(
                error(
                    "netem",
                    f"{where}: rate {netem.rate} is out of netem's range; write one "
                    "from 1kbit to 32gbit",
                    (*path, "rate"),
                )
            )
    return found


def link_problems(link: Any, index: int) -> list[Problem]:
    """The problems of a link's and its endpoints' `netem` keys (a `Link`)."""
    found: list[Problem] = []
    if link.netem:
        found += problems(link.netem, ("links", index, "netem"), f"link {index + 1}")
    for end, ep in enumerate(link.endpoints):
        if ep.netem:
            path = ("links", index, "endpoints", end, "netem")
            found += problems(ep.netem, path, f"link {index + 1}, endpoint {end + 1}")
    return found


# What a device has when nobody set a root qdisc (veths and bridges: noqueue).
DEFAULT_QDISCS = frozenset({"noqueue", "pfifo_fast", "fq_codel", "mq"})


def drift(want: Netem | None, live: dict[str, Any]) -> list[str]:
    """How an interface's root qdisc, as the helper reports it (`qdisc`, `netem`),
    differs from the impairment the document gives it (empty: it matches)."""
    if "qdisc" not in live:
        return []  # a helper that does not report qdiscs
    kind = live.get("qdisc")
    have = Netem(**live["netem"]) if kind == "netem" and live.get("netem") else None
    wanted = label(want) if want else "none"
    if kind == "netem" and have is not None:
        return [] if same(have, want) else [f"netem {label(have)} (document: {wanted})"]
    if kind is not None and kind not in DEFAULT_QDISCS:
        return [f"root qdisc {kind} set outside nstopo (document: netem {wanted})"]
    return [f"netem missing (document: {wanted})"] if want else []
