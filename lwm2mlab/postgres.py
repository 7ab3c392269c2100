"""A throw-away PostgreSQL cluster for the fleet tests (``store-database``).

`PostgresCluster` runs Debian's PostgreSQL server binaries (package
``postgresql``) as the ``postgres`` OS user on a data directory in a fresh
temporary folder, listening only on a unix socket in that folder (no TCP):
a unix socket is a file, so Kea in any network namespace reaches it, and Kea
run from a Debian root sees it too (the folder is under /tmp, which
lwm2mlab.KeaInstall shows to every root at the same path).

Authentication is ``trust`` for local connections: the folder is the
boundary.  With ``tls=True`` the server also listens on 127.0.0.1:5432 of
network namespace `netns` with TLS on, its certificate (SAN 127.0.0.1 and
localhost) issued by a CA made for the cluster (`ca_file`), so a Kea in
that namespace can connect with ``sslmode=verify-full``.  `stop()` / `start()` take the server down and bring it back on
the same socket (the "database goes away" tests); `close()` stops it by the
PID in postmaster.pid (immediate shutdown, then SIGKILL) and deletes the
folder, also when a test failed.

Typical use::

    with lab.PostgresCluster() as pg:
        pg.create_database("lwm2m")
        pg.sql("lwm2m", "SELECT 1")
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .netns import track, untrack


def server_bindir() -> Path | None:
    """The newest installed PostgreSQL's server binaries (initdb, pg_ctl), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    return Path(found[-1]).parent if found else None


class PostgresError(RuntimeError):
    pass


class PostgresCluster:
    """A private PostgreSQL cluster on a unix socket in a temporary folder."""

    def __init__(self, user: str = "postgres", netns: str | None = None, tls: bool = False) -> None:
        self.bindir = server_bindir()
        if self.bindir is None:
            raise PostgresError("no PostgreSQL server installed (apt-get install postgresql)")
        self.os_user = user
        self.uid = pwd.getpwnam(user).pw_uid
        self.gid = pwd.getpwnam(user).pw_gid
        self.dir = Path(tempfile.mkdtemp(prefix="lwm2m-pg-"))
        self.dir.chmod(0o755)
        self.data = self.dir / "data"
        self.socket_dir = self.dir / "socket"
        self.log_path = self.dir / "postgres.log"
        self.netns, self.tls = netns, tls
        self.ca_file = self.dir / "tls" / "ca.pem"
        self._closed = False
        track(self)
        try:
            for folder in (self.data, self.socket_dir):
                folder.mkdir()
                os.chown(folder, self.uid, self.gid)
            self.data.chmod(0o700)
            self.socket_dir.chmod(0o755)
            os.chown(self.dir, self.uid, self.gid)
            self._as_user(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                          "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8")
            if tls:
                self._make_certificates()
            self.start()
        except BaseException:
            self.close()
            raise

    # -- the server ---------------------------------------------------------

    def _make_certificates(self) -> None:
        """A CA and a server certificate for 127.0.0.1 / localhost it issued."""
        import datetime
        import ipaddress
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        folder = self.ca_file.parent
        folder.mkdir()
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kea-lwm2m test database CA")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        self.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        (folder / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (folder / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                              serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption()))
        for path in (folder, folder / "server.pem", folder / "server.key", self.ca_file):
            os.chown(path, self.uid, self.gid)
        (folder / "server.key").chmod(0o600)

    def _as_user(self, *argv: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        res = subprocess.run([*prefix, "runuser", "-u", self.os_user, "--", *argv], capture_output=True, text=True,
                             timeout=timeout, stdin=subprocess.DEVNULL, cwd=self.dir)
        if check and res.returncode != 0:
            raise PostgresError(f"{' '.join(argv)} failed ({res.returncode}): {res.stderr.strip()[-2000:]}")
        return res

    def start(self) -> None:
        """Start the server (again) on the same socket; returns once it accepts connections."""
        options = (f"-k {self.socket_dir} -c fsync=off -c full_page_writes=off -c max_connections=50")
        if self.tls:
            folder = self.ca_file.parent
            options += (f" -c listen_addresses=127.0.0.1 -p 5432 -c ssl=on -c ssl_cert_file={folder / 'server.pem'}"
                        f" -c ssl_key_file={folder / 'server.key'}")
        else:
            options += " -c listen_addresses=''"
        self._as_user(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_path),
                      "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: every connection is closed; clients see it gone."""
        self._as_user(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop",
                      check=False)

    @property
    def pid(self) -> int | None:
        """The postmaster's PID while it runs."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().splitlines()[0])
        return None

    def running(self) -> bool:
        pid = self.pid
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    def close(self) -> None:
        """Stop the server (by its PID if pg_ctl cannot) and delete the folder."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            if self.running():
                self.stop("immediate")
        pid = self.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)
        untrack(self)

    def __enter__(self) -> "PostgresCluster":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- SQL ----------------------------------------------------------------

    def sql(self, database: str, statement: str, user: str = "postgres", check: bool = True) -> str:
        """Run SQL with psql; returns the rows, unaligned, '|'-separated, one per line."""
        res = self._as_user("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t", "-h", str(self.socket_dir),
                            "-U", user, "-d", database, "-c", statement, check=False)
        if check and res.returncode != 0:
            raise PostgresError(f"psql: {statement[:200]!r}: {res.stderr.strip()}")
        return res.stdout.strip()

    def create_database(self, name: str) -> None:
        self.sql("postgres", f'CREATE DATABASE "{name}"')

    def create_reader(self, database: str, role: str) -> None:
        """A login role that may read the store and nothing else (docs/fleet.md)."""
        self.sql(database, f'CREATE ROLE "{role}" LOGIN')
        self.sql(database, f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"; '
                           f'GRANT USAGE ON SCHEMA public TO "{role}"; '
                           f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')

    def connections(self, database: str, application_prefix: str) -> list[str]:
        """application_name of every session on `database` whose name starts with the prefix."""
        out = self.sql("postgres", "SELECT application_name FROM pg_stat_activity "
                                   f"WHERE datname = '{database}' AND application_name LIKE '{application_prefix}%'")
        return [line for line in out.splitlines() if line]

    def wait_connections(self, database: str, application_prefix: str, count: int,
                         timeout: float = 10.0) -> list[str]:
        """Wait until exactly `count` such sessions exist; returns them (or the last seen)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.connections(database, application_prefix)
            if len(found) == count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def store_params(self, database: str, **extra) -> dict:
        """The hook's store-database map for this cluster."""
        return {"type": "postgresql", "name": database, "host": str(self.socket_dir), **extra}
