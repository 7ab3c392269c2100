"""The store storm of the soak (scripts/soak/soak.py): the hook's store
rewritten many times a second, half of the writes good and half broken, and
Kea reconfigured and asked to reload the store while it serves.

Every good version has a URI of its own and a certificate picked from a set
of distinct certificates by version number, so a reply that carried the URI
of one version and the certificate of another would show: the URI names the
version, and the certificate must be that version's.  Broken versions carry
URIs no good version has; serving one of them is a failure too.

Broken kinds (each write of a broken version uses the next kind):
  truncated         a good-looking store cut short, written in place
  invalid-entry     an entry whose URI has a scheme the hook refuses
  private-key       the certificate file also holds a private key
  missing-cert      the certificate file does not exist
  insecure-mode     the store file is writable by group and others (0666)
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

BROKEN_KINDS = ("truncated", "invalid-entry", "private-key", "missing-cert", "insecure-mode")


@dataclasses.dataclass(frozen=True)
class Version:
    """One store text the storm wrote."""
    number: int
    kind: str          # "good" or one of BROKEN_KINDS
    uri: str
    certificate: int   # index into the storm's certificates


class StoreStorm:
    """Writes store versions for one subnet (`subnet`) into `folder`/store.json.

    `pems` are certificate files (distinct certificates); `ders` their DER.
    The writer keeps the file's mode 0644 and its folder's 0755 except for
    the insecure-mode versions.  `always_send` marks the entry always-send
    (perfdhcp's DHCPv6 SOLICIT carries an ORO of its own, 23 and 24, before
    the one perfdhcp is told to add; Kea and the hook read the first one).
    """

    def __init__(self, folder: Path, subnet: str, pems: list[Path], ders: list[bytes], seed: int = 1,
                 always_send: bool = False) -> None:
        self.folder, self.subnet, self.always_send = folder, subnet, always_send
        self.store = folder / "store.json"
        self.certs = folder / "certs"
        self.certs.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o755)
        self.cert_files = []
        for n, pem in enumerate(pems):
            target = self.certs / f"cert-{n}.pem"
            target.write_bytes(pem.read_bytes())
            os.chmod(target, 0o644)
            self.cert_files.append(target)
        self.ders = ders
        # A certificate followed by a private key: refused as a whole.
        key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        self.with_key = self.certs / "with-key.pem"
        self.with_key.write_bytes(pems[0].read_bytes() + key)
        os.chmod(self.with_key, 0o644)
        self.random = random.Random(seed)
        self.written: list[Version] = []
        self.good_uris: dict[bytes, int] = {}     # URI bytes -> certificate index
        self.broken_uris: set[bytes] = set()
        self.kinds_written = {kind: 0 for kind in ("good", *BROKEN_KINDS)}
        self._number = 0
        self._broken = 0
        self._lock = threading.Lock()

    # -- versions -------------------------------------------------------------

    @staticmethod
    def uri_of(number: int, kind: str) -> str:
        if kind == "good":
            return f"coaps://v{number}.soak.example:5684"
        if kind == "invalid-entry":
            return f"http://v{number}.invalid-entry.soak.example"
        return f"coaps://v{number}.{kind}.soak.example:5684"

    def _text(self, uri: str, certificate: str) -> str:
        entry = {"subnet": self.subnet, "bootstrap-uri": uri, "server-certificate": certificate}
        if self.always_send:
            entry["always-send"] = True
        return json.dumps({"entries": [entry]}, indent=1)

    def good_version(self, number: int) -> Version:
        return Version(number, "good", self.uri_of(number, "good"), number % len(self.cert_files))

    # -- writing ------------------------------------------------------------------

    def _by_rename(self, text: str, mode: int = 0o644) -> None:
        tmp = self.folder / "store.json.new"
        tmp.write_text(text)
        os.chmod(tmp, mode)
        os.replace(tmp, self.store)

    def _in_place(self, text: str) -> None:
        # The file may hold an insecure mode from the version before.
        if self.store.exists():
            os.chmod(self.store, 0o644)
        with open(self.store, "w") as f:
            f.write(text)

    def write_good(self, in_place: bool = False) -> Version:
        """The next good version: by rename, or rewritten in place."""
        with self._lock:
            self._number += 1
            version = self.good_version(self._number)
            self.good_uris[version.uri.encode()] = version.certificate
            text = self._text(version.uri, str(self.cert_files[version.certificate]))
            if in_place:
                self._in_place(text)
            else:
                self._by_rename(text)
            self._record(version)
            return version

    def write_broken(self, kind: str | None = None) -> Version:
        """The next broken version, of `kind` or of the next kind in turn."""
        with self._lock:
            self._number += 1
            if kind is None:
                kind = BROKEN_KINDS[self._broken % len(BROKEN_KINDS)]
                self._broken += 1
            certificate = self._number % len(self.cert_files)
            uri = self.uri_of(self._number, kind)
            self.broken_uris.add(uri.encode())
            cert_path = str(self.cert_files[certificate])
            if kind == "truncated":
                text = self._text(uri, cert_path)
                self._in_place(text[:self.random.randrange(1, len(text) - 3)])
            elif kind == "invalid-entry":
                self._by_rename(self._text(uri, cert_path))
            elif kind == "private-key":
                self._by_rename(self._text(uri, str(self.with_key)))
            elif kind == "missing-cert":
                self._by_rename(self._text(uri, str(self.certs / f"missing-{self._number}.pem")))
            elif kind == "insecure-mode":
                self._by_rename(self._text(uri, cert_path), mode=0o666)
            else:
                raise ValueError(f"unknown broken kind {kind!r}")
            version = Version(self._number, kind, uri, certificate)
            self._record(version)
            return version

    def _record(self, version: Version) -> None:
        self.written.append(version)
        self.kinds_written[version.kind] += 1

    def last_good(self) -> Version | None:
        with self._lock:
            return next((v for v in reversed(self.written) if v.kind == "good"), None)

    # -- the storm ---------------------------------------------------------------

    def run(self, stop: threading.Event, per_second: float) -> None:
        """Write good and broken versions in turn, `per_second` writes a
        second, until `stop` is set. Every fourth good version is written in
        place, the others by rename. `per_second` 0: no writes."""
        if per_second <= 0:
            return
        period = 1.0 / per_second
        next_at = time.monotonic()
        n = 0
        while not stop.is_set():
            if n % 2 == 0:
                self.write_good(in_place=(n // 2) % 4 == 3)
            else:
                self.write_broken()
            n += 1
            next_at += period
            delay = next_at - time.monotonic()
            if delay > 0:
                stop.wait(delay)
            else:
                next_at = time.monotonic()    # behind (busy machine): do not burst
