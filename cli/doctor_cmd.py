"""`nstopo doctor`: what on this machine silently breaks labs, and the fix.

The helper reads the machine (`host.doctor`: firewalls, sysctls, modules, the labs'
namespaces); this command adds what only the caller can see: whether the helper lets
it in (its group), whether the helper is this version, whether the helper's /run/netns
is the caller's. Exit 0 when nothing is found, 1 when something is. Reads only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from typing import Any

from nstopo import __version__
from nstopo.backend.client import HelperClient, HelperUnavailable
from nstopo.backend.doctorclient import all_findings
from nstopo.backend.paths import socket_path
from nstopo.model import doctor
from nstopo.protocol.errors import ErrorCode, RpcError
from nstopo.protocol.methods import Method


def _group_finding(path: str) -> doctor.Finding | None:
    import grp
    import pwd

    try:
        gid = os.stat(path).st_gid
        group = grp.getgrgid(gid)
        user = pwd.getpwuid(os.getuid())
    except (OSError, KeyError):
        return None
    listed = user.pw_name in group.gr_mem or user.pw_gid == gid
    return doctor.not_in_group(group.gr_name, user.pw_name, listed)


def diagnose() -> list[dict[str, Any]]:
    path = socket_path()
    try:
        client = HelperClient(path, timeout=60, client="nstopo-doctor")
    except HelperUnavailable as exc:
        denied = "permission denied" in exc.message
        finding = _group_finding(path) if denied else None
        return [(finding or doctor.no_helper(path)).to_json()]
    except RpcError as exc:
        if exc.code == ErrorCode.NOT_AUTHORIZED and (finding := _group_finding(path)):
            return [finding.to_json()]
        raise
    with client:
        server = client.server["server"]
        if Method.HOST_DOCTOR not in client.server["methods"]:
            old = doctor.helper_version(__version__, server)
            return [old.to_json()] if old else []
        answer = client.call(Method.HOST_DOCTOR)
    return all_findings(server, answer)


def render(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return "nstopo doctor: nothing found that breaks labs on this machine\n"
    lines = [f"nstopo doctor: {len(findings)} finding{'s' if len(findings) != 1 else ''}"]
    for finding in findings:
        lines += ["", f"* {finding['title']}"]
        lines += textwrap.wrap(finding["breaks"], 88, initial_indent="  breaks: ",
                               subsequent_indent=" " * 10)  # fmt: skip
        fix = finding["fix"].splitlines()
        lines.append(f"  fix:    {fix[0]}")
        lines += [f"          {line}" for line in fix[1:]]
        for affected in finding.get("affects", []):
            lines.append(f"  lab {affected['lab']}: {', '.join(affected['nodes'])}")
    return "\n".join(lines) + "\n"


def cmd_doctor(args: argparse.Namespace) -> int:
    findings = diagnose()
    if args.json:
        print(json.dumps(findings, indent=2))
    else:
        sys.stdout.write(render(findings))
    return 1 if findings else 0
