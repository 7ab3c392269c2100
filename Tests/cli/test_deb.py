"""make deb KEA=X.Y: one package per Kea version, each checked on its own
Debian release.

For every Kea version (2.2: this machine, Debian 12; 2.6: the trixie root;
3.0: the sid root, see scripts/kea-root.sh) the package is built, its
metadata, contents and lintian's verdict are checked, and it is installed
with dpkg on that release: on this machine for its own Kea (then purged,
always, also when a check fails), into an overlay of the root for the
others (the root itself is never written; the overlay is unmounted and
deleted also when a check fails). That release's kea-dhcp4 then loads the
hook from Debian's hooks directory and serves a client in the lab's
network namespaces, the LwM2M options byte-exact in the reply. dpkg of
the 2.6 release refuses the 3.0 package.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

import lwm2mlab as lab
import make_fixtures as mf
from conftest import DATA, REPO, VERSION, needs_root, write_store
from test_install import EXPECTED, MULTIARCH, make

KEAS = lab.KNOWN_VERSIONS
HOST_KEA = lab.host_version()
DEBREV = "1"
HOOKS_DIR = Path(f"/usr/lib/{MULTIARCH}/kea/hooks")
HOOK = HOOKS_DIR / lab.HOOK_NAME
DOCDIR = Path("/usr/share/doc/kea-lwm2m")
# What the package has beyond `make install`'s files.
DEBIAN_FILES = {str(DOCDIR / "copyright"), str(DOCDIR / "changelog.Debian.gz")}
URI = "coaps://from-the-deb.example.com:5684"


def deb_version(kea: str) -> str:
    return f"{VERSION}-{DEBREV}+kea{kea}"


@functools.lru_cache(maxsize=None)
def build_deb(kea: str) -> Path:
    """`make deb KEA=kea`, once per test run."""
    make("deb", f"KEA={kea}")
    deb = REPO / ".build" / f"kea-lwm2m_{deb_version(kea)}_amd64.deb"
    assert deb.is_file()
    return deb


def kea_root(kea: str) -> Path:
    return lab.KeaInstall.of(kea).root


def kea_common_version(root: Path) -> str:
    """The root's exact kea-common version, from its dpkg database."""
    return subprocess.run(["dpkg-query", f"--admindir={root / 'var/lib/dpkg'}", "-W", "-f", "${Version}",
                           "kea-common"], capture_output=True, text=True, check=True).stdout


def dpkg_deb(*args) -> str:
    return subprocess.run(["dpkg-deb", *map(str, args)], capture_output=True, text=True, check=True).stdout


def control(deb: Path) -> dict[str, str]:
    return dict(re.findall(r"^ (\S+): (.*)$", dpkg_deb("-I", deb), re.M))


@pytest.fixture(scope="module", params=KEAS)
def package(request) -> tuple[str, Path]:
    """(Kea version, its package)."""
    return request.param, build_deb(request.param)


# --- the package itself --------------------------------------------------------


def test_control(package):
    kea, deb = package
    exact = kea_common_version(kea_root(kea))
    assert exact.startswith(f"{kea}.")
    fields = control(deb)
    assert fields["Package"] == "kea-lwm2m"
    assert fields["Version"] == deb_version(kea)
    assert fields["Architecture"] == "amd64"
    assert fields["Maintainer"] == "kea-lwm2m developers <kea-lwm2m@users.noreply.github.com>"
    depends = [d.strip() for d in fields["Depends"].split(",")]
    assert depends[:2] == [f"kea-common (= {exact})",
                           f"kea-dhcp4-server (= {exact}) | kea-dhcp6-server (= {exact})"]
    shlibs = {d.split()[0]: d for d in depends[2:]}
    assert {"libc6", "libstdc++6", "libgcc-s1"} <= shlibs.keys()
    assert "kea-common" not in shlibs


def test_versions_sort_by_kea_release():
    """A release upgrade (bookworm -> trixie -> sid) is a package upgrade."""
    versions = [deb_version(kea) for kea in KEAS]
    for older, newer in zip(versions, versions[1:]):
        assert subprocess.run(["dpkg", "--compare-versions", older, "lt", newer]).returncode == 0


def test_hook_is_stripped_and_built_for_that_kea(package, tmp_path):
    kea, deb = package
    dpkg_deb("-x", deb, tmp_path)
    for binary in (tmp_path / HOOK.relative_to("/"), tmp_path / "usr/bin/kea-lwm2m"):
        out = subprocess.run(["file", str(binary)], capture_output=True, text=True).stdout
        assert ", stripped" in out, out
    # Linked against that release's Kea libraries, every one of them there.
    install = lab.KeaInstall.of(kea)
    hook = tmp_path / HOOK.relative_to("/")
    kea_libs = [name for name in lab.elf_needed(hook) if name.startswith("libkea-")]
    assert kea_libs
    assert install.missing_libraries(hook) == []


