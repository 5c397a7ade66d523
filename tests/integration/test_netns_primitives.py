"""backend/netns.py and backend/rtnl.py on the real kernel, inside a sandbox."""

from __future__ import annotations

import json
import sys
import textwrap

from sandbox import needs_root, quote, run_sandboxed

PROBE = textwrap.dedent("""
    import json, os, subprocess
    from nstopo.backend import rtnl
    from nstopo.backend.netns import NamespaceWorker

    def ip(*args):
        return subprocess.run(["ip", *args], capture_output=True, text=True, check=True).stdout

    def names(text):
        return sorted(line.split()[0].split("@")[0] for line in text.splitlines())

    def children():
        import glob
        return "".join(open(f).read() for f in glob.glob(f"/proc/{os.getpid()}/task/*/children"))

    out = {}
    w = NamespaceWorker()
    started = children()
    a, b = w.create("lab-a"), w.create("lab-b")
    out["forked"] = children() != started  # pyroute2's netns code forks; ours must not
    out["listed"] = sorted(ip("netns", "list").split())
    out["fresh"] = [link.name for link in a.links()]
    # A veth made through a's socket lands in lab-a, its peer directly in lab-b.
    fd = os.open("/run/netns/lab-b", os.O_RDONLY)
    out["created"] = a.run([rtnl.new_veth("p0", "eth0", fd, None, None, None)])
    os.close(fd)
    out["in_a"] = names(ip("-n", "lab-a", "-br", "link"))
    out["in_b"] = names(ip("-n", "lab-b", "-br", "link"))
    out["in_root"] = names(ip("-br", "link"))
    again = w.open("lab-b")
    out["reopened"] = sorted(link.name for link in again.links())
    for name, call in (("missing", lambda: w.open("nope")), ("taken", lambda: w.create("lab-a"))):
        try:
            call()
            out[name] = "no error"
        except OSError as exc:
            out[name] = type(exc).__name__
    out["after_errors"] = sorted(ip("netns", "list").split())
    out["b_untouched"] = names(ip("-n", "lab-b", "-br", "link"))
    for handle in (a, b, again):
        handle.close()
    w.delete("lab-a")
    w.delete("lab-b")
    out["left"] = ip("netns", "list")
    w.close()
    print(json.dumps(out))
""")


@needs_root
def test_namespaces_are_created_opened_and_deleted_in_process() -> None:
    done = run_sandboxed(quote(sys.executable, "-c", PROBE))
    out = json.loads(done.stdout)
    assert out["listed"] == ["lab-a", "lab-b"]
    assert out["forked"] is False
    assert out["fresh"] == ["lo"]
    assert out["created"] == [0]
    assert out["in_a"] == ["lo", "p0"]
    assert out["in_b"] == ["eth0", "lo"]
    assert out["in_root"] == ["lo"]  # nothing leaked into the helper's own namespace
    assert out["reopened"] == ["eth0", "lo"]
    # Opening never creates (pyroute2's O_CREAT default would); a taken name is refused.
    assert (out["missing"], out["taken"]) == ("FileNotFoundError", "FileExistsError")
    assert out["after_errors"] == ["lab-a", "lab-b"]
    assert out["b_untouched"] == ["eth0", "lo"]
    assert out["left"] == ""
