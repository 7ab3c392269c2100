"""Kea in the lab: which Kea runs (`KeaInstall`, one per version) and a
running kea-dhcp4 / kea-dhcp6 (`KeaServer`).

The version under test comes from ``KEA_LWM2M_KEA`` (2.2, 2.6 or 3.0); without
it, the machine's own Kea (Debian 12: 2.2).  Any other version runs from a
Debian root made by ``scripts/kea-root.sh VERSION``: the command is started in
a private mount namespace where an overlay of the root (writes go to a tmpfs,
never to the root) gets the host paths the tests use bind-mounted at the same
absolute path, then chroot-ed into.  Every step execs the next one, so the
PID the caller sees is the Kea binary's own, and the mounts vanish with it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .netns import (REPO, SERVER6, SERVER_DUID_LLADDR, SERVER_DUID_TIME, SERVER_IF, SUBNETS, Lab,
                    stop_process, subnet_marker, track, untrack)

# --------------------------------------------------------------------------
# Kea installations
# --------------------------------------------------------------------------

KNOWN_VERSIONS = ("2.2", "2.6", "3.0")
HOOK_NAME = "libdhcp_lwm2m.so"
HOST_ROOT = Path("/")
KEA_ROOT_SCRIPT = REPO / "scripts" / "kea-root.sh"

# Host paths every command run from a root sees at the same place: temporary
# files (Kea's work dirs, pytest's tmp_path) and the repository (test data,
# built hooks).  /dev, /proc and /sys are the host's (in the command's network
# namespace) too.
DEFAULT_BINDS = (Path("/tmp"), REPO)
SYSTEM_BINDS = ("/dev", "/proc", "/sys")

# Runs as `sh -c SCRIPT kea-root ROOT BIND... -- COMMAND...`: a tmpfs over the
# root's /mnt (inside this private mount namespace only) holds the overlay's
# writable layer and its mount point, so the root itself is never written.
_ROOT_SCRIPT = r"""set -e
root=$1; shift
top=$root/mnt
mount -t tmpfs -o mode=0755 kea-lwm2m "$top"
mkdir "$top/upper" "$top/work" "$top/root"
mount -t overlay kea-lwm2m -o "lowerdir=$root,upperdir=$top/upper,workdir=$top/work" "$top/root"
while [ "$1" != -- ]; do
    mkdir -p "$top/root$1"
    mount --bind "$1" "$top/root$1"
    shift
done
shift
for p in /dev /proc /sys; do mount --rbind "$p" "$top/root$p"; done
exec chroot "$top/root" "$@"
"""


class KeaInstallError(RuntimeError):
    """The requested Kea version is unknown or its root cannot be made."""


@functools.lru_cache(maxsize=None)
def host_version() -> str:
    """MAJOR.MINOR of the machine's own Kea (``kea-dhcp4 -V``); "2.2" without one."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["kea-dhcp4", "-V"], capture_output=True, text=True, timeout=30).stdout
        m = re.match(r"\s*(\d+)\.(\d+)\.", out)
        if m:
            return f"{m.group(1)}.{m.group(2)}"
    return "2.2"


