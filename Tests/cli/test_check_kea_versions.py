"""kea-lwm2m check --kea-config for each supported Kea (2.2, 2.6, 3.0): the
version's standard option codes, which version is checked and why, and the
keys a version does not accept, has deprecated or refuses together.

The tables are compared with the real servers: the machine's kea-dhcpN
(2.2) and those of the Kea roots (2.6.3, 3.0.4; scripts/kea-root.sh), run
with -t in a private mount namespace and chroot."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import CLI, needs_root, run

URI = "coaps://bs.example.com:5684"
VERSIONS = ["2.2", "2.6", "3.0"]
ROOTS = Path(os.environ.get("KEA_LWM2M_ROOTS", "/var/cache/kea-lwm2m/roots"))
HOST_KEA = "2.2"


# ---- helpers -----------------------------------------------------------------

def body(family: int, store: Path | None = None, hook: str = "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lwm2m.so",
         params: dict | None = None, **extra) -> dict:
    """A small Dhcp4/Dhcp6 map every supported Kea accepts with -t."""
    prefix = "192.0.2.0/24" if family == 4 else "2001:db8:1::/64"
    pool = "192.0.2.10 - 192.0.2.20" if family == 4 else "2001:db8:1::10 - 2001:db8:1::20"
    result: dict = {
        "interfaces-config": {"interfaces": []},
        "lease-database": {"type": "memfile", "persist": False},
        f"subnet{family}": [{"id": 1, "subnet": prefix, "pools": [{"pool": pool}]}],
    }
    if store is not None:
        result["hooks-libraries"] = [{"library": hook, "parameters": {"store-file": str(store), **(params or {})}}]
    result.update(extra)
    return result


def write_config(folder: Path, family: int, server: dict, name: str = "kea.conf") -> Path:
    path = folder / name
    path.write_text(json.dumps({f"Dhcp{family}": server}, indent=2))
    return path


def warnings(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stdout.splitlines() if ": warning: " in line]


def statement(result: subprocess.CompletedProcess, config: Path) -> str:
    lines = [line for line in result.stdout.splitlines() if line.startswith(f"{config}: checked for Kea ")]
    assert len(lines) == 1, result.stdout
    return lines[0][len(f"{config}: "):]


def root_of(version: str) -> Path | None:
    return None if version == HOST_KEA else ROOTS / f"kea-{version}"


def in_root(version: str, argv: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs argv with Kea `version`: the machine's for 2.2, else chrooted into
    its root with /tmp bound to the root's /tmp (paths under /tmp are the same
    inside and out)."""
    root = root_of(version)
    variables = [f"{k}={v}" for k, v in (env or {}).items()]
    if root is None:
        command = ["env", *variables, *argv]
    else:
        # /proc: the Swift runtime reads its arguments from /proc/self/cmdline.
        script = 'mount --bind /tmp "$0/tmp" && mount -t proc proc "$0/proc" && exec chroot "$0" "$@"'
        command = ["unshare", "-m", "sh", "-c", script, str(root), "env", *variables, *argv]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    print("$", *argv, f"(Kea {version}) -> {result.returncode}", result.stdout[-3000:], result.stderr[-3000:], sep="\n")
    return result


