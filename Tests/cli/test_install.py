"""make install / make uninstall into a DESTDIR, and the INSTALLED hook
loaded by a real kea-dhcp4."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import lwm2mlab as lab
import make_fixtures as mf
from conftest import REPO, VERSION, needs_root, write_store

URI = "coaps://installed.example.com:5684"
MULTIARCH = subprocess.run(["gcc", "-print-multiarch"], capture_output=True, text=True).stdout.strip() \
    or "x86_64-linux-gnu"


def make(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if Path("/opt/swift/usr/bin/swift").exists():
        env["PATH"] = "/opt/swift/usr/bin:" + env["PATH"]
    result = subprocess.run(["make", "-s", "-C", str(REPO), *args], capture_output=True, text=True,
                            env=env, timeout=1800)
    print(result.stdout[-3000:], result.stderr[-3000:], sep="\n")
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def files_under(root: Path) -> set[str]:
    return {"/" + str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink()}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    destdir = tmp_path_factory.mktemp("destdir")
    make("install", f"DESTDIR={destdir}", "PREFIX=/usr")
    return destdir


EXPECTED = {
    f"/usr/lib/{MULTIARCH}/kea/hooks/libdhcp_lwm2m.so",
    "/usr/bin/kea-lwm2m",
    "/usr/share/man/man1/kea-lwm2m.1.gz",
    "/usr/share/bash-completion/completions/kea-lwm2m",
    "/usr/share/zsh/vendor-completions/_kea-lwm2m",
    "/usr/share/fish/vendor_completions.d/kea-lwm2m.fish",
    "/usr/share/doc/kea-lwm2m/README.md",
    "/usr/share/doc/kea-lwm2m/install.md",
    "/usr/share/doc/kea-lwm2m/examples/kea-config/kea-dhcp4.conf",
    "/usr/share/doc/kea-lwm2m/examples/kea-config/kea-dhcp6.conf",
    "/usr/share/doc/kea-lwm2m/examples/kea-config/lwm2m-store.json",
    "/usr/share/doc/kea-lwm2m/examples/kea-config/certs/bs.pem",
    "/usr/share/kea-lwm2m/install-manifest",
}


def test_install_layout_and_manifest(installed):
    files = files_under(installed)
    assert EXPECTED <= files
    assert not any(f.endswith(".key") for f in files), "a private key was installed"
    manifest = (installed / "usr/share/kea-lwm2m/install-manifest").read_text().split()
    assert set(manifest) == files
    for doc in (REPO / "docs").glob("*.md"):
        assert f"/usr/share/doc/kea-lwm2m/{doc.name}" in files


def test_installed_binaries(installed):
    hook = installed / f"usr/lib/{MULTIARCH}/kea/hooks/libdhcp_lwm2m.so"
    assert "stripped" in subprocess.run(["file", "-L", str(hook)], capture_output=True, text=True).stdout
    dynamic = subprocess.run(["readelf", "-d", str(hook)], capture_output=True, text=True).stdout
    assert "NODELETE" in dynamic
    exported = subprocess.run(["nm", "-D", "--defined-only", str(hook)], capture_output=True, text=True).stdout
    for symbol in ("load", "unload", "version", "multi_threading_compatible"):
        assert f" T {symbol}\n" in exported
    cli = installed / "usr/bin/kea-lwm2m"
    assert subprocess.run([str(cli), "--version"], capture_output=True, text=True).stdout.strip() == VERSION
    man = subprocess.run(["man", "-l", str(installed / "usr/share/man/man1/kea-lwm2m.1.gz")],
                         capture_output=True, text=True, env=dict(os.environ, MANWIDTH="80"))
    assert "kea-lwm2m" in man.stdout and "explain" in man.stdout
    subprocess.run(["bash", "-n", str(installed / "usr/share/bash-completion/completions/kea-lwm2m")], check=True)


def test_installed_examples_check_clean(installed):
    cli = installed / "usr/bin/kea-lwm2m"
    examples = installed / "usr/share/doc/kea-lwm2m/examples/kea-config"
    for name in ("kea-dhcp4.conf", "kea-dhcp6.conf"):
        result = subprocess.run([str(cli), "check", str(examples / "lwm2m-store.json"),
                                 "--kea-config", str(examples / name)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout


@needs_root
def test_kea_loads_the_installed_hook(installed, tmp_path):
    hook = installed / f"usr/lib/{MULTIARCH}/kea/hooks/libdhcp_lwm2m.so"
    store = write_store(tmp_path, [{"subnet-id": 1, "bootstrap-uri": URI}])
    with lab.Lab() as net, lab.KeaServer(net, 4, lab.base_config(4, hook, {"store-file": str(store)})) as kea:
        fixture = mf.FIXTURES["v4_discover_lwm2m"]
        got = net.exchange([fixture.frame()])
        (reply,) = [lab.decode(frame) for frames in got.values() for frame in frames]
        assert reply.value(224) == URI.encode()
        assert "LWM2M_LOADED" in kea.log()


def test_uninstall_removes_exactly_what_install_put(tmp_path):
    destdir = tmp_path / "root"
    # Something that is not ours, in folders we share: it must survive.
    bystander = destdir / f"usr/lib/{MULTIARCH}/kea/hooks/libdhcp_other.so"
    bystander.parent.mkdir(parents=True)
    bystander.write_text("not ours")
    make("install", f"DESTDIR={destdir}")
    assert len(files_under(destdir)) > 10
    make("uninstall", f"DESTDIR={destdir}")
    assert files_under(destdir) == {f"/usr/lib/{MULTIARCH}/kea/hooks/libdhcp_other.so"}
    assert not (destdir / "usr/share/doc/kea-lwm2m").exists()
    assert not (destdir / "usr/share/kea-lwm2m").exists()


def test_prefix_moves_everything(tmp_path):
    destdir = tmp_path / "root"
    make("install", f"DESTDIR={destdir}", "PREFIX=/opt/lwm2m")
    files = files_under(destdir)
    assert all(f.startswith("/opt/lwm2m/") for f in files), files
    assert f"/opt/lwm2m/lib/{MULTIARCH}/kea/hooks/libdhcp_lwm2m.so" in files
    make("uninstall", f"DESTDIR={destdir}", "PREFIX=/opt/lwm2m")
    assert files_under(destdir) == set()
