"""The fleet as an HA pair: two kea-dhcp4 of the version under test, each with
Kea's own ``libdhcp_ha.so`` (hot-standby) and ``libdhcp_lease_cmds.so`` beside
the hook, both following one LwM2M store in PostgreSQL, on one link
(lwm2mlab.PeerServer), each configured by kea-config/kea-dhcp4-ha-fleet.conf
(changed only where the lab differs, see example_body).

Whichever server of the pair answers, a device gets the same bootstrap
server: the primary while it runs, the standby once it has taken over, and a
`kea-lwm2m db import` reaches the one answering within a second either way.
Real PostgreSQL, real Kea and its HA hook, real packets, real dhclient.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import lwm2mlab as lab
import make_fixtures as mf
from conftest import DATA, load_cert
from test_clients import client_factory, decimals, needs_dhclient  # noqa: F401 (fixture)
from test_fleet import DATABASE, PROPAGATION_GOAL, READER, cli, dhclient_bound, needs_postgres, write_store

pytestmark = needs_postgres

EXAMPLE = lab.REPO / "kea-config" / "kea-dhcp4-ha-fleet.conf"
HA_PORT = 8001
STOCK_HOOKS = ("libdhcp_lease_cmds.so", "libdhcp_ha.so")
SERVER_IDENTIFIER = 54


def stock_hooks_dir(install: lab.KeaInstall) -> Path:
    return install.root / "usr" / "lib" / "x86_64-linux-gnu" / "kea" / "hooks"


def hooks_folder(install: lab.KeaInstall, hook: Path, folder: Path) -> Path:
    """One folder with the hook and the installation's HA and lease_cmds hooks:
    Kea 2.6.3 and 3.0 load hooks from one folder only (KEA_HOOKS_PATH)."""
    folder.mkdir()
    for name in STOCK_HOOKS:
        source = stock_hooks_dir(install) / name
        assert source.is_file(), f"Kea {install.version} has no {name} ({source}; Debian's kea-common has it)"
        shutil.copy(source, folder / name)
    shutil.copy(hook, folder / lab.HOOK_NAME)
    return folder


def example_body(name: str, interface: str, hooks: Path, store_database: dict) -> dict:
    """kea-config/kea-dhcp4-ha-fleet.conf for server `name` of the lab's pair.

    Changed for the lab: the interface and the lab's subnets; the hooks
    from `hooks`; the peers' URLs at the lab's addresses; the store in the
    lab's cluster (unix socket, no TLS); heartbeats every second and
    partner-down after 4 s without answer (the example waits a minute; 4 s
    outlast the stalls of a loaded 2-core machine, so the standby never
    takes over while the primary runs);
    lease file and loggers those of the lab's KeaServer. All else, the HA
    mode, roles, lease updates, multi-threading and the hook's parameters,
    is the example's."""
    body = json.loads(lab.strip_comments(EXAMPLE.read_text()))["Dhcp4"]
    body["interfaces-config"] = {"interfaces": [interface], "dhcp-socket-type": "raw"}
    del body["lease-database"], body["loggers"]
    body["subnet4"] = lab.base_config(4)["subnet4"]
    for subnet in body["subnet4"]:
        if "interface" in subnet:
            subnet["interface"] = interface
    for library in body["hooks-libraries"]:
        library["library"] = str(hooks / Path(library["library"]).name)
        parameters = library.get("parameters", {})
        for ha in parameters.get("high-availability", []):
            ha.update({"this-server-name": name, "heartbeat-delay": 1000, "max-response-delay": 4000,
                       "max-ack-delay": 2000, "max-unacked-clients": 0})
            for peer, address in zip(ha["peers"], (lab.SERVER4, lab.PEER4)):
                peer["url"] = f"http://{address}:{HA_PORT}/"
        if "store-database" in parameters:
            parameters["store-database"] = store_database
            parameters["default-max-message-size"] = 1500   # dhclient sends no option 57
    return body