def kea_test(version: str, family: int, config: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """`kea-dhcpN -t config` of Kea `version`."""
    sockets = tmp_path / "sockets"
    sockets.mkdir(exist_ok=True)
    sockets.chmod(0o750)
    env = {"KEA_CONTROL_SOCKET_DIR": str(sockets), "KEA_PIDFILE_DIR": str(tmp_path),
           "KEA_LOCKFILE_DIR": str(tmp_path), "KEA_LOG_FILE_DIR": str(tmp_path), "KEA_DHCP_DATA_DIR": str(tmp_path)}
    return in_root(version, [f"kea-dhcp{family}", "-t", str(config)], env)


def require_kea(version: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: chroot and mount namespaces")
    root = root_of(version)
    binary = (root / "usr/sbin/kea-dhcp4") if root else Path(shutil.which("kea-dhcp4") or "/nonexistent")
    if not binary.exists():
        msg = f"Kea {version} not available ({binary}); scripts/kea-root.sh {version}"
        if os.environ.get("KEA_LWM2M_REQUIRE_HOOK") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    """A store whose default reaches every subnet: no cross-reference warnings."""
    path = tmp_path / "store.json"
    path.write_text(json.dumps({"default": {"bootstrap-uri": URI}, "entries": [{"subnet-id": 1, "bootstrap-uri": URI}]}))
    return path


# ---- option codes --------------------------------------------------------------

# DHCPv6 codes of the hook's range that Kea made standard after 2.2:
# 144 v6-dnr (2.6), 148 addr-reg-enable (3.0); 150 is standard in none.
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("code,standard_from,name", [(144, "2.6", "v6-dnr"), (148, "3.0", "addr-reg-enable"),
                                                     (150, None, None)])
def test_code_is_flagged_by_version(cli, tmp_path, store, version, code, standard_from, name):
    config = write_config(tmp_path, 6, body(6, store, params={"bootstrap-uri-code": code}))
    result = run("check", "--kea-config", config, "--kea-version", version)
    flagged = standard_from is not None and version >= standard_from
    assert result.returncode == (1 if flagged else 0), result.stdout
    if flagged:
        assert f"option code {code} is already defined in Kea's DHCPv6 option space" in result.stdout
        assert f"(code {code} is Kea's standard option '{name}')" in result.stdout
    else:
        assert f"parameters OK: store-file {store}, option codes {code} (URI)" in result.stdout


@needs_root
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("family", [4, 6])
def test_standard_codes_match_real_kea(cli, tmp_path, version, family):
    """Every code of the family's range (DHCPv6: up to 200, past the last
    standard code of 3.0): Kea X refuses an option-def of it exactly when
    check, for X, says it is X's standard option. Kea names the first code
    it refuses; that one is dropped and the rest tried again."""
    require_kea(version)
    codes = list(range(1, 255 if family == 4 else 201))
    definitions = [{"name": f"lwm2m-probe-{code}", "code": code, "type": "string", "space": f"dhcp{family}"}
                   for code in codes]
    config = write_config(tmp_path, family, body(family, **{"option-def": definitions}), "probe.conf")
    flagged = set()
    for line in warnings(run("check", "--kea-config", config, "--kea-version", version)):
        match = re.search(r"option-def\[(\d+)\]: warning: code (\d+) is Kea [\d.]+'s standard option", line)
        if match:
            assert definitions[int(match.group(1))]["code"] == int(match.group(2))
            flagged.add(int(match.group(2)))
    refused = set()
    while True:
        kea = kea_test(version, family, config, tmp_path)
        if kea.returncode == 0:
            break
        match = re.search(r"unable to override definition of option '(\d+)'", kea.stdout + kea.stderr)
        assert match, kea.stdout[-2000:] + kea.stderr[-2000:]
        refused.add(int(match.group(1)))
        definitions = [d for d in definitions if d["code"] not in refused]
        config = write_config(tmp_path, family, body(family, **{"option-def": definitions}), "probe.conf")
    assert len(refused) > 50
    assert flagged == refused, f"only check: {sorted(flagged - refused)}, only Kea {version}: {sorted(refused - flagged)}"


# ---- which version, and why ------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_given_version_is_stated(cli, tmp_path, store, version):
    config = write_config(tmp_path, 4, body(4, store))
    result = run("check", "--kea-config", config, "--kea-version", version, check=0)
    assert statement(result, config) == f"checked for Kea {version}: given by --kea-version"
    lines = result.stdout.splitlines()
    assert lines[0] == f"{config}: DHCPv4 server configuration, 1 subnet"
    assert lines[1] == f"{config}: checked for Kea {version}: given by --kea-version"


def test_bad_version_is_a_usage_error(cli, tmp_path, store):
    config = write_config(tmp_path, 4, body(4, store))
    result = run("check", "--kea-config", config, "--kea-version", "2.4", check=2)
    assert "--kea-version" in result.stderr


@pytest.mark.parametrize("version", VERSIONS)
def test_version_from_hook_folder(cli, tmp_path, store, version):
    hook = f"/var/tmp/lwm2m-hooks/kea-{version}/libdhcp_lwm2m.so"
    config = write_config(tmp_path, 4, body(4, store, hook=hook))
    result = run("check", "--kea-config", config, check=0)
    assert statement(result, config) == f"checked for Kea {version}: the hook is loaded from {hook}"


@pytest.mark.parametrize("family,extra,location,key,version", [
    (4, {"control-sockets": [{"socket-type": "unix", "socket-name": "kea4.sock"}]}, "Dhcp4", "control-sockets", "3.0"),
    (6, {"reservation-mode": "global"}, "Dhcp6", "reservation-mode", "2.2"),
    (4, {"client-classes": [{"name": "c", "only-in-additional-list": True}]},
     "Dhcp4.client-classes[0]", "only-in-additional-list", "3.0"),
])
def test_version_from_keys_of_one_version(cli, tmp_path, store, family, extra, location, key, version):
    config = write_config(tmp_path, family, body(family, store, **extra))
    result = run("check", "--kea-config", config, check=0)
    assert statement(result, config) == f"checked for Kea {version}: {location} has '{key}' (Kea {version} only)"
    assert warnings(result) == []


def test_version_from_keys_of_several_versions_uses_installed_or_newest(cli, tmp_path, store):
    """offer-lifetime: 2.6 and 3.0. The machine's Kea is 2.2, not one of them: the newest."""
    config = write_config(tmp_path, 4, body(4, store, **{"offer-lifetime": 60}))
    result = run("check", "--kea-config", config, check=0)
    assert statement(result, config) == ("checked for Kea 3.0: Dhcp4 has 'offer-lifetime' (Kea 2.6 and later only); "
                                         "the newest of 2.6, 3.0")


def test_contradicting_keys_are_no_evidence(cli, tmp_path, store):
    config = write_config(tmp_path, 4, body(4, store, **{"offer-lifetime": 60, "reservation-mode": "all"}))
    result = run("check", "--kea-config", config)
    if shutil.which("kea-dhcp4"):
        assert statement(result, config).startswith(f"checked for Kea {HOST_KEA}: the installed kea-dhcp4")
    assert len([line for line in warnings(result) if "is not accepted by Kea" in line]) == 1


def test_version_from_installed_kea(cli, tmp_path, store):
    if not shutil.which("kea-dhcp4"):
        pytest.skip("no kea-dhcp4 on PATH")
    installed = subprocess.run(["kea-dhcp4", "-v"], capture_output=True, text=True).stdout.split()[0]
    config = write_config(tmp_path, 4, body(4, store))
    result = run("check", "--kea-config", config, check=0)
    assert statement(result, config) == (f"checked for Kea {'.'.join(installed.split('.')[:2])}: the installed "
                                         f"kea-dhcp4 ({shutil.which('kea-dhcp4')}) is {installed}")


@needs_root
@pytest.mark.parametrize("version", ["2.6", "3.0"])
def test_version_from_installed_kea_in_roots(cli, tmp_path, store, version):
    """The command run on a machine with Kea 2.6 / 3.0 (the roots) checks for that Kea;
    keys that leave 2.6 and 3.0 pick the installed one too."""
    require_kea(version)
    command = tmp_path / "kea-lwm2m"
    shutil.copy(CLI, command)
    plain = write_config(tmp_path, 6, body(6, store), "plain.conf")
    narrowed = write_config(tmp_path, 4, body(4, store, **{"offer-lifetime": 60}), "narrowed.conf")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    result = in_root(version, [str(command), "check", "--kea-config", str(plain)], env)
    release = {"2.6": "2.6.3", "3.0": "3.0.4"}[version]
    assert statement(result, plain) == f"checked for Kea {version}: the installed kea-dhcp6 (/usr/sbin/kea-dhcp6) is {release}"
    result = in_root(version, [str(command), "check", "--kea-config", str(narrowed)], env)
    assert statement(result, narrowed) == (f"checked for Kea {version}: Dhcp4 has 'offer-lifetime' (Kea 2.6 and later "
                                           f"only); the installed kea-dhcp4 (/usr/sbin/kea-dhcp4) is {release}")


@needs_root
def test_newest_when_nothing_tells(cli, tmp_path, store):
    """No --kea-version, nothing version-specific, no Kea: a root holding only the command."""
    root = tmp_path / "bare"
    (root / "bin").mkdir(parents=True)
    shutil.copy(CLI, root / "bin" / "kea-lwm2m")
    libraries = subprocess.run(["ldd", str(CLI)], capture_output=True, text=True, check=True).stdout
    for line in libraries.splitlines():
        path = next((part for part in line.split() if part.startswith("/")), None)
        if path:
            target = root / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    shutil.copy(store, root / "store.json")
    config = write_config(root, 4, body(4, Path("/store.json")))
    (root / "proc").mkdir()
    mount, chroot = shutil.which("mount"), shutil.which("chroot")
    script = f'{mount} -t proc proc "$0/proc" && exec {chroot} "$0" /bin/kea-lwm2m check --kea-config /kea.conf'
    result = subprocess.run(["unshare", "-m", "sh", "-c", script, str(root)],
                            capture_output=True, text=True, env={"PATH": "/bin"}, timeout=60)
    print(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "/kea.conf: checked for Kea 3.0: the newest supported series: no --kea-version, nothing version-specific " \
           "in the configuration, no Kea installed" in result.stdout.splitlines()
    assert config.exists()


# ---- keys ------------------------------------------------------------------------

LOGGER = {"name": "kea-dhcp4", "severity": "WARN"}
CASES = {
    # name: (family, extra keys of the Dhcp map, {version: expected warning fragment or None})
    "control-sockets": (4, {"control-sockets": [{"socket-type": "unix", "socket-name": "kea4.sock"}]},
                        {"2.2": "Dhcp4: warning: 'control-sockets' is not accepted by Kea 2.2, only by Kea 3.0; "
                                "use one 'control-socket' map",
                         "2.6": "'control-sockets' is not accepted by Kea 2.6", "3.0": None}),
    "both control sockets": (4, {"control-socket": {"socket-type": "unix", "socket-name": "a.sock"},
                                 "control-sockets": [{"socket-type": "unix", "socket-name": "b.sock"}]},
                             {"2.2": "'control-sockets' is not accepted by Kea 2.2",
                              "2.6": "'control-sockets' is not accepted by Kea 2.6",
                              "3.0": "Dhcp4: warning: 'control-socket' and 'control-sockets' together are refused "
                                     "by Kea 3.0; keep one"}),
    "evaluate-additional-classes": (4, {"subnet4": [{"id": 1, "subnet": "192.0.2.0/24",
                                                     "evaluate-additional-classes": ["c"]}]},
                                    {"2.2": "Dhcp4.subnet4[0]: warning: 'evaluate-additional-classes' is not accepted "
                                            "by Kea 2.2, only by Kea 3.0; use 'require-client-classes'",
                                     "2.6": "'evaluate-additional-classes' is not accepted by Kea 2.6", "3.0": None}),
    "require-client-classes": (6, {"subnet6": [{"id": 1, "subnet": "2001:db8:1::/64",
                                                "pools": [{"pool": "2001:db8:1::/120", "require-client-classes": ["c"]}]}]},
                               {"2.2": None, "2.6": None,
                                "3.0": "Dhcp6.subnet6[0].pools[0]: warning: 'require-client-classes' is deprecated in "
                                       "Kea 3.0; use 'evaluate-additional-classes'"}),
    "only-if-required": (4, {"client-classes": [{"name": "c", "only-if-required": True}]},
                         {"2.2": None, "2.6": None,
                          "3.0": "Dhcp4.client-classes[0]: warning: 'only-if-required' is deprecated in Kea 3.0; "
                                 "use 'only-in-additional-list'"}),
    "only-in-additional-list": (6, {"client-classes": [{"name": "c", "only-in-additional-list": True}]},
                                {"2.2": "Dhcp6.client-classes[0]: warning: 'only-in-additional-list' is not accepted by "
                                        "Kea 2.2, only by Kea 3.0; use 'only-if-required'",
                                 "2.6": "'only-in-additional-list' is not accepted by Kea 2.6", "3.0": None}),
    "output-options": (4, {"loggers": [{**LOGGER, "output-options": [{"output": "stdout"}]}]},
                       {"2.2": "Dhcp4.loggers[0]: warning: 'output-options' is not accepted by Kea 2.2, only by "
                               "Kea 2.6 and later; use 'output_options'", "2.6": None, "3.0": None}),
    "output_options": (4, {"loggers": [{**LOGGER, "output_options": [{"output": "stdout"}]}]},
                       {"2.2": None,
                        "2.6": "Dhcp4.loggers[0]: warning: 'output_options' is deprecated in Kea 2.6; use 'output-options'",
                        "3.0": "'output_options' is deprecated in Kea 3.0"}),
    "reservation-mode": (6, {"reservation-mode": "global"},
                         {"2.2": None, "2.6": "Dhcp6: warning: 'reservation-mode' is not accepted by Kea 2.6, only by "
                                              "Kea 2.2; use 'reservations-global', 'reservations-in-subnet' and "
                                              "'reservations-out-of-pool'",
                          "3.0": "'reservation-mode' is not accepted by Kea 3.0"}),
    "offer-lifetime in a shared network": (
        4, {"shared-networks": [{"name": "n", "offer-lifetime": 60, "subnet4": [
            {"id": 2, "subnet": "198.51.100.0/24"}]}]},
        {"2.2": "Dhcp4.shared-networks[0]: warning: 'offer-lifetime' is not accepted by Kea 2.2, only by Kea 2.6 and later",
         "2.6": None, "3.0": None}),
    "client-classes in a pool": (4, {"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "pools": [
        {"pool": "192.0.2.10 - 192.0.2.20", "client-classes": ["c"]}]}]},
        {"2.2": "Dhcp4.subnet4[0].pools[0]: warning: 'client-classes' is not accepted by Kea 2.2, only by Kea 3.0; "
                "use 'client-class' (one class)", "2.6": "'client-classes' is not accepted by Kea 2.6", "3.0": None}),
    "unknown key": (4, {"frobnicate": 1}, {"2.2": None, "2.6": None, "3.0": None}),
}


