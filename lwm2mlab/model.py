"""The reference model: what the hook's store holds and what a reply must
carry, written from the contract (draft-ietf-dhc-dhcpv6-lwm2m-bootstrap-options,
RFC 3396), independent of the hook's code.

`lwm2m_problems` checks one reply against it; `write_store` writes a store
file; `selected_subnet` tells which lab subnet a reply came from.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Iterable

from .dhcp import Message
from .netns import subnet_marker

V4_MIN_SIZE, V4_MAX_SIZE = 576, 1500
V6_MAX_REPLY = 1452     # dhcpv6-max-reply-size by default: octets of UDP payload
DEFAULT_CODES = {4: (224, 225), 6: (200, 201)}   # (bootstrap-uri, server-certificate)


def write_store(path: Path, entries: list[dict], files: dict | None = None) -> Path:
    """Write a store file {"entries": entries} at `path`.

    `files` maps paths relative to the store's folder (as used in the entries'
    "server-certificate") to source files, which are copied there.
    """
    path = Path(path)
    for rel, src in (files or {}).items():
        dst = path.parent / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"entries": entries}, indent=2))
    return path


@dataclasses.dataclass(frozen=True)
class Entry:
    """What the store holds for one subnet, as bytes on the wire. `cert_der`
    is a certificate's DER (encoding 4) or, with `encoding` 15, a raw public
    key's SubjectPublicKeyInfo (server-public-key)."""
    uri: bytes
    cert_der: bytes | None = None
    encoding: int = 4

    @property
    def cert_value(self) -> bytes | None:
        """Certificate option value: the encoding octet (0x04, or 0x0F for a
        raw public key) then the DER."""
        return None if self.cert_der is None else bytes([self.encoding]) + self.cert_der


def requested_codes(query: Message) -> set[int]:
    """Codes in the client's PRL (v4 option 55, every instance: RFC 3396) or
    ORO (v6 option 6, two octets per code; a trailing odd octet is ignored)."""
    if query.family == 4:
        return set(query.value(55) or b"")
    oro = query.value(6) or b""
    return {int.from_bytes(oro[i:i + 2], "big") for i in range(0, len(oro) - 1, 2)}


def size_limit(query: Message, default: int = V4_MIN_SIZE) -> int | None:
    """DHCPv4 reply size limit: option 57 clamped to 576..1500, else `default`.

    Option 57 is two octets (RFC 2132 section 9.10); its value is all its
    instances concatenated (RFC 3396), and a value of any other length is
    ignored, as if the option were absent.
    """
    if query.family != 4:
        return None
    mms = query.value(57)
    if mms is None or len(mms) != 2:
        return default
    return min(max(int.from_bytes(mms, "big"), V4_MIN_SIZE), V4_MAX_SIZE)


