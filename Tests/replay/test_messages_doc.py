"""Every message id the shim defines is documented in docs/messages.md (with
its own section and a summary row), and every id documented there exists."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_message_id_is_documented_and_vice_versa():
    source = (REPO / "CShim" / "messages.cc").read_text()
    doc = (REPO / "docs" / "messages.md").read_text()
    defined = set(re.findall(r'MessageID (LWM2M_\w+) = "\1"', source))
    texts = dict(re.findall(r'^\s*"(LWM2M_\w+)", "(.*)",$', source, re.M))
    sections = set(re.findall(r"^### (LWM2M_\w+)$", doc, re.M))
    rows = set(re.findall(r"^\| `(LWM2M_\w+)` \|", doc, re.M))
    assert defined, "no message ids found in messages.cc"
    assert defined == set(texts), f"ids without text or text without id: {defined ^ set(texts)}"
    assert defined == sections, f"undocumented: {defined - sections}, documented only: {sections - defined}"
    assert defined == rows, f"summary table differs: {defined ^ rows}"
    for mid, text in texts.items():
        body = doc.split(f"### {mid}\n", 1)[1].split("\n### ", 1)[0]
        assert text.replace('\\"', '"') in body, f"{mid}: documented text differs from messages.cc: {text!r}"
