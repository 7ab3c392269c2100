"""The fleet: one LwM2M store in PostgreSQL (``store-database``), followed by
three Kea servers of the version under test -- two kea-dhcp4, each in a lab
of its own, and one kea-dhcp6 -- over LISTEN/NOTIFY.

Real PostgreSQL (a throw-away cluster on a unix socket, lwm2mlab.postgres),
real Kea, real packets, real dhclient; the store is changed with the real
``kea-lwm2m db`` command and, for the invalid-row test, with psql by hand.
The servers connect as a read-only role, as docs/fleet.md recommends.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import lwm2mlab as lab
import make_fixtures as mf
from conftest import DATA, URIS, load_cert
from test_clients import Client, client_factory, decimals, needs_dhclient  # noqa: F401 (fixture)

DATABASE = "lwm2m"
READER = "kea_lwm2m_reader"
APP = "kea-lwm2m dhcp"          # application_name prefix of the hook's sessions
PROPAGATION_GOAL = 1.0          # seconds from commit to the first reply with the new URI
IMPORTS = 20


def cli() -> Path:
    env = os.environ.get("KEA_LWM2M_CLI")
    path = Path(env) if env else lab.REPO / ".build" / "release" / "kea-lwm2m"
    if not path.is_file():
        msg = f"kea-lwm2m not built: {path} (make cli, or set KEA_LWM2M_CLI)"
        if os.environ.get("KEA_LWM2M_REQUIRE_HOOK") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


needs_postgres = pytest.mark.skipif(lab.postgres.server_bindir() is None,
                                    reason="needs PostgreSQL (apt-get install postgresql)")
pytestmark = needs_postgres


def fixture(family: int) -> mf.Fixture:
    """Subnet A, asks for both options, room for both."""
    return mf.FIXTURES["v4_discover_mms1500" if family == 4 else "v6_solicit_lwm2m"]


def served(net: lab.Lab, family: int, timeout: float = 2.0, grace: float = 0.2) -> tuple[bytes | None, bytes | None]:
    """(URI, certificate) values of the reply to the subnet-A fixture."""
    fx = fixture(family)
    query = lab.decode(fx.frame())
    got = net.exchange([fx.frame()], timeout=timeout, grace=grace).get(query.xid, [])
    assert len(got) == 1, f"{len(got)} replies"
    reply = lab.decode(got[0])
    uri_code, cert_code = lab.DEFAULT_CODES[family]
    return reply.value(uri_code), reply.value(cert_code)


def write_store(folder: Path, uri_a: str) -> Path:
    """The suite's store (subnet A: uri_a + large.pem, subnet B: small.pem) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    certs = folder / "certs"
    certs.mkdir(exist_ok=True)
    for name in ("large.pem", "small.pem"):
        shutil.copy(DATA / name, certs / name)
    a = {"bootstrap-uri": uri_a, "server-certificate": "certs/large.pem"}
    b = {"bootstrap-uri": URIS["B"], "server-certificate": "certs/small.pem"}
    store = folder / "store.json"
    store.write_text(json.dumps({"entries": [
        {"subnet": lab.SUBNETS[4]["A"][0], **a}, {"subnet": lab.SUBNETS[6]["A"][0], **a},
        {"subnet-id": lab.SUBNETS[4]["B"][1], **b}, {"subnet": lab.SUBNETS[6]["B"][0], **b}]}, indent=1))
    return store