@dataclasses.dataclass(frozen=True)
class KeaInstall:
    """One Kea version: where it lives and how to run its binaries.

    `root` is "/" for the machine's own Kea, else a Debian root holding that
    Kea (``scripts/kea-root.sh``).  `argv`, `run` and `popen` run a Kea binary
    (kea-dhcp4, kea-dhcp6, perfdhcp, kea-admin, kea-lfc, ...) from it,
    optionally inside a network namespace.
    """
    version: str
    root: Path = HOST_ROOT

    # -- which Kea ----------------------------------------------------------

    @classmethod
    @functools.lru_cache(maxsize=None)
    def of(cls, version: str) -> "KeaInstall":
        """Kea `version` ("2.2", "2.6", "3.0"): the machine's own or a root."""
        if version not in KNOWN_VERSIONS:
            raise KeaInstallError(f"unknown Kea version {version!r} (known: {', '.join(KNOWN_VERSIONS)})")
        if version == host_version():
            return cls(version, HOST_ROOT)
        res = subprocess.run(["bash", str(KEA_ROOT_SCRIPT), version], capture_output=True, text=True)
        if res.returncode != 0 or not res.stdout.strip():
            raise KeaInstallError(f"no Kea {version} root: {KEA_ROOT_SCRIPT.name} {version} failed "
                                  f"({res.returncode}): {res.stderr.strip()[-2000:]}")
        return cls(version, Path(res.stdout.strip().splitlines()[-1]))

    @classmethod
    def host(cls) -> "KeaInstall":
        """The machine's own Kea."""
        return cls(host_version(), HOST_ROOT)

    @classmethod
    def under_test(cls) -> "KeaInstall":
        """$KEA_LWM2M_KEA, or the machine's own Kea when it is unset."""
        version = os.environ.get("KEA_LWM2M_KEA", "").strip()
        return cls.of(version) if version else cls.host()

    @property
    def is_host(self) -> bool:
        return self.root == HOST_ROOT

    @property
    def release(self) -> tuple[int, int]:
        """(major, minor), for comparisons."""
        major, minor = self.version.split(".")
        return int(major), int(minor)

    def at_least(self, version: str) -> bool:
        """True when this Kea is `version` ("2.6") or newer."""
        major, minor = version.split(".")
        return self.release >= (int(major), int(minor))

    @property
    def default_hook(self) -> Path:
        """Where ``make build [KEA=...]`` puts the hook built for this Kea."""
        if self.is_host:
            return REPO / ".build" / "release" / HOOK_NAME
        return REPO / ".build" / f"kea-{self.version}" / HOOK_NAME

    # -- configuration keys that differ by version ----------------------------

    @property
    def logger_output_key(self) -> str:
        """Key of a logger's output list.  Kea 2.2 knows only "output_options"
        (src/lib/process/log_parser.cc, Kea-2.2.0); 2.6 and 3.0 read
        "output-options" and accept the old spelling as deprecated
        (log_parser.cc, Kea-2.6.3 and Kea-3.0.4)."""
        return "output-options" if self.at_least("2.6") else "output_options"

    def environment(self, workdir: Path, hooks_dir: Path) -> dict[str, str]:
        """The KEA_* variables that put Kea's files in `workdir` and let it load
        hooks from `hooks_dir` (Kea 2.6.3 and 3.0 load hooks, open control
        sockets and write logs/leases only in these folders; 2.2 ignores the
        ones it does not know)."""
        folder = str(workdir)
        env = {"KEA_PIDFILE_DIR": folder, "KEA_LOCKFILE_DIR": folder,
               "KEA_CONTROL_SOCKET_DIR": folder, "KEA_LOG_FILE_DIR": folder,
               "KEA_DHCP_DATA_DIR": folder, "KEA_HOOKS_PATH": str(hooks_dir)}
        # A sanitizer runtime the hook under test needs (make replay-test-asan):
        # preloaded into the machine's Kea, which is not instrumented itself.
        preload = os.environ.get("KEA_LWM2M_KEA_PRELOAD")
        if preload and self.is_host:
            env["LD_PRELOAD"] = preload
        return env

    # -- running its binaries ---------------------------------------------------

    def argv(self, *command: str, netns: str | None = None, binds=()) -> list[str]:
        """The command line that runs `command` (a Kea binary and its
        arguments) from this Kea, inside network namespace `netns` if given.

        From a root, the host paths in DEFAULT_BINDS and `binds` (folders; a
        file's folder is used) are visible at the same absolute path.
        """
        prefix = ["ip", "netns", "exec", netns] if netns else []
        if self.is_host:
            return prefix + list(command)
        folders: list[Path] = []
        for p in sorted({Path(os.path.abspath(b)) for b in (*DEFAULT_BINDS, *binds)},
                        key=lambda p: len(p.parts)):
            p = p if p.is_dir() or not p.exists() else p.parent
            if p == HOST_ROOT or str(p) in SYSTEM_BINDS or not p.is_dir():
                continue
            if not any(p == f or f in p.parents for f in folders):   # already visible
                folders.append(p)
        return prefix + ["unshare", "--mount", "--propagation", "private",
                         "sh", "-c", _ROOT_SCRIPT, "kea-root", str(self.root),
                         *map(str, folders), "--", *command]

    def run(self, *command: str, netns: str | None = None, binds=(), env: dict | None = None,
            timeout: float = 120.0) -> subprocess.CompletedProcess:
        """Run `command` to completion (text output captured)."""
        return subprocess.run(self.argv(*command, netns=netns, binds=binds), env=env,
                              capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def popen(self, *command: str, netns: str | None = None, binds=(), env: dict | None = None,
              **kwargs) -> subprocess.Popen:
        """Start `command`; the returned process's PID is the binary's own."""
        return subprocess.Popen(self.argv(*command, netns=netns, binds=binds), env=env, **kwargs)

    LIBRARY_DIRS = ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib", "lib")

    def missing_libraries(self, binary: Path) -> list[str]:
        """Sonames `binary` needs that this Kea's system does not have (in the
        order the dynamic loader looks for them)."""
        return [name for name in elf_needed(binary)
                if not any((self.root / d / name).exists() for d in self.LIBRARY_DIRS)]

    def describe(self) -> str:
        return f"Kea {self.version} ({'host' if self.is_host else self.root})"


def elf_needed(path: Path) -> list[str]:
    """The DT_NEEDED entries (sonames) of a 64-bit little-endian ELF file, in order."""
    import struct
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError(f"{path}: not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    SHT_DYNAMIC, DT_NULL, DT_NEEDED = 6, 0, 1
    for _name, kind, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
        if kind != SHT_DYNAMIC:
            continue
        strtab = sections[link][4]
        needed = []
        for at in range(offset, offset + size, entsize or 16):
            tag, value = struct.unpack_from("<qQ", data, at)
            if tag == DT_NULL:
                break
            if tag == DT_NEEDED:
                end = data.index(b"\0", strtab + value)
                needed.append(data[strtab + value:end].decode())
        return needed
    return []


def kea_under_test() -> KeaInstall:
    """The Kea the tests run: $KEA_LWM2M_KEA or the machine's own."""
    return KeaInstall.under_test()


def hook_path(install: KeaInstall | None = None) -> Path:
    """The LwM2M hook under test: $KEA_LWM2M_HOOK, else the one ``make build``
    makes for the Kea under test (`install`)."""
    env = os.environ.get("KEA_LWM2M_HOOK")
    if env:
        return Path(os.path.abspath(env))
    return (install or kea_under_test()).default_hook


def built_hook(version: str) -> Path | None:
    """A hook built for Kea `version`, or None when there is none: the one
    ``make build KEA=version`` makes (for the machine's own Kea also plain
    ``make build``'s), else $KEA_LWM2M_HOOK_BUILDS/kea-<version>/ (a folder
    of prebuilt hooks laid out like .build)."""
    candidates = [REPO / ".build" / f"kea-{version}" / HOOK_NAME]
    if version == host_version():
        candidates.append(REPO / ".build" / "release" / HOOK_NAME)
    if os.environ.get("KEA_LWM2M_HOOK_BUILDS"):
        candidates.append(Path(os.environ["KEA_LWM2M_HOOK_BUILDS"]) / f"kea-{version}" / HOOK_NAME)
    return next((path for path in candidates if path.is_file()), None)


# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------


def base_config(family: int, hook: Path | None = None, hook_params: dict | None = None) -> dict:
    """The lab's Kea body for `family` (the dict under "Dhcp4"/"Dhcp6").

    Subnets A (directly connected on srv0), B and C (reached by relay) with a
    pool each and a marker domain name (see selected_subnet).  Runtime keys
    (sockets, logging, lease db, ...) are added by KeaServer.  `hook` and
    `hook_params` add one entry to "hooks-libraries".
    """
    subnets = []
    for key, (prefix, sid) in SUBNETS[family].items():
        net = ipaddress.ip_network(prefix)
        pool = f"{net[100]} - {net[199]}" if family == 4 else f"{net[0x100]} - {net[0x1ff]}"
        sub = {"id": sid, "subnet": prefix, "pools": [{"pool": pool}]}
        if key == "A":
            sub["interface"] = SERVER_IF
        # A per-subnet marker, so every reply tells which subnet Kea selected.
        marker = {"name": "domain-name" if family == 4 else "domain-search",
                  "data": subnet_marker(key)}
        sub["option-data"] = [marker]
        subnets.append(sub)
    body: dict = {
        "valid-lifetime": 3600,
        "renew-timer": 900,
        "rebind-timer": 1800,
        f"subnet{family}": subnets,
    }
    if family == 6:
        body["preferred-lifetime"] = 3000
        body["option-data"] = [{"name": "dns-servers", "data": "2001:db8::53"}]
    if hook is not None:
        lib: dict = {"library": str(hook)}
        if hook_params is not None:
            lib["parameters"] = hook_params
        body["hooks-libraries"] = [lib]
    return body


def strip_comments(text: str) -> str:
    """Kea's comment forms (#, //, /* */) removed outside strings."""
    out, i, n = [], 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif c == "#" or text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def hook_libraries(body: dict) -> list[Path]:
    """Paths of the hooks-libraries entries of a Kea body."""
    return [Path(str(lib["library"])) for lib in body.get("hooks-libraries", [])
            if isinstance(lib, dict) and "library" in lib]


# --------------------------------------------------------------------------
# A running Kea
# --------------------------------------------------------------------------


class KeaError(RuntimeError):
    """Kea failed to start, to answer, or died.

    `returncode` is Kea's exit status when it exited (else None) and `log`
    the Kea log at the time of the failure.
    """

    def __init__(self, message: str, returncode: int | None = None, log: str = "") -> None:
        super().__init__(message)
        self.returncode, self.log = returncode, log


def _fd_kind(entry: str) -> str:
    """'12 -> socket:[123]' -> 'socket'; file targets keep their path."""
    target = entry.split(" -> ", 1)[1]
    return re.sub(r":\[\d+\]$", "", target)


@dataclasses.dataclass(frozen=True)
class Resources:
    """What a Kea process holds: descriptor kinds/targets and threads."""
    fds: tuple
    threads: int

    KEA_LOGGER_LOCK = "logger_lockfile"

    @property
    def fd_count(self) -> int:
        return len(self.fds)

    def lockfile_fds(self) -> int:
        """Descriptors on Kea's logger lock file (opened lazily, one per logger)."""
        return sum(f.endswith(self.KEA_LOGGER_LOCK) for f in self.fds)

    def other_fds(self) -> list[str]:
        return sorted(f for f in self.fds if not f.endswith(self.KEA_LOGGER_LOCK))

    def diff(self, base: "Resources") -> str:
        """Human-readable descriptor/thread difference from `base`."""
        from collections import Counter
        more = Counter(self.fds) - Counter(base.fds)
        less = Counter(base.fds) - Counter(self.fds)
        return (f"fds {base.fd_count} -> {self.fd_count} (+{dict(more)} -{dict(less)}), "
                f"threads {base.threads} -> {self.threads}")


class KeaServer:
    """kea-dhcp4 or kea-dhcp6 of `install` (default: the Kea under test)
    running in a lab's server namespace.

    `body` is the dict under "Dhcp4"/"Dhcp6"; runtime settings that tie Kea to
    the lab and to a private temp dir (interfaces, control socket, logging at
    DEBUG/99, in-memory lease db, fixed DHCPv6 server-id) are filled in unless
    the caller set them, with the keys this Kea version reads.  Kea may load
    hooks only from `hooks_dir` (KEA_HOOKS_PATH; default: the folder of the
    first hook in `body`, else of the hook under test).  `wrapper`: a command
    Kea runs under, from the same installation (e.g. valgrind); `binds`: more
    host folders a root must see (files the wrapper writes).  `bind_hooks`
    False: the hooks come from the installation itself (a package installed
    into the root), so the hook folders are not shown from this machine,
    which would hide the root's own.  Start happens in __init__; use as a
    context manager.
    """

    def __init__(self, lab: Lab, family: int, body: dict, start_timeout: float = 15.0,
                 install: KeaInstall | None = None, hooks_dir: Path | None = None,
                 wrapper: tuple[str, ...] = (), binds: tuple[Path, ...] = (),
                 bind_hooks: bool = True) -> None:
        assert family in (4, 6)
        self.lab, self.family = lab, family
        self.install = install or kea_under_test()
        self.name = f"kea-dhcp{family}"
        self.tmp = Path(tempfile.mkdtemp(prefix=f"lwm2m-kea{family}-"))
        # Kea 2.6.3/3.0 refuse a control socket folder more open than 0750.
        self.tmp.chmod(0o750)
        self.config_path = self.tmp / f"{self.name}.json"
        self.socket_path = self.tmp / "control.sock"
        self.log_path = self.tmp / f"{self.name}.log"
        libraries = hook_libraries(body)
        if hooks_dir is None:
            hooks_dir = libraries[0].parent if libraries else hook_path(self.install).parent
        self.hooks_dir = Path(os.path.abspath(hooks_dir))
        # Host folders Kea must see when it runs from a root (beside /tmp and the repo).
        hook_folders = [self.hooks_dir, *(lib.parent for lib in libraries)] if bind_hooks else []
        self.binds = [*hook_folders, *binds]
        # A command Kea runs under, from the same installation (e.g. valgrind).
        self.wrapper = tuple(wrapper)
        # With the lab's own logger, "started" is read from the log.
        self._lab_logger = "loggers" not in body
        self.proc: subprocess.Popen | None = None
        self._closed = False
        track(self)
        try:
            self.write_config(body)
            self._start(start_timeout)
        except BaseException:
            self.close()
            raise

    # -- configuration ------------------------------------------------------

    @property
    def top(self) -> str:
        return f"Dhcp{self.family}"

    def full_config(self, body: dict) -> dict:
        """`body` completed with the lab's runtime settings, wrapped as {"DhcpN": ...}."""
        body = json.loads(json.dumps(body))  # deep copy
        if self.family == 4:
            body.setdefault("interfaces-config",
                            {"interfaces": [SERVER_IF], "dhcp-socket-type": "raw"})
        else:
            # "<if>/<addr>" adds a unicast socket for relayed traffic.
            body.setdefault("interfaces-config", {"interfaces": [f"{SERVER_IF}/{SERVER6}"]})
            body.setdefault("server-id", {
                "type": "LLT", "persist": False, "htype": 1,
                "identifier": SERVER_DUID_LLADDR.replace(":", ""), "time": SERVER_DUID_TIME})
        # "control-socket" (one socket) is read by 2.2, 2.6 and 3.0 alike
        # (dhcp4_parser.yy; 3.0 adds the "control-sockets" list beside it).
        body.setdefault("control-socket", {"socket-type": "unix",
                                           "socket-name": str(self.socket_path)})
        body.setdefault("lease-database", {"type": "memfile", "persist": False,
                                           "name": str(self.tmp / f"leases{self.family}.csv")})
        out_key = self.install.logger_output_key
        body.setdefault("loggers", [{
            "name": self.name, "severity": "DEBUG", "debuglevel": 99,
            out_key: [{"output": str(self.log_path), "flush": True}]}])
        # Callers' loggers get the spelling this Kea reads, too.
        old_key = "output_options" if out_key == "output-options" else "output-options"
        for logger in body.get("loggers", []):
            if isinstance(logger, dict) and old_key in logger and out_key not in logger:
                logger[out_key] = logger.pop(old_key)
        return {self.top: body}

    def write_config(self, body: dict) -> dict:
        """Write the completed configuration to the file Kea reads on start/reload."""
        cfg = self.full_config(body)
        self.config_path.write_text(json.dumps(cfg, indent=2))
        return cfg

    # -- process ----------------------------------------------------------------

    def _start(self, timeout: float) -> None:
        env = dict(os.environ, **self.install.environment(self.tmp, self.hooks_dir))
        self.stdout = open(self.tmp / "stdout.txt", "wb")
        # Every wrapper execs the next one, so proc.pid is Kea's PID.
        self.proc = self.install.popen(
            *self.wrapper, self.name, "-c", str(self.config_path), netns=self.lab.srv_ns, binds=self.binds,
            env=env, stdout=self.stdout, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        # Up means: configured (hooks loaded included), then DHCPn_STARTED
        # logged (main.cc, after init(), in 2.2, 2.6 and 3.0), and the control
        # socket answering.  2.6/3.0 answer on the socket before the hooks are
        # loaded, so the socket alone does not tell a start that will fail.
        # (A caller's own loggers may not log it: then the socket decides.)
        started = f"DHCP{self.family}_STARTED " if self._lab_logger else ""
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise KeaError(f"{self.name} exited with {self.proc.returncode}:\n{self.output_tail()}",
                               self.proc.returncode, self.log())
            if self.socket_path.exists() and started in self.log():
                with contextlib.suppress(OSError, ValueError):
                    if self.command("list-commands").get("result") == 0:
                        break
            if time.monotonic() > deadline:
                raise KeaError(f"{self.name} did not come up in {timeout}s:\n{self.output_tail()}")
            time.sleep(0.05)
        if "_OPEN_SOCKET_FAIL" in self.log():
            raise KeaError(f"{self.name} could not open its sockets:\n{self.output_tail()}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        """True while the Kea process is running."""
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        """Stop Kea (SIGTERM, then SIGKILL) and remove the temp dir."""
        if self._closed:
            return
        self._closed = True
        stop_process(self.proc)
        if getattr(self, "stdout", None):
            self.stdout.close()
        if os.environ.get("KEA_LWM2M_KEEP_TMP"):
            print(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        untrack(self)

    def __enter__(self) -> "KeaServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- observation ------------------------------------------------------------

    def log(self) -> str:
        """The whole Kea log so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def output(self) -> str:
        """What Kea wrote to stdout/stderr so far (messages before its logger is set up)."""
        try:
            return (self.tmp / "stdout.txt").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def output_tail(self, lines: int = 40) -> str:
        """Last lines of Kea's log and stdout/stderr, for error messages."""
        return "\n".join((self.log() + self.output()).splitlines()[-lines:])

    def fd_count(self) -> int:
        """Number of open file descriptors of the Kea process."""
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def thread_count(self) -> int:
        """Number of threads of the Kea process."""
        return len(os.listdir(f"/proc/{self.pid}/task"))

    def fds(self) -> list[str]:
        """Targets of the open descriptors (for diagnosing leaks)."""
        out = []
        for fd in sorted(os.listdir(f"/proc/{self.pid}/fd"), key=int):
            with contextlib.suppress(OSError):
                out.append(f"{fd} -> {os.readlink(f'/proc/{self.pid}/fd/{fd}')}")
        return out

    def resources(self, stable_reads: int = 6, interval: float = 0.05,
                  timeout: float = 10.0) -> "Resources":
        """Descriptor targets and thread count once they stop changing.

        Right after a command Kea may still hold the accepted control
        connection, so a reading counts only when it repeats `stable_reads`
        times in a row.
        """
        last, same = None, 0
        deadline = time.monotonic() + timeout
        while True:
            cur = Resources(tuple(_fd_kind(f) for f in self.fds()), self.thread_count())
            same = same + 1 if cur == last else 0
            last = cur
            if same >= stable_reads or time.monotonic() > deadline:
                return cur
            time.sleep(interval)

    def wait_log(self, pattern: str, after: int = 0, timeout: float = 10.0) -> re.Match:
        """Wait for regex `pattern` to appear in the log past character `after`."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log(), after)
            if m:
                return m
            if not self.alive():
                raise KeaError(f"{self.name} died:\n{self.output_tail()}")
            if time.monotonic() > deadline:
                raise KeaError(f"no /{pattern}/ in log after {timeout}s:\n{self.output_tail()}")
            time.sleep(0.05)

    # -- control ----------------------------------------------------------------

    def command(self, command: str, arguments: dict | None = None, timeout: float = 20.0) -> dict:
        """Send one command over the control socket and return Kea's JSON answer."""
        req: dict = {"command": command}
        if arguments is not None:
            req["arguments"] = arguments
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(self.socket_path))
            s.sendall(json.dumps(req).encode())
            buf = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                buf += chunk
                with contextlib.suppress(ValueError):
                    return json.loads(buf)  # Kea may keep the socket open briefly
        answer = json.loads(buf)
        return answer[0] if isinstance(answer, list) else answer

    def config_reload(self) -> dict:
        """`config-reload`: Kea re-reads its file (hooks are unloaded and reloaded)."""
        return self.command("config-reload")

    def config_set(self, body: dict) -> dict:
        """`config-set` with `body` completed by the lab runtime settings."""
        return self.command("config-set", self.full_config(body))

    def config_test(self, body: dict) -> dict:
        """`config-test` with `body` completed by the lab runtime settings."""
        return self.command("config-test", self.full_config(body))

    def sighup(self, timeout: float = 20.0) -> bool:
        """Send SIGHUP and wait until Kea has finished reloading its file.

        Returns True when the reconfiguration succeeded, False when Kea logged
        that it failed.
        """
        mark = len(self.log())
        os.kill(self.pid, signal.SIGHUP)
        m = self.wait_log(r"DHCP[46]_DYNAMIC_RECONFIGURATION_(SUCCESS|FAIL)\b",
                          after=mark, timeout=timeout)
        # The control socket is re-created during reconfiguration: wait for it.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                if self.command("list-commands").get("result") == 0:
                    break
            time.sleep(0.05)
        return m.group(1) == "SUCCESS"

    def log_lines(self, severity: str) -> list[str]:
        """Log lines of one severity (e.g. "ERROR")."""
        return [line for line in self.log().splitlines() if f" {severity} " in line[:60]]
