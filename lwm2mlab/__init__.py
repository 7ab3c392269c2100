"""The kea-lwm2m test lab: real Kea in network namespaces, real packets.

A tiny, throw-away network (two namespaces joined by a veth pair, see
`netns`), Kea of the version under test running in it (`kea`: `KeaInstall`
for the machine's Kea 2.2 or a 2.6 / 3.0 root, `KeaServer` for a running
kea-dhcp4/6), DHCP frames sent and decoded without the project's own code
(`dhcp`), and the reference model the replies are checked against (`model`).

Typical use::

    import lwm2mlab as lab
    with lab.Lab() as net, lab.KeaServer(net, 4, lab.base_config(4)) as kea:
        replies = net.exchange([frame])               # {xid: [reply frames]}
        print(lab.decode(replies[xid][0]).options)    # lab.Message

Kea has its configuration, lease file, log, pid/lock files and control
socket in a private temporary directory.  Everything is torn down (Kea killed
by PID, namespaces deleted) when the context managers exit, and as a last
resort at interpreter exit.

Environment: KEA_LWM2M_KEA (2.2, 2.6 or 3.0; default the machine's Kea),
KEA_LWM2M_HOOK (default: the hook ``make build`` makes for that Kea),
KEA_LWM2M_KEEP_TMP=1 (keep Kea's folders), KEA_LWM2M_KEA_PRELOAD (a library the
machine's Kea preloads: the sanitizer runtime of `make build-asan`'s hook).  Needs root, the standard library
and scapy.
"""

from pathlib import Path

from scapy.layers.l2 import Ether

from .dhcp import (Message, decode, decode4, decode6, decode_reply, describe, dhcp4_message,
                   is_relayed, query_xid, read_pcap, reply_xid, tlv4, tlv6)
from .kea import (DEFAULT_BINDS, HOOK_NAME, KNOWN_VERSIONS, KeaError, KeaInstall,
                  KeaInstallError, KeaServer, Resources, base_config, built_hook, elf_needed,
                  hook_libraries, hook_path, host_version, kea_under_test, strip_comments)
from .model import (DEFAULT_CODES, V4_MAX_SIZE, V4_MIN_SIZE, V6_MAX_REPLY, Entry,
                    lwm2m_problems, requested_codes, selected_subnet, size_limit, v4_encoded_len,
                    write_store)
from .postgres import PostgresCluster, PostgresError
from .netns import (BRIDGE_IF, CLIENT4, CLIENT6, CLIENT6_LL, CLIENT_IF, CLIENT_MAC, DHCP4_PORTS,
                    DHCP6_PORTS, PEER4, RELAY4, REPO, SERVER4, SERVER6, SERVER6_LL, SERVER_DUID,
                    SERVER_DUID_LLADDR, SERVER_DUID_TIME, SERVER_IF, SERVER_MAC, SUBNETS, Lab, PeerServer,
                    in_netns, remove_stale_namespaces, sh, stop_process, subnet_marker)

__all__ = [name for name in dir() if not name.startswith("_")]