# More keys for the comparison with real Kea only (some give several warnings).
MORE = {
    "ddns-ttl with ddns-ttl-percent": (4, {"ddns-ttl": 300, "ddns-ttl-percent": 0.5}),
    "ddns-ttl-min with ddns-ttl-max": (6, {"ddns-ttl-min": 100, "ddns-ttl-max": 600}),
    "dhcp-ddns qualifying-suffix": (4, {"dhcp-ddns": {"enable-updates": False, "qualifying-suffix": "example.com."}}),
    "pool-id": (4, {"subnet4": [{"id": 1, "subnet": "192.0.2.0/24",
                                 "pools": [{"pool": "192.0.2.10 - 192.0.2.20", "pool-id": 5}]}]}),
    "pd-pool client-classes": (6, {"subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "pd-pools": [
        {"prefix": "2001:db8:8::", "prefix-len": 56, "delegated-len": 64, "client-classes": ["c"]}]}]}),
    "never-send": (4, {"option-data": [{"name": "domain-name", "data": "example.com", "never-send": True}]}),
    "template-test": (6, {"client-classes": [{"name": "t", "template-test": "'x'"}]}),
    "retry-on-startup": (6, {"lease-database": {"type": "memfile", "persist": False, "retry-on-startup": False}}),
    "stash-agent-options": (4, {"stash-agent-options": False}),
    "ignore-dhcp-server-identifier": (4, {"compatibility": {"ignore-dhcp-server-identifier": False}}),
    "client-class with client-classes": (4, {"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "client-class": "c",
                                                          "client-classes": ["c"]}]}),
    "only-if-required with only-in-additional-list": (
        4, {"client-classes": [{"name": "c", "only-if-required": True, "only-in-additional-list": True}]}),
    "allocator": (6, {"allocator": "random", "pd-allocator": "random"}),
    "offer-lifetime in a class": (4, {"client-classes": [{"name": "c", "offer-lifetime": 60}]}),
}