class Pair:
    """A PostgreSQL cluster with the store, and the HA pair following it."""

    def __init__(self, stack: contextlib.ExitStack, hook: Path, tmp: Path) -> None:
        self.stack, self.tmp = stack, tmp
        self.install = lab.kea_under_test()
        self.hooks = hooks_folder(self.install, hook, tmp / "hooks")
        self.pg = stack.enter_context(lab.PostgresCluster())
        self.pg.create_database(DATABASE)
        self.db("init")
        self.pg.create_reader(DATABASE, READER)
        self.import_store("coaps://first.example:5684")
        self.net = stack.enter_context(lab.Lab())
        self.peer = stack.enter_context(lab.PeerServer(self.net))
        self.primary = stack.enter_context(lab.KeaServer(self.net, 4, self.body("server1", lab.BRIDGE_IF)))
        self.standby = stack.enter_context(lab.KeaServer(self.peer, 4, self.body("server2", lab.SERVER_IF)))

    def body(self, name: str, interface: str) -> dict:
        cache = self.tmp / name / "lwm2m-cache.json"
        cache.parent.mkdir()
        database = self.pg.store_params(DATABASE, user=READER, **{"cache-file": str(cache)})
        return example_body(name, interface, self.hooks, database)

    def db(self, *args: str) -> str:
        res = subprocess.run([str(cli()), "db", *args, "--name", DATABASE, "--host", str(self.pg.socket_dir),
                              "--user", "postgres"], capture_output=True, text=True, timeout=120, cwd=self.tmp)
        assert res.returncode == 0, f"db {' '.join(args)}: {res.returncode}\n{res.stdout}\n{res.stderr}"
        return res.stdout

    def import_store(self, uri: str) -> float:
        """`db import` of the store with `uri` for subnet A; the time it returned."""
        self.db("import", str(write_store(self.tmp / f"store-{abs(hash(uri))}", uri)))
        return time.monotonic()

    @staticmethod
    def ha_state(kea: lab.KeaServer) -> str:
        answer = kea.command("ha-heartbeat")
        return str(answer.get("arguments", {}).get("state", answer))

    def wait_state(self, kea: lab.KeaServer, state: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while (now := self.ha_state(kea)) != state:
            assert kea.alive(), kea.output_tail()
            assert time.monotonic() < deadline, f"{kea.name} in HA state {now}, not {state}:\n{kea.output_tail(20)}"
            time.sleep(0.2)

    def offer(self, grace: float = 0.3) -> lab.Message:
        """The one reply to subnet A's DISCOVER (both options asked for),
        waiting `grace` seconds after it for a second one."""
        fx = mf.FIXTURES["v4_discover_mms1500"]
        query = lab.decode(fx.frame())
        got = self.net.exchange([fx.frame()], timeout=2.0, grace=grace).get(query.xid, [])
        assert len(got) == 1, f"{len(got)} replies from the pair"
        return lab.decode(got[0])

    def wait_served(self, uri: str, server: str, since: float, timeout: float = 10.0) -> float:
        """Probes until the pair answers with `uri` from `server`; the delay from `since`."""
        deadline = time.monotonic() + timeout
        while True:
            reply = self.offer(grace=0.0)
            if reply.value(lab.DEFAULT_CODES[4][0]) == uri.encode():
                assert reply.value(SERVER_IDENTIFIER) == bytes(map(int, server.split("."))), reply.options
                return time.monotonic() - since
            assert time.monotonic() < deadline, f"{uri} not served after {timeout}s"


@pytest.fixture
def pair(hook, tmp_path):
    cli()
    with contextlib.ExitStack() as stack:
        yield Pair(stack, hook, tmp_path)


def large_certificate() -> bytes:
    return b"\x04" + load_cert(DATA / "large.pem").der


def test_ha_pair_serves_the_store_from_whichever_server_answers(pair):
    """Primary up: it alone answers, with the store's URI and certificate;
    an import reaches it within a second, and the standby follows the same
    revision without answering. Primary gone: the standby takes over
    (partner-down) and serves the last import byte for byte; the next
    import reaches it within a second."""
    uri_code, cert_code = lab.DEFAULT_CODES[4]
    pair.wait_state(pair.primary, "hot-standby")
    pair.wait_state(pair.standby, "hot-standby")
    reply = pair.offer()
    assert reply.value(SERVER_IDENTIFIER) == bytes(map(int, lab.SERVER4.split(".")))
    assert reply.value(uri_code) == b"coaps://first.example:5684"
    assert reply.value(cert_code) == large_certificate()

    delays = []
    for n in range(5):
        uri = f"coaps://pair-{n}.example:5684"
        delays.append(pair.wait_served(uri, lab.SERVER4, pair.import_store(uri)))
    revisions = [kea.command("lwm2m-status")["arguments"]["database"]["revision"]
                 for kea in (pair.primary, pair.standby)]
    assert revisions[0] == revisions[1], revisions

    pair.primary.close()
    pair.wait_state(pair.standby, "partner-down")
    reply = pair.offer()
    assert reply.value(SERVER_IDENTIFIER) == bytes(map(int, lab.PEER4.split(".")))
    assert reply.value(uri_code) == b"coaps://pair-4.example:5684"
    assert reply.value(cert_code) == large_certificate()
    uri = "coaps://after-failover.example:5684"
    delays.append(pair.wait_served(uri, lab.PEER4, pair.import_store(uri)))
    print(f"\nHA pair (Kea {pair.install.version}): import to reply "
          + ", ".join(f"{d * 1000:.0f}" for d in delays) + " ms")
    assert max(delays) < PROPAGATION_GOAL, delays
    assert pair.standby.alive(), pair.standby.output_tail()


@needs_dhclient
def test_dhclient_gets_uri_and_certificate_from_the_pair(pair, client_factory):  # noqa: F811
    """A whole DORA through the pair: the primary's ACK waits for the
    standby to take the lease (HA's lease updates), and carries the options."""
    pair.wait_state(pair.primary, "hot-standby")
    env = dhclient_bound(client_factory, pair.net)
    assert env["new_lwm2m_bootstrap_uri"].encode() == b"coaps://first.example:5684"
    assert decimals(env["new_lwm2m_server_certificate"]) == large_certificate()
    assert env["new_dhcp_server_identifier"] == lab.SERVER4
    # The standby got the lease from the primary (lease4-get on its side).
    address = env["new_ip_address"]
    answer = pair.standby.command("lease4-get", {"ip-address": address})
    assert answer["result"] == 0, answer
