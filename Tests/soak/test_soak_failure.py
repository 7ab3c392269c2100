"""The soak fails, and cleans up, when Kea goes down under it: Kea is killed
(SIGKILL, as a crash would end it) in the middle of a short v4 soak; the
soak must exit 1 naming the lost process, and leave no namespace, Kea or
temporary folder behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import lwm2mlab as lab

REPO = Path(__file__).resolve().parents[2]
SOAK = REPO / "scripts" / "soak" / "soak.py"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: creates network namespaces")


def namespaces_of(pid: int) -> list[str]:
    names = lab.sh("ip", "netns", "list").stdout.split()
    return [n for n in names if n.startswith((f"lwm2m-srv-{pid}-", f"lwm2m-cli-{pid}-"))]


def test_soak_fails_when_kea_dies(tmp_path):
    hook = lab.hook_path()
    if not hook.is_file():
        pytest.fail(f"hook not built: {hook}")
    env = dict(os.environ, SOAK_WORK=str(tmp_path), SOAK_FAMILIES="4", SOAK_SECONDS="20", SOAK_SEGMENT="10",
               SOAK_CALM_SEGMENT="5", SOAK_WARMUP="3", SOAK_RATE="200", SOAK_CAPTURE_EVERY="2")
    soak = subprocess.Popen([sys.executable, str(SOAK)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        # Kea is the one process of the soak's server namespace.
        deadline = time.monotonic() + 120
        kea_pid = None
        while kea_pid is None and time.monotonic() < deadline and soak.poll() is None:
            for ns in namespaces_of(soak.pid):
                if ns.startswith("lwm2m-srv-"):
                    pids = lab.sh("ip", "netns", "pids", ns, check=False).stdout.split()
                    if pids and "kea-dhcp4" in Path(f"/proc/{pids[0]}/comm").read_text():
                        kea_pid = int(pids[0])
            time.sleep(0.2)
        assert kea_pid is not None, "no Kea found in the soak's namespace"
        time.sleep(12)                                   # into the segments
        os.kill(kea_pid, signal.SIGKILL)
        out, _ = soak.communicate(timeout=300)
    finally:
        if soak.poll() is None:
            soak.kill()
            soak.wait()
    print(out[-4000:])
    assert soak.returncode == 1, out[-4000:]
    assert f"Kea (PID {kea_pid}) is gone" in out, out[-4000:]
    assert "FAIL" in out and "crashes 1" in out, out[-4000:]
    assert namespaces_of(soak.pid) == []
    assert not any(p.name.startswith("run-v") for p in tmp_path.iterdir()), list(tmp_path.iterdir())
