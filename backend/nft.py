"""Running the nft tool in a namespace, and checking rulesets without touching one.

nft is run, not linked (libnftables would tie the helper to one nftables ABI): it reads
the text as a person's `nft -f` would, so its errors are the ones the person knows.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from nstopo.model.nftables import NftError, nft_errors

NFT_TIMEOUT_S = 30.0


class NftFailed(OSError):
    """nft refused the text; `errors` are its placed messages."""

    def __init__(self, errors: list[NftError], text: str) -> None:
        super().__init__(text)
        self.errors = errors


def available() -> bool:
    return shutil.which("nft") is not None


def _inside(namespace: Path | None, argv: list[str]) -> list[str]:
    # nsenter opens the namespace file in the helper's own mount namespace (its /run/netns).
    return argv if namespace is None else ["nsenter", f"--net={namespace}", "--", *argv]


def run(namespace: Path | None, args: list[str], text: str | None = None) -> str:
    """`nft ARGS` in the namespace behind `namespace` (None: this one); its stdout."""
    if not available():
        raise NftFailed([NftError(0, 0, "the nft tool is not installed")], "nft missing; "
                        "install the nftables package")  # fmt: skip
    done = subprocess.run(
        _inside(namespace, ["nft", *args]),
        input=text,
        capture_output=True,
        text=True,
        timeout=NFT_TIMEOUT_S,
    )
    if done.returncode != 0:
        errors = nft_errors(done.stderr)
        raise NftFailed(errors, "; ".join(e.message for e in errors) or "nft failed")
    return done.stdout


def load(namespace: Path | None, text: str) -> None:
    run(namespace, ["-f", "-"], text)


def check(text: str) -> list[NftError] | None:
    """nft's complaints about `text`, checked (`nft -c`) in a throw-away network
    namespace, so nothing on the machine changes; None when it cannot be checked here
    (no nft, or unprivileged user namespaces are off)."""
    if not available() or shutil.which("unshare") is None:
        return None
    argv = ["unshare", "--net", "--user", "--map-root-user", "nft", "-c", "-f", "-"]
    try:
        done = subprocess.run(argv, input=text, capture_output=True, text=True,
                              timeout=NFT_TIMEOUT_S)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode == 0:
        return []
    if "unshare:" in done.stderr:  # the sandbox itself could not be made
        return None
    return nft_errors(done.stderr)