def test_debian_files(package, tmp_path):
    kea, deb = package
    dpkg_deb("-x", deb, tmp_path)
    copyright = (tmp_path / DOCDIR.relative_to("/") / "copyright").read_text()
    assert copyright.startswith("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n")
    with gzip.open(tmp_path / DOCDIR.relative_to("/") / "changelog.Debian.gz", "rt") as f:
        first = f.readline()
    assert first.startswith(f"kea-lwm2m ({deb_version(kea)}) ")
    modes = {line.split()[0] for line in dpkg_deb("-c", deb).splitlines()}
    assert modes <= {"drwxr-xr-x", "-rw-r--r--", "-rwxr-xr-x"}, modes


@pytest.mark.skipif(shutil.which("lintian") is None, reason="lintian is not installed (make deps)")
def test_lintian_clean(package):
    kea, deb = package
    result = subprocess.run(["lintian", "--fail-on", "error,warning", str(deb)],
                            capture_output=True, text=True, timeout=600)
    print(result.stdout, result.stderr)
    tags = [line for line in result.stdout.splitlines() if re.match(r"[EW]: ", line)]
    assert tags == [] and result.returncode == 0


def test_contents_match_make_install(tmp_path):
    deb = build_deb(HOST_KEA)
    listed = {line.split()[-1].lstrip(".") for line in dpkg_deb("-c", deb).splitlines() if not line.startswith("d")}
    assert EXPECTED - {"/usr/share/kea-lwm2m/install-manifest"} <= listed
    destdir = tmp_path / "root"
    make("install", f"DESTDIR={destdir}")
    installed = {"/" + str(p.relative_to(destdir)) for p in destdir.rglob("*") if p.is_file()}
    assert listed == (installed - {"/usr/share/kea-lwm2m/install-manifest"}) | DEBIAN_FILES


# --- installed on its release, loaded by that release's Kea --------------------


def lwm2m_store(folder: Path) -> tuple[Path, bytes]:
    """A store serving URI and small.pem to subnet 1; the certificate option's value."""
    pem = folder / "bs.pem"
    pem.write_bytes((DATA / "small.pem").read_bytes())
    store = write_store(folder, [{"subnet-id": 1, "bootstrap-uri": URI, "server-certificate": str(pem)}])
    der = x509.load_pem_x509_certificate(pem.read_bytes()).public_bytes(Encoding.DER)
    return store, b"\x04" + der


def serve_one_client(kea: lab.KeaServer, cert_option: bytes) -> None:
    """A real DISCOVER/OFFER in the lab (the client takes 1500-octet
    messages, so the certificate fits); the options byte-exact in the OFFER."""
    kea.wait_log(r"LWM2M_LOADED")
    got = kea.lab.exchange([mf.FIXTURES["v4_discover_mms1500"].frame()])
    (reply,) = [lab.decode(frame) for frames in got.values() for frame in frames]
    assert reply.value(53) == b"\x02"                     # OFFER
    assert reply.value(224) == URI.encode()
    assert reply.value(225) == cert_option
    assert kea.log_lines("ERROR") == []


def installed_on_host() -> bool:
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "kea-lwm2m"], capture_output=True, text=True)
    return "installed" in status.stdout and "not-installed" not in status.stdout


