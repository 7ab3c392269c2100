"""The soak (scripts/soak/soak.py) in a short configuration, against the Kea
of $KEA_LWM2M_KEA with $KEA_LWM2M_HOOK (`make soak-test` runs it for every
supported Kea; the Makefile's SOAK_TEST_ENV sets the short run, `make soak`
the long one).

The short run drives Kea at half of what the flood measured (the long run:
70 %), so that two calm and two storm segments of a few seconds are not at
the mercy of a busy machine.  The script fails on its own when a criterion
is violated; this test also
checks that the run did what a soak must do, so that a soak that stormed
nothing or captured nothing cannot pass.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import lwm2mlab as lab

REPO = Path(__file__).resolve().parents[2]
SOAK = REPO / "scripts" / "soak" / "soak.py"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: creates network namespaces")


def test_short_soak(tmp_path):
    hook = lab.hook_path()
    if not hook.is_file():
        pytest.fail(f"hook not built: {hook}")
    env = dict(os.environ, SOAK_WORK=str(tmp_path))
    for name, default in (("SOAK_SECONDS", "20"), ("SOAK_SEGMENT", "10"), ("SOAK_CALM_SEGMENT", "5"),
                          ("SOAK_WARMUP", "4"), ("SOAK_PROBE_SECONDS", "3"), ("SOAK_CAPTURE_EVERY", "2"),
                          ("SOAK_MIN_REPLIES", "2000"), ("SOAK_LOAD", "0.5")):
        env.setdefault(name, default)
    res = subprocess.run([sys.executable, str(SOAK)], env=env, capture_output=True, text=True, timeout=1200)
    print(res.stdout[-6000:])
    assert res.returncode == 0, f"soak failed ({res.returncode}):\n{res.stdout[-6000:]}\n{res.stderr[-3000:]}"
    version = lab.kea_under_test().version
    data = json.loads((tmp_path / "results" / f"soak-kea-{version}.json").read_text())
    assert [r["family"] for r in data["results"]] == [4, 6]
    for r in data["results"]:
        assert r["failures"] == [] and r["crashes"] == 0, r
        writes = r["storm"]["writes"]
        assert writes["good"] >= 50 and all(writes[k] >= 5 for k in writes), writes
        assert r["storm"]["config_reloads"] >= 2 and sum(r["storm"]["lwm2m_reloads"].values()) >= 2, r["storm"]
        assert r["replies"]["captured"] >= 2000 and r["replies"]["versions_seen"] >= 2, r["replies"]
        assert r["replies"]["problems"] == {}, r["replies"]
        assert r["end"]["served_at_end"] == r["end"]["last_good"], r["end"]
        assert {s["kind"] for s in r["segments"]} == {"calm", "storm"}
        assert all(s["received"] > 0 for s in r["segments"]), r["segments"]
        assert r["resources"]["threads_end"] == r["resources"]["threads_start"], r["resources"]
        # The hook reloaded good versions during the storm, and reported broken ones.
        assert r["log"]["LWM2M_RELOADED"] >= 2, r["log"]
