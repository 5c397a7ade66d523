"""The bundled examples as the welcome view and run-example read them (issue 12)."""

from __future__ import annotations

from pathlib import Path

from nstopo.model.examples import bundled_examples, experiment_commands, header_comment
from nstopo.resources import EXAMPLES


def test_every_example_has_a_title_an_explanation_and_something_to_try() -> None:
    examples = bundled_examples(EXAMPLES)
    assert {e.name for e in examples} == {p.stem for p in EXAMPLES.glob("*.yaml")}
    assert examples[0].name == "loopback"  # experiment 1 first
    names = [e.name for e in examples]
    assert names.index("bridge-pitfall") + 1 == names.index("bridge-fixed")  # then its fix
    for example in examples:
        assert example.title and not example.title.startswith("Experiment"), example
        assert example.explanation.startswith(example.explanation.split("\n")[0])
        assert "#" not in example.explanation.split("\n")[0]
        assert example.commands, f"{example.name} says nothing to try"


def test_the_pitfall_names_its_captures_its_ping_and_its_fix() -> None:
    pitfall = next(e for e in bundled_examples(EXAMPLES) if e.name == "bridge-pitfall")
    assert pitfall.commands == (
        ("ping", "bridge-pitfall", "hub", "a", "-I", "p0"),
        ("capture", "bridge-pitfall", "hub:p0", "arp"),
        ("capture", "bridge-pitfall", "hub:br0", "arp"),
    )
    assert pitfall.fix == "bridge-fixed"


def test_commands_end_at_wide_gaps_arrows_chains_and_quotes() -> None:
    text = (
        "Try:  nstopo apply x.yaml && nstopo ping lab a 10.0.0.1\n"
        "   nstopo capture lab a:eth0 arp     -> a reply\n"
        "`nstopo validate` warns; (see nstopo status lab)\n"
        "nstopo ping lab a b   and   nstopo ping lab a b\n"
    )
    assert experiment_commands(text) == (
        ("apply", "x.yaml"),
        ("ping", "lab", "a", "10.0.0.1"),
        ("capture", "lab", "a:eth0", "arp"),
        ("status", "lab"),
        ("ping", "lab", "a", "b"),
    )


def test_the_header_comment_stops_at_the_first_line_of_yaml(tmp_path: Path) -> None:
    assert header_comment("# one\n#\n#   two\nnstopo: 1\n# later\n") == "one\n\n  two"