@needs_root
def test_dpkg_install_on_this_machine_kea_serves_then_purge(tmp_path):
    deb = build_deb(HOST_KEA)
    if installed_on_host():
        pytest.skip("kea-lwm2m is installed on this machine already: not touching it")
    if HOOK.exists():
        pytest.skip(f"{HOOK} exists (installed by hand?): not touching it")
    try:
        subprocess.run(["dpkg", "-i", str(deb)], check=True, capture_output=True, text=True)
        assert HOOK.is_file()
        listed = subprocess.run(["dpkg", "-L", "kea-lwm2m"], capture_output=True, text=True, check=True).stdout
        assert str(HOOK) in listed and "/usr/bin/kea-lwm2m" in listed
        assert subprocess.run(["kea-lwm2m", "--version"], capture_output=True, text=True).stdout.strip() == VERSION

        # This machine's Kea loads the hook from Debian's hooks directory.
        store, cert_option = lwm2m_store(tmp_path)
        body = lab.base_config(4, HOOK, {"store-file": str(store)})
        with lab.Lab() as net, lab.KeaServer(net, 4, body, install=lab.KeaInstall.host()) as kea:
            serve_one_client(kea, cert_option)

        # The demo, without --hook (and without $KEA_LWM2M_HOOK), uses it.
        if shutil.which("dhclient"):
            env = {k: v for k, v in os.environ.items() if k not in ("KEA_LWM2M_HOOK", "KEA_LWM2M_KEA")}
            demo = subprocess.run([sys.executable, str(REPO / "scripts" / "demo.py")], capture_output=True,
                                  text=True, env=env, timeout=300)
            print(demo.stdout, demo.stderr)
            assert demo.returncode == 0
            assert str(HOOK) in demo.stdout
    finally:
        subprocess.run(["dpkg", "--purge", "kea-lwm2m"], capture_output=True)
    assert not HOOK.exists()
    assert not Path("/usr/bin/kea-lwm2m").exists()
    assert not installed_on_host()


@contextlib.contextmanager
def overlay_of(root: Path):
    """A writable overlayfs mount on top of `root` (the lower dir, never
    written); unmounted and deleted on exit, also after a failure."""
    top = Path(tempfile.mkdtemp(prefix="lwm2m-deb-overlay-"))
    merged = top / "root"
    for name in ("upper", "work", "root"):
        (top / name).mkdir()
    try:
        subprocess.run(["mount", "-t", "overlay", "kea-lwm2m-deb", "-o",
                        f"lowerdir={root},upperdir={top / 'upper'},workdir={top / 'work'}", str(merged)],
                       check=True, capture_output=True, text=True)
        try:
            yield merged
        finally:
            subprocess.run(["umount", str(merged)], check=True, capture_output=True, text=True)
    finally:
        shutil.rmtree(top)


def dpkg_in(root: Path, *args: str, deb: Path) -> subprocess.CompletedProcess:
    """The root's own dpkg (chroot) on a copy of `deb` in the root's /tmp."""
    inside = Path("/tmp") / deb.name
    shutil.copy(deb, root / inside.relative_to("/"))
    result = subprocess.run(["chroot", str(root), "dpkg", *args, str(inside)], capture_output=True, text=True,
                            timeout=300)
    print(result.stdout, result.stderr)
    return result


@needs_root
@pytest.mark.parametrize("kea", [kea for kea in KEAS if kea != HOST_KEA])
def test_dpkg_install_in_its_release_kea_serves(kea, tmp_path):
    deb = build_deb(kea)
    with overlay_of(kea_root(kea)) as root:
        result = dpkg_in(root, "-i", deb=deb)
        assert result.returncode == 0, result.stderr
        status = subprocess.run(["chroot", str(root), "dpkg-query", "-W", "-f", "${Status} ${Version}",
                                 "kea-lwm2m"], capture_output=True, text=True).stdout
        assert status == f"install ok installed {deb_version(kea)}"
        assert (root / HOOK.relative_to("/")).is_file()
        # The command runs there (with /proc: Swift reads its arguments from it).
        install = lab.KeaInstall(kea, root)
        assert install.run("kea-lwm2m", "--version").stdout.strip() == VERSION

        # That release's kea-dhcp4 finds the hook by its bare name in its
        # hooks directory (Kea 2.6.3 and 3.0 load hooks from there only).
        store, cert_option = lwm2m_store(tmp_path)
        body = lab.base_config(4, Path(lab.HOOK_NAME), {"store-file": str(store)})
        with lab.Lab() as net, lab.KeaServer(net, 4, body, install=install, hooks_dir=HOOKS_DIR,
                                                bind_hooks=False) as server:
            serve_one_client(server, cert_option)
            assert f"{HOOKS_DIR}/{lab.HOOK_NAME}" in server.log()


@needs_root
def test_dpkg_of_trixie_refuses_the_kea_3_0_package():
    deb = build_deb("3.0")
    with overlay_of(kea_root("2.6")) as root:
        result = dpkg_in(root, "-i", deb=deb)
        assert result.returncode != 0
        assert "dependency problems prevent configuration of kea-lwm2m" in result.stderr
        assert f"kea-lwm2m depends on kea-common (= {kea_common_version(kea_root('3.0'))})" in result.stderr
        status = subprocess.run(["chroot", str(root), "dpkg-query", "-W", "-f", "${Status}", "kea-lwm2m"],
                                capture_output=True, text=True).stdout
        assert status != "install ok installed"