def case_config(tmp_path: Path, store: Path, name: str) -> tuple[int, Path]:
    family, extra = CASES[name][:2] if name in CASES else MORE[name]
    server = body(family, store)
    server.update(json.loads(json.dumps(extra)))
    return family, write_config(tmp_path, family, server)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", CASES)
def test_key_warnings(cli, tmp_path, store, name, version):
    _, config = case_config(tmp_path, store, name)
    expected = CASES[name][2][version]
    result = run("check", "--kea-config", config, "--kea-version", version)
    found = warnings(result)
    if expected is None:
        assert found == [], found
        assert result.returncode == 0
    else:
        assert len(found) == 1 and expected in found[0], found
        assert found[0].startswith(f"{config}: ")
        # A warning: status 0, unless --strict.
        assert result.returncode == 0
        assert result.stdout.splitlines()[-1] == "OK (1 warning)"
        assert run("check", "--kea-config", config, "--kea-version", version, "--strict").returncode == 1


# What Kea X does with each case: refuses what check says X does not accept
# or refuses together; accepts the rest (deprecated keys included).
@needs_root
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", [n for n in CASES if n != "unknown key"] + list(MORE))
def test_key_warnings_match_real_kea(cli, tmp_path, store, name, version):
    require_kea(version)
    family, config = case_config(tmp_path, store, name)
    # Kea -t loads hooks libraries: test the configuration without ours.
    server = json.loads(config.read_text())[f"Dhcp{family}"]
    server.pop("hooks-libraries")
    classes = server.setdefault("client-classes", [])
    if not any(c.get("name") == "c" for c in classes):
        classes.append({"name": "c"})
    plain = write_config(tmp_path, family, server, "plain.conf")
    found = warnings(run("check", "--kea-config", plain, "--kea-version", version))
    refusal = [line for line in found if "is not accepted" in line or "together are refused" in line]
    kea = kea_test(version, family, plain, tmp_path)
    assert (kea.returncode != 0) == bool(refusal), (found, kea.stdout[-2000:])