def v4_encoded_len(value_len: int) -> int:
    """Bytes an option value of this length takes in DHCPv4 (RFC 3396 split)."""
    parts = max(1, -(-value_len // 255))
    return value_len + 2 * parts


def lwm2m_problems(query: Message, reply: Message, entry: Entry | None,
                   codes: tuple[int, int] | None = None, default_max: int = V4_MIN_SIZE,
                   foreign: Iterable[bytes] = (), v6_max: int = V6_MAX_REPLY) -> list[str]:
    """Everything wrong with the LwM2M options of `reply` to `query`.

    `entry` is the store entry of the subnet Kea selected (None: no entry).
    Rules checked: an option only when its code was requested and the entry
    has a value; exact URI bytes; certificate value encoding octet + DER; DHCPv4 values
    over 255 bytes split into consecutive same-code options of 255 bytes
    except the last; DHCPv6 one option each, in the client message, never in
    the relay layer; DHCPv4 IP total length <= limit, and an option left
    out exactly when it would not fit (the certificate first); DHCPv6: a
    reply with LwM2M options, as sent (UDP payload, relay layers included),
    within `v6_max` (dhcpv6-max-reply-size), an option left out exactly when
    it would not fit; no byte string from `foreign` (other subnets' values)
    anywhere in the reply.  Returns [] when all hold.
    """
    codes = codes or DEFAULT_CODES[reply.family]
    wanted = requested_codes(query)
    limit = size_limit(query, default_max)
    expect = {codes[0]: entry.uri if entry else None,
              codes[1]: entry.cert_value if entry else None}
    problems = []
    positions = {c: [i for i, (oc, _) in enumerate(reply.options) if oc == c] for c in codes}
    for code, pos in positions.items():
        parts = [reply.options[i][1] for i in pos]
        if reply.family == 6 and len(parts) > 1:
            problems.append(f"option {code} appears {len(parts)} times")
        if reply.family == 4 and parts:
            if pos != list(range(pos[0], pos[0] + len(pos))):
                problems.append(f"option {code} parts are not consecutive (positions {pos})")
            if any(len(p) != 255 for p in parts[:-1]) or not parts[-1]:
                problems.append(f"option {code} split as {[len(p) for p in parts]}, "
                                "want 255-byte parts and a non-empty last one")
    if reply.family == 4 and 52 in reply.codes():
        problems.append("option overload (52) used: options hidden in sname/file")
    # Kea's own reply may exceed the limit (a long client-id or
    # relay-agent-info echoed back); one the hook added to must not.
    added = positions[codes[0]] + positions[codes[1]]
    if limit is not None and reply.ip_total_length > limit and added:
        problems.append(f"IP total length {reply.ip_total_length} > limit {limit}")
    relay_codes = {c for c, _ in reply.relay_options} & set(codes)
    if relay_codes:
        problems.append(f"LwM2M option(s) {sorted(relay_codes)} in the relay layer")

    uri_code, cert_code = codes
    got_uri, got_cert = reply.value(uri_code), reply.value(cert_code)
    want_uri = expect[uri_code] if uri_code in wanted else None
    want_cert = expect[cert_code] if cert_code in wanted else None
    if reply.family == 6 and len(reply.raw) > v6_max and (got_uri or got_cert):
        problems.append(f"DHCPv6 reply of {len(reply.raw)} octets > limit {v6_max} "
                        "with LwM2M options")
    # The URI is left out only when it does not fit either (a reply Kea made
    # large, e.g. by echoing a long client-id or relay-agent-info).
    if reply.family == 4:
        uri_left_out = (got_uri is None and want_uri is not None and limit is not None
                        and reply.ip_total_length + v4_encoded_len(len(want_uri)) > limit)
    else:
        uri_left_out = (got_uri is None and want_uri is not None
                        and len(reply.raw) + 4 + len(want_uri) > v6_max)
    if got_uri != want_uri and not uri_left_out:
        problems.append(f"bootstrap URI (code {uri_code}) is {got_uri!r}, want {want_uri!r}")
    if want_cert is None:
        if got_cert is not None:
            problems.append(f"certificate (code {cert_code}) present ({len(got_cert)} bytes), "
                            "want none")
    elif got_cert is not None:
        if got_cert != want_cert:
            problems.append(f"certificate (code {cert_code}) differs: got {len(got_cert)} bytes "
                            f"{got_cert[:16].hex()}..., want {len(want_cert)} bytes "
                            f"{want_cert[:16].hex()}...")
    elif limit is None:
        if len(reply.raw) + 4 + len(want_cert) <= v6_max:
            problems.append(f"certificate (code {cert_code}) missing")
    elif reply.ip_total_length + v4_encoded_len(len(want_cert)) <= limit:
        problems.append(f"certificate (code {cert_code}) left out although it fits: "
                        f"{reply.ip_total_length} + {v4_encoded_len(len(want_cert))} <= {limit}")
    for blob in foreign:
        if blob and blob in reply.raw:
            problems.append(f"another subnet's value appears in the reply: {blob[:24]!r}...")
    return problems


def selected_subnet(reply: "Message") -> str | None:
    """Which lab subnet ("A"/"B"/"C") a reply came from, by its marker option."""
    if reply.family == 4:
        value = reply.value(15)
        name = value.decode(errors="replace") if value else ""
    else:
        value = reply.value(24) or b""
        labels, i = [], 0          # RFC 1035 wire format, one name expected
        while i < len(value) and value[i]:
            labels.append(value[i + 1:i + 1 + value[i]].decode(errors="replace"))
            i += 1 + value[i]
        name = ".".join(labels)
    return next((k for k in "ABC" if name == subnet_marker(k)), None)