class Fleet:
    """A cluster with the store's schema, and three Kea servers following it."""

    def __init__(self, stack: contextlib.ExitStack, hook: Path, tmp: Path) -> None:
        self.stack, self.hook, self.tmp = stack, hook, tmp
        self.pg = stack.enter_context(lab.PostgresCluster())
        self.pg.create_database(DATABASE)
        self.db("init")
        self.pg.create_reader(DATABASE, READER)
        self.revision = self.import_store("coaps://first.example:5684")
        self.servers: list[tuple[int, lab.Lab, lab.KeaServer, Path]] = []
        for index, family in enumerate((4, 4, 6)):
            net = stack.enter_context(lab.Lab())
            cache = tmp / f"server{index}" / "lwm2m-cache.json"
            cache.parent.mkdir(parents=True)
            kea = self.start(net, family, cache)
            self.servers.append((family, net, kea, cache))

    def body(self, family: int, cache: Path) -> dict:
        params = {"store-database": self.pg.store_params(DATABASE, user=READER, **{"cache-file": str(cache)})}
        if family == 4:
            params["default-max-message-size"] = 1500   # dhclient sends no option 57
        else:
            # Keys of a Kea lease-database map copied as they are: tcp-user-timeout
            # applies; the others have no effect (the outage test still sees this
            # server reconnect after more than 2 tries, and serve throughout).
            params["store-database"].update({"tcp-user-timeout": 10, "max-reconnect-tries": 2,
                                             "reconnect-wait-time": 100, "on-fail": "stop-retry-exit",
                                             "retry-on-startup": False})
        return lab.base_config(family, self.hook, params)

    def start(self, net: lab.Lab, family: int, cache: Path) -> lab.KeaServer:
        return self.stack.enter_context(lab.KeaServer(net, family, self.body(family, cache)))

    def db(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        res = subprocess.run([str(cli()), "db", *args, "--name", DATABASE, "--host", str(self.pg.socket_dir),
                              "--user", "postgres"], capture_output=True, text=True, timeout=120,
                             cwd=self.tmp)   # `db export` to standard output writes certificates/ here
        if check:
            assert res.returncode == 0, f"db {' '.join(args)}: {res.returncode}\n{res.stdout}\n{res.stderr}"
        return res

    def import_store(self, uri_a: str) -> int:
        folder = self.tmp / f"store-{abs(hash(uri_a))}"
        res = self.db("import", str(write_store(folder, uri_a)))
        m = re.search(r"revision (\d+)", res.stdout)
        assert m, res.stdout
        return int(m.group(1))

    def timed_import(self, uri_a: str) -> tuple[float, int]:
        """Starts `db import` and returns (monotonic time of its commit, revision):
        the command prints the revision right after COMMIT returned."""
        store = write_store(self.tmp / f"store-{abs(hash(uri_a))}", uri_a)
        proc = subprocess.Popen([str(cli()), "db", "import", str(store), "--name", DATABASE,
                                 "--host", str(self.pg.socket_dir), "--user", "postgres"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = proc.stdout.readline()
        committed = time.monotonic()
        rest, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"{line}{rest}{err}"
        m = re.search(r"revision (\d+)", line)
        assert m, line
        return committed, int(m.group(1))

    def wait_all(self, uri: str, since: float, timeout: float = 10.0) -> list[float]:
        """Probes the three servers round-robin until each replies with `uri`;
        returns each one's delay from `since` (its first reply with `uri`)."""
        delays: list[float | None] = [None] * len(self.servers)
        deadline = time.monotonic() + timeout
        while any(d is None for d in delays):
            for i, (family, net, kea, _) in enumerate(self.servers):
                if delays[i] is not None:
                    continue
                got, _ = served(net, family, timeout=1.0, grace=0.0)
                if got == uri.encode():
                    delays[i] = time.monotonic() - since
                assert kea.alive(), kea.output_tail()
            assert time.monotonic() < deadline, (
                f"{uri} not served by every server after {timeout}s: {delays}\n"
                + "\n".join(k.output_tail(15) for _, _, k, _ in self.servers))
        return [d for d in delays if d is not None]

    def status(self, kea: lab.KeaServer) -> dict:
        answer = kea.command("lwm2m-status")
        assert answer["result"] == 0, answer
        return answer["arguments"]


@pytest.fixture
def fleet(hook, tmp_path):
    cli()
    with contextlib.ExitStack() as stack:
        yield Fleet(stack, hook, tmp_path)


def certificate_der(name: str) -> bytes:
    return load_cert(DATA / name).der


def test_import_reaches_three_servers_within_a_second(fleet):
    """20 imports, each with a new URI for subnet A: every server (2 x v4, 1 x
    v6) replies with it within 1 s of the commit; median and max reported.
    Status and statistics show the database, the revision, connected."""
    for family, net, kea, _ in fleet.servers:
        uri, cert = served(net, family)
        assert uri == b"coaps://first.example:5684"
        assert cert is not None and cert[1:] == certificate_der("large.pem")
        status = fleet.status(kea)
        assert status["backend"] == "database", status
        assert status["database"]["connected"] is True and status["database"]["revision"] == fleet.revision
    delays: list[float] = []
    for n in range(IMPORTS):
        uri = f"coaps://import-{n}.example:5684"
        committed, revision = fleet.timed_import(uri)
        delays += fleet.wait_all(uri, committed)
    median, worst = statistics.median(delays), max(delays)
    print(f"\npropagation over {IMPORTS} imports x {len(fleet.servers)} servers "
          f"(Kea {lab.kea_under_test().version}): median {median * 1000:.0f} ms, max {worst * 1000:.0f} ms")
    assert worst < PROPAGATION_GOAL, f"median {median:.3f}s, max {worst:.3f}s: {delays}"
    for family, net, kea, cache in fleet.servers:
        status = fleet.status(kea)
        assert status["database"]["revision"] == revision, status
        stats = kea.command("statistic-get", {"name": "lwm2m-database-revision"})
        kea.wait_log(r"LWM2M_DB_STORE_LOADED .*revision %d " % revision)
        stats = kea.command("statistic-get", {"name": "lwm2m-database-revision"})["arguments"]
        assert stats["lwm2m-database-revision"][0][0] == revision, stats
        # The cache file is a store file like any other: the same URI.
        assert f"coaps://import-{IMPORTS - 1}.example:5684" in cache.read_text()


def dhclient_bound(client_factory, net: lab.Lab) -> dict:  # noqa: F811
    """ISC dhclient asking for both LwM2M options on the lab's client link,
    until BOUND; the environment its script saw."""
    client = client_factory(net, "dhclient")
    conf = client.write("dhclient.conf", "\n".join([
        "option lwm2m-bootstrap-uri code 224 = text;",
        "option lwm2m-server-certificate code 225 = array of unsigned integer 8;",
        "also request lwm2m-bootstrap-uri, lwm2m-server-certificate;"]) + "\n")
    return client.run(["dhclient", "-4", "-d", "-1", "-cf", str(conf), "-sf", str(client.script),
                       "-lf", str(client.dir / "leases"), "-pf", str(client.dir / "dhclient.pid"),
                       lab.CLIENT_IF], "BOUND", exits=False)


@needs_dhclient
def test_dhclient_gets_uri_and_certificate_from_both_v4_servers(fleet, client_factory):  # noqa: F811
    large = certificate_der("large.pem")
    for family, net, kea, _ in fleet.servers:
        if family != 4:
            continue
        env = dhclient_bound(client_factory, net)
        assert env["new_lwm2m_bootstrap_uri"].encode() == b"coaps://first.example:5684"
        assert decimals(env["new_lwm2m_server_certificate"]) == b"\x04" + large


def test_database_down_keeps_serving_and_a_restart_serves_the_cache(fleet):
    """Database stopped: same bytes from every server, status not connected
    with stale-since, LWM2M_DB_LOST once. A server restarted meanwhile serves
    its cache file. Database back: LWM2M_DB_BACK, the next import reaches all."""
    before = [served(net, family) for family, net, _, _ in fleet.servers]
    fleet.pg.stop()
    for (family, net, kea, _), was in zip(fleet.servers, before):
        kea.wait_log(r"LWM2M_DB_LOST ")
        assert served(net, family) == was
        status = fleet.status(kea)["database"]
        assert status["connected"] is False and status["stale-since"], status
        stats = kea.command("statistic-get", {"name": "lwm2m-database-connected"})["arguments"]
        deadline = time.monotonic() + 5
        while stats["lwm2m-database-connected"][0][0] != 0 and time.monotonic() < deadline:
            time.sleep(0.2)
            stats = kea.command("statistic-get", {"name": "lwm2m-database-connected"})["arguments"]
        assert stats["lwm2m-database-connected"][0][0] == 0, stats
    # Restart the first v4 server while the database is down.
    family, net, kea, cache = fleet.servers[0]
    kea.close()
    kea = fleet.start(net, family, cache)
    fleet.servers[0] = (family, net, kea, cache)
    assert "LWM2M_STORE_KEPT_PREVIOUS" in kea.log() and "serving the cache file" in kea.log(), kea.output_tail()
    assert served(net, family) == before[0]
    assert fleet.status(kea)["database"]["serving-cache-file"] is True
    time.sleep(2)   # a few reconnect attempts: still one LWM2M_DB_LOST per server
    for _, _, k, _ in fleet.servers:
        assert k.log().count("LWM2M_DB_LOST ") == 1, k.output_tail()
    marks = [len(k.log()) for _, _, k, _ in fleet.servers]
    fleet.pg.start()
    for (_, _, k, _), mark in zip(fleet.servers, marks):
        k.wait_log(r"LWM2M_DB_BACK ", after=mark, timeout=40)   # backoff: 0.5 s doubling to 30 s
    committed, _ = fleet.timed_import("coaps://after-outage.example:5684")
    delays = fleet.wait_all("coaps://after-outage.example:5684", committed, timeout=40)
    print(f"\nafter the outage: {', '.join(f'{d * 1000:.0f} ms' for d in delays)}")
    for _, _, k, _ in fleet.servers:
        assert fleet.status(k)["database"]["connected"] is True


def test_row_broken_by_hand_is_refused_and_logged_once(fleet):
    before = [served(net, family) for family, net, _, _ in fleet.servers]
    fleet.pg.sql(DATABASE, """UPDATE lwm2m_entry SET body = jsonb_set(body, '{bootstrap-uri}', '"http://rogue.example"')
                              WHERE position = 1""")
    for (family, net, kea, _), was in zip(fleet.servers, before):
        kea.wait_log(r"LWM2M_DB_STORE_REFUSED .*:1: .*scheme 'http'")
        assert kea.command("lwm2m-reload")["result"] == 0   # read again: same revision, same problem
        time.sleep(0.5)
        assert served(net, family) == was
        assert kea.log().count("LWM2M_DB_STORE_REFUSED") == 1, kea.output_tail()
        assert "scheme 'http'" in (fleet.status(kea)["last-error"] or "")
    committed, _ = fleet.timed_import("coaps://fixed.example:5684")
    fleet.wait_all("coaps://fixed.example:5684", committed)


def test_changed_rows_alone_serve_what_a_whole_read_serves(fleet):
    """Rows changed by hand, one transaction each: subnet A's URIs (v4 and v6
    entries) changed, an entry appended and a default added; then the
    appended entry deleted and the others changed again. The servers read each revision as its changed rows
    alone (LWM2M_DB_STORE_LOADED says how many), serve it, and leave the
    same cache file and store digest as a whole read of that revision
    (`lwm2m-reload`)."""
    steps = [
        ("""UPDATE lwm2m_entry SET body = jsonb_set(body, '{bootstrap-uri}', '"coaps://row-1.example:5684"')
                WHERE position IN (1, 2);
            INSERT INTO lwm2m_entry (position, body, certificate)
                SELECT 5, '{"subnet-id": 4242, "bootstrap-uri": "coaps://added.example"}', certificate
                FROM lwm2m_entry WHERE position = 1;
            INSERT INTO lwm2m_entry (position, body) VALUES (0, '{"bootstrap-uri": "coaps://default.example"}')""",
         "coaps://row-1.example:5684", 4),
        ("""DELETE FROM lwm2m_entry WHERE position = 5;
            UPDATE lwm2m_entry SET body = '{"bootstrap-uri": "coaps://default-2.example"}' WHERE position = 0;
            UPDATE lwm2m_entry SET body = jsonb_set(body, '{bootstrap-uri}', '"coaps://row-2.example:5684"')
                WHERE position IN (1, 2)""",
         "coaps://row-2.example:5684", 4),
    ]
    for sql, uri, rows in steps:
        marks = [len(kea.log()) for _, _, kea, _ in fleet.servers]
        fleet.pg.sql(DATABASE, sql)
        for (family, net, kea, cache), mark in zip(fleet.servers, marks):
            m = kea.wait_log(r"LWM2M_DB_STORE_LOADED LwM2M store revision (\d+) .*; (\d+) changed rows? read",
                             after=mark)
            assert int(m.group(2)) == rows, m.group(0)
            revision = m.group(1)
            deadline = time.monotonic() + 5
            while served(net, family)[0] != uri.encode() or f'"revision {revision} of' not in cache.read_text()[:300]:
                assert time.monotonic() < deadline, kea.output_tail()
                time.sleep(0.05)
            applied = (cache.read_bytes(), fleet.status(kea)["sha256"])
            written = cache.stat().st_mtime_ns
            mark = len(kea.log())
            assert kea.command("lwm2m-reload")["result"] == 0
            kea.wait_log(rf"LWM2M_DB_STORE_LOADED LwM2M store revision {revision} .*; whole store read", after=mark)
            while cache.stat().st_mtime_ns == written:   # the whole read's cache file, written after it is served
                assert time.monotonic() < deadline + 5, kea.output_tail()
                time.sleep(0.05)
            assert (cache.read_bytes(), fleet.status(kea)["sha256"]) == applied
            assert served(net, family)[0] == uri.encode()


def test_broken_import_exits_1_and_changes_nothing(fleet, tmp_path):
    exported = fleet.db("export").stdout
    folder = tmp_path / "broken"
    store = write_store(folder, "coaps://never.example:5684")
    text = store.read_text().replace("certs/small.pem", "certs/missing.pem", 1)
    store.write_text(text)
    res = fleet.db("import", str(store), check=False)
    assert res.returncode == 1, res
    assert "missing.pem" in res.stdout and "not changed" in res.stdout, res.stdout
    assert fleet.db("export").stdout == exported
    time.sleep(0.3)
    for family, net, _, _ in fleet.servers:
        assert served(net, family)[0] == b"coaps://first.example:5684"


def test_config_reload_and_sighup_leak_no_connections(fleet):
    """Each server holds exactly one session, after 3 config-reload and 3
    SIGHUP too (counted in pg_stat_activity), and still serves."""
    assert len(fleet.pg.wait_connections(DATABASE, APP, 3)) == 3
    for family, net, kea, _ in fleet.servers:
        for how in ["config-reload"] * 3 + ["SIGHUP"] * 3:
            if how == "config-reload":
                assert kea.config_reload()["result"] == 0, kea.output_tail()
            else:
                assert kea.sighup(), kea.output_tail()
            assert kea.alive()
        sessions = fleet.pg.wait_connections(DATABASE, APP, 3)
        assert len(sessions) == 3, sessions
        assert served(net, family)[0] == b"coaps://first.example:5684"
    committed, _ = fleet.timed_import("coaps://after-reloads.example:5684")
    fleet.wait_all("coaps://after-reloads.example:5684", committed)
    assert len(fleet.pg.wait_connections(DATABASE, APP, 3)) == 3
    # db status, connected as a server is (--kea-config: its store-database, read-only role).
    res = subprocess.run([str(cli()), "db", "status", "--kea-config", str(fleet.servers[2][2].config_path)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res
    assert "3 servers follow it" in res.stdout and res.stdout.count("kea-lwm2m dhcp4 ") == 2, res.stdout


def test_tls_verify_full_with_trust_anchor(hook, tmp_path):
    """store-database over TCP with TLS: trust-anchor makes it verify-full;
    the right CA serves the store, another CA is refused (LWM2M_DB_LOST with
    libpq's reason) and nothing is served."""
    cli()
    with contextlib.ExitStack() as stack:
        net = stack.enter_context(lab.Lab())
        pg = stack.enter_context(lab.PostgresCluster(netns=net.srv_ns, tls=True))
        pg.create_database(DATABASE)
        fleet_db = ["--name", DATABASE, "--host", "127.0.0.1", "--user", "postgres",
                    "--trust-anchor", str(pg.ca_file)]
        for args in (["init"], ["import", str(write_store(tmp_path / "s", "coaps://tls.example:5684"))]):
            res = subprocess.run(["ip", "netns", "exec", net.srv_ns, str(cli()), "db", *args, *fleet_db],
                                 capture_output=True, text=True, timeout=60)
            assert res.returncode == 0, res
        params = {"store-database": {"type": "postgresql", "name": DATABASE, "host": "127.0.0.1", "port": 5432,
                                     "user": "postgres", "trust-anchor": str(pg.ca_file), "connect-timeout": 5,
                                     "tcp-user-timeout": 10}}   # libpq's tcp_user_timeout, over TCP
        kea = stack.enter_context(lab.KeaServer(net, 4, lab.base_config(4, hook, params), binds=(pg.dir,)))
        assert served(net, 4)[0] == b"coaps://tls.example:5684"
        assert int(pg.sql(DATABASE, "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
                                    f"WHERE s.ssl AND a.application_name LIKE '{APP}%'")) == 1
        kea.close()
        # Another CA: the server's certificate does not chain to it.
        other = tmp_path / "other-ca.pem"
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "some other CA")])
        now = datetime.datetime.now(datetime.timezone.utc)
        ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
              .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
              .not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .sign(key, hashes.SHA256()))
        other.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        params["store-database"]["trust-anchor"] = str(other)
        params["store-database"]["connect-timeout"] = 2
        kea = stack.enter_context(lab.KeaServer(net, 4, lab.base_config(4, hook, params), binds=(pg.dir,)))
        assert "LWM2M_STORE_LOAD_FAILED" in kea.log(), kea.output_tail()
        kea.wait_log(r"LWM2M_DB_LOST .*certificate verify failed")
        assert served(net, 4)[0] is None


# ---- raw public keys (server-public-key) -------------------------------------

def write_rpk_store(folder: Path, uri_a: str) -> Path:
    """The suite's store with subnet A's certificate replaced by a raw public
    key (P-256, PEM); subnet B keeps small.pem."""
    store = write_store(folder, uri_a)
    (folder / "keys").mkdir(exist_ok=True)
    shutil.copy(DATA / "rpk-p256.pem", folder / "keys" / "bs.pem")
    document = json.loads(store.read_text())
    for entry in document["entries"]:
        if entry.get("server-certificate") == "certs/large.pem":
            del entry["server-certificate"]
            entry["server-public-key"] = "keys/bs.pem"
    store.write_text(json.dumps(document, indent=1))
    return store


def rpk_spki() -> bytes:
    key = serialization.load_pem_public_key((DATA / "rpk-p256.pem").read_bytes())
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_rpk_store_after_an_upgrade_from_version_1(hook, tmp_path):
    """One cluster, leanly: a version-1 database (no encoding column) with a
    store in it is refused by `db import`; `db init` upgrades it in place
    (rows kept, encoding 4, revision unchanged); a kea-dhcp4 and a kea-dhcp6
    follow it (read-only role); then an RPK store is imported, and both
    serve 0F || SPKI for subnet A, the bytes table says 15, and `db export` writes
    server-public-key, which imports again to the same rows."""
    cli()
    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(lab.PostgresCluster())
        pg.create_database(DATABASE)

        def db(*args: str, check: bool = True) -> subprocess.CompletedProcess:
            res = subprocess.run([str(cli()), "db", *args, "--name", DATABASE, "--host", str(pg.socket_dir),
                                  "--user", "postgres"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
            if check:
                assert res.returncode == 0, f"db {' '.join(args)}: {res.returncode}\n{res.stdout}\n{res.stderr}"
            return res
        db("init")
        db("import", str(write_store(tmp_path / "v1", "coaps://v1.example:5684")))
        # What version 1 was: the same tables without lwm2m_certificate.encoding.
        pg.sql(DATABASE, "ALTER TABLE lwm2m_certificate DROP COLUMN encoding; UPDATE lwm2m_schema_version SET version = 1")
        revision = pg.sql(DATABASE, "SELECT revision FROM lwm2m_revision")
        uri = "coaps://rpk.example:5684"
        rpk_store = write_rpk_store(tmp_path / "rpk", uri)
        refused = db("import", str(rpk_store), check=False)
        assert refused.returncode != 0 and "schema version 1, this kea-lwm2m reads version 2" in refused.stderr, refused
        upgraded = db("init")
        assert "schema upgraded from version 1 to 2" in upgraded.stdout, upgraded
        assert pg.sql(DATABASE, "SELECT version FROM lwm2m_schema_version") == "2"
        assert pg.sql(DATABASE, "SELECT revision FROM lwm2m_revision") == revision
        assert pg.sql(DATABASE, "SELECT DISTINCT encoding FROM lwm2m_certificate") == "4"
        assert "schema version 2, up to date" in db("init").stdout

        # Two servers follow the upgraded database, then the RPK store is imported (a change they follow).
        pg.create_reader(DATABASE, READER)
        net = stack.enter_context(lab.Lab())
        servers = {}
        for family in (4, 6):
            cache = tmp_path / f"cache{family}" / "lwm2m-cache.json"
            cache.parent.mkdir()
            params = {"store-database": pg.store_params(DATABASE, user=READER, **{"cache-file": str(cache)})}
            servers[family] = (stack.enter_context(lab.KeaServer(net, family, lab.base_config(family, hook, params))), cache)
            assert served(net, family) == (b"coaps://v1.example:5684", b"\x04" + certificate_der("large.pem"))
        db("import", str(rpk_store))
        der = rpk_spki()
        sha = hashlib.sha256(der).hexdigest()
        rows = pg.sql(DATABASE, "SELECT sha256, encoding FROM lwm2m_certificate ORDER BY encoding")
        assert rows.splitlines() == [f"{hashlib.sha256(certificate_der('small.pem')).hexdigest()}|4", f"{sha}|15"], rows
        for family, (kea, cache) in servers.items():
            deadline = time.monotonic() + 5
            while served(net, family) != (uri.encode(), b"\x0f" + der):
                assert time.monotonic() < deadline, f"{served(net, family)}\n{kea.output_tail()}"
                time.sleep(0.2)
            assert "LWM2M_DB_STORE_REFUSED" not in kea.log(), kea.output_tail()
            keys = [c for c in kea.command("lwm2m-status")["arguments"]["certificates"] if c["encoding"] == 15]
            assert len(keys) == 1 and keys[0]["key-type"] == "EC P-256", keys
            assert '"server-public-key"' in cache.read_text()    # the cache file names it as the store did

        out = tmp_path / "export" / "store.json"
        out.parent.mkdir()
        db("export", "--output", str(out))
        exported = json.loads(out.read_text())
        keyed = [e for e in exported["entries"] if "server-public-key" in e]
        assert len(keyed) == 2 and all(e["server-public-key"] == f"certificates/{sha}.der" for e in keyed), exported
        assert (out.parent / "certificates" / f"{sha}.der").read_bytes() == der
        before = db("export").stdout
        db("import", str(out))
        assert db("export").stdout.split("\n", 1)[1] == before.split("\n", 1)[1]   # all but the comment line
