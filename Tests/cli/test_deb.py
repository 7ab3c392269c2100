"""make deb: the package's metadata and contents, and — when kea-lwm2m is
not installed on this machine already — a real dpkg -i, Kea loading the
hook from Debian's hooks directory, the demo using it, and dpkg --purge
(always, also when a check fails)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import lwm2mlab as lab
import make_fixtures as mf
from conftest import REPO, VERSION, needs_root, write_store
from test_install import EXPECTED, MULTIARCH, make

DEB = REPO / ".build" / f"kea-lwm2m_{VERSION}_amd64.deb"
HOOK = Path(f"/usr/lib/{MULTIARCH}/kea/hooks/libdhcp_lwm2m.so")
URI = "coaps://from-the-deb.example.com:5684"


@pytest.fixture(scope="module")
def deb() -> Path:
    make("deb")
    assert DEB.is_file()
    return DEB


def dpkg_deb(*args) -> str:
    return subprocess.run(["dpkg-deb", *map(str, args)], capture_output=True, text=True, check=True).stdout


def test_control(deb):
    fields = dict(re.findall(r"^ (\S+): (.*)$", dpkg_deb("-I", deb), re.M))
    assert fields["Package"] == "kea-lwm2m"
    assert fields["Version"] == VERSION
    assert fields["Architecture"] == "amd64"
    depends = [d.strip() for d in fields["Depends"].split(",")]
    assert depends[0] == "kea-dhcp4-server (>= 2.2) | kea-dhcp6-server (>= 2.2)"
    names = {d.split()[0] for d in depends[1:]}
    assert {"kea-common", "libc6", "libstdc++6"} <= names


def test_contents_match_make_install(deb, tmp_path):
    listed = {line.split()[-1].lstrip(".") for line in dpkg_deb("-c", deb).splitlines() if not line.startswith("d")}
    assert EXPECTED - {"/usr/share/kea-lwm2m/install-manifest"} <= listed
    destdir = tmp_path / "root"
    make("install", f"DESTDIR={destdir}")
    installed = {"/" + str(p.relative_to(destdir)) for p in destdir.rglob("*") if p.is_file()}
    assert listed == installed - {"/usr/share/kea-lwm2m/install-manifest"}


def test_hook_in_package_is_stripped(deb, tmp_path):
    dpkg_deb("-x", deb, tmp_path)
    out = subprocess.run(["file", str(tmp_path / HOOK.relative_to("/"))], capture_output=True, text=True).stdout
    assert ", stripped" in out


def installed_already() -> bool:
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "kea-lwm2m"], capture_output=True, text=True)
    return "installed" in status.stdout and "not-installed" not in status.stdout


@needs_root
def test_dpkg_install_kea_and_demo_then_purge(deb, tmp_path):
    if installed_already():
        pytest.skip("kea-lwm2m is installed on this machine already: not touching it")
    if HOOK.exists():
        pytest.skip(f"{HOOK} exists (installed by hand?): not touching it")
    try:
        subprocess.run(["dpkg", "-i", str(deb)], check=True, capture_output=True, text=True)
        assert HOOK.is_file()
        listed = subprocess.run(["dpkg", "-L", "kea-lwm2m"], capture_output=True, text=True, check=True).stdout
        assert str(HOOK) in listed and "/usr/bin/kea-lwm2m" in listed
        assert subprocess.run(["kea-lwm2m", "--version"], capture_output=True, text=True).stdout.strip() == VERSION

        # Kea loads the hook from the Debian hooks directory.
        store = write_store(tmp_path, [{"subnet-id": 1, "bootstrap-uri": URI}])
        with lab.Lab() as net, lab.KeaServer(net, 4, lab.base_config(4, HOOK, {"store-file": str(store)})):
            got = net.exchange([mf.FIXTURES["v4_discover_lwm2m"].frame()])
            (reply,) = [lab.decode(frame) for frames in got.values() for frame in frames]
            assert reply.value(224) == URI.encode()

        # The demo, without --hook (and without $KEA_LWM2M_HOOK), uses it.
        if shutil.which("dhclient"):
            env = {k: v for k, v in os.environ.items() if k != "KEA_LWM2M_HOOK"}
            demo = subprocess.run([sys.executable, str(REPO / "scripts" / "demo.py")], capture_output=True,
                                  text=True, env=env, timeout=300)
            print(demo.stdout, demo.stderr)
            assert demo.returncode == 0
            assert str(HOOK) in demo.stdout
    finally:
        subprocess.run(["dpkg", "--purge", "kea-lwm2m"], capture_output=True)
    assert not HOOK.exists()
    assert not Path("/usr/bin/kea-lwm2m").exists()
    assert not installed_already()
