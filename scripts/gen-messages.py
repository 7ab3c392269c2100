#!/usr/bin/env python3
"""Generates the hook's message tables and their documentation from the one
message file, CShim/lwm2m_messages.mes (Kea's message file syntax; the file's
header describes it).

    scripts/gen-messages.py cxx DIR        writes DIR/messages.h and DIR/messages.cc
    scripts/gen-messages.py docs           rewrites the generated parts of docs/messages.md
    scripts/gen-messages.py docs --check   exits 1 when docs/messages.md is stale

messages.h declares every message ID as an isc::log::MessageID; messages.cc
defines them and registers each ID with its text through Kea's
isc::log::MessageInitializer when the hook is loaded.

The C++ files are generated at build time into the build's work folder
(scripts/build-hook.sh: .build/.../hook-KEA/gen/) and are not committed: they
say nothing the message file does not, and a build can never compile tables
older than the message file. docs/messages.md is committed, because it is
read in the repository and in the package without building anything: the
summary table and the message sections between its `messages:*` markers are
generated, the text around them is written by hand, and
Tests/docs/test_messages.py fails while the generated parts are stale.

Only the Python standard library is used: the hook's build needs nothing more.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MES = REPO / "CShim" / "lwm2m_messages.mes"
DOC = REPO / "docs" / "messages.md"

ID_PATTERN = re.compile(r"[A-Z][A-Z0-9_]*")
NAMESPACE_PATTERN = re.compile(r"[A-Za-z_]\w*(::[A-Za-z_]\w*)*")
SEVERITY_PATTERN = re.compile(r"Severity: (INFO|WARN|ERROR|FATAL|DEBUG, level (\d+))\.(?: (.+))?")
SUMMARY_PATTERN = re.compile(r"Summary: (.+)")
PLACEHOLDER_PATTERN = re.compile(r"%(\d+)")

# The generated parts of docs/messages.md, each between two marker lines.
MARKERS = {
    "summary": ("<!-- messages:summary:begin -->", "<!-- messages:summary:end -->"),
    "sections": ("<!-- messages:sections:begin -->", "<!-- messages:sections:end -->"),
}


class MessageFileError(Exception):
    """A message file that cannot be used; the text names file and line."""


@dataclass(frozen=True)
class Message:
    """One `% ID text` entry of a message file and its explanation."""

    id: str
    text: str
    severity: str          # INFO, WARN, ERROR, FATAL or DEBUG
    debug_level: int | None  # for DEBUG only
    severity_line: str     # the explanation's "Severity: ..." line as written
    summary: str
    explanation: str       # Markdown, after the Severity/Summary paragraph
    line: int

    @property
    def severity_label(self) -> str:
        """How the summary table shows the severity: INFO, DEBUG (15), ..."""
        return f"DEBUG ({self.debug_level})" if self.severity == "DEBUG" else self.severity


@dataclass(frozen=True)
class MessageFile:
    namespace: str | None
    messages: list[Message]


def parse(source: str, name: str = "message file") -> MessageFile:
    """Reads a message file; raises MessageFileError at the first problem."""
    namespace: str | None = None
    entries: list[tuple[int, str, list[str]]] = []   # line, "% " line, explanation lines
    for number, raw in enumerate(source.splitlines(), start=1):
        line = raw.rstrip()
        where = f"{name}:{number}"
        # Like Kea's reader, classify a line by its first non-blank character.
        start = line.lstrip()[:1]
        if start == "#":
            continue
        if start == "$":
            keyword, _, value = line.strip().partition(" ")
            if keyword != "$NAMESPACE":
                raise MessageFileError(f"{where}: unknown directive {keyword} (only $NAMESPACE is supported)")
            if entries or namespace is not None:
                raise MessageFileError(f"{where}: $NAMESPACE must come once, before the first message")
            if not NAMESPACE_PATTERN.fullmatch(value.strip()):
                raise MessageFileError(f"{where}: not a C++ namespace: {value.strip()!r}")
            namespace = value.strip()
        elif start == "%":
            entries.append((number, line.strip(), []))
        elif entries:
            entries[-1][2].append(line)
        elif line:
            raise MessageFileError(f"{where}: text before the first message: {line!r}")

    messages: list[Message] = []
    seen: dict[str, int] = {}
    for number, header, body in entries:
        messages.append(_message(number, header, body, f"{name}:{number}"))
        mid = messages[-1].id
        if mid in seen:
            raise MessageFileError(f"{name}:{number}: {mid} is already defined at line {seen[mid]}")
        seen[mid] = number
    if not messages:
        raise MessageFileError(f"{name}: no messages")
    return MessageFile(namespace, messages)


def _message(number: int, header: str, body: list[str], where: str) -> Message:
    parts = header[1:].strip().split(None, 1)
    if len(parts) != 2:
        raise MessageFileError(f"{where}: expected '% ID text', got {header!r}")
    mid, text = parts
    if not ID_PATTERN.fullmatch(mid):
        raise MessageFileError(f"{where}: not a message ID: {mid!r}")
    if any(ord(c) < 0x20 or ord(c) > 0x7e for c in text):
        raise MessageFileError(f"{where}: {mid}: the text must be printable ASCII")
    used = sorted({int(n) for n in PLACEHOLDER_PATTERN.findall(text)})
    if used != list(range(1, len(used) + 1)):
        raise MessageFileError(f"{where}: {mid}: placeholders must be %1 to %N without gaps, found {used}")

    while body and not body[0]:
        body.pop(0)
    while body and not body[-1]:
        body.pop()
    if len(body) < 2:
        raise MessageFileError(f"{where}: {mid}: the explanation must start with a Severity: and a Summary: line")
    severity = SEVERITY_PATTERN.fullmatch(body[0])
    if not severity:
        raise MessageFileError(f"{where}: {mid}: first explanation line must be "
                               f"'Severity: INFO|WARN|ERROR|FATAL|DEBUG, level N.', got {body[0]!r}")
    summary = SUMMARY_PATTERN.fullmatch(body[1])
    if not summary:
        raise MessageFileError(f"{where}: {mid}: second explanation line must be 'Summary: ...', got {body[1]!r}")
    if "|" in summary.group(1):
        raise MessageFileError(f"{where}: {mid}: the summary goes into a Markdown table: no '|'")
    rest = body[2:]
    if rest and rest[0]:
        raise MessageFileError(f"{where}: {mid}: a blank line must follow the Summary: line")
    explanation = "\n".join(rest).strip("\n")
    if not explanation:
        raise MessageFileError(f"{where}: {mid}: no explanation after the Summary: line")
    level = severity.group(2)
    return Message(id=mid, text=text, severity=severity.group(1).split(",")[0],
                   debug_level=int(level) if level is not None else None, severity_line=body[0],
                   summary=summary.group(1), explanation=explanation, line=number)


# --- C++ --------------------------------------------------------------------

def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_cxx(mes: MessageFile, source_name: str) -> dict[str, str]:
    """messages.h and messages.cc for `mes`, by file name."""
    banner = f"// Generated by scripts/gen-messages.py from {source_name}: edit that file, not this one.\n"
    opening = f"namespace {mes.namespace.replace('::', ' { namespace ')} {{\n" if mes.namespace else ""
    closing = "}" * (mes.namespace.count("::") + 1) + f" // namespace {mes.namespace}\n" if mes.namespace else ""

    header = [banner, "#ifndef LWM2M_MESSAGES_H\n#define LWM2M_MESSAGES_H\n\n",
              "#include <log/message_types.h>\n\n", opening, "\n" if opening else ""]
    header += [f"extern const isc::log::MessageID {m.id};\n" for m in mes.messages]
    header += ["\n" if closing else "", closing, "\n#endif\n"]

    # kea_compat.h first, as in every .cc of the shim (Kea wants <config.h>
    # before its own headers).
    source = [banner, '#include "kea_compat.h"\n\n#include "messages.h"\n\n',
              "#include <log/message_initializer.h>\n\n", opening, "\n" if opening else ""]
    source += [f"const isc::log::MessageID {m.id} = {_c_string(m.id)};\n" for m in mes.messages]
    source += ["\n" if closing else "", closing, "\nnamespace {\n\n",
               "// ID, text, ID, text, ..., NULL: registered with Kea's logging when Kea opens the hook.\n",
               "const char* values[] = {\n"]
    source += [f"    {_c_string(m.id)}, {_c_string(m.text)},\n" for m in mes.messages]
    source += ["    NULL\n};\n\n", "const isc::log::MessageInitializer initializer(values);\n\n",
               "} // namespace\n"]
    return {"messages.h": "".join(header), "messages.cc": "".join(source)}


def write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


# --- Documentation ------------------------------------------------------------

def render_docs(mes: MessageFile) -> dict[str, str]:
    """The generated parts of docs/messages.md, by marker name."""
    rows = ["| Message | Severity | When |", "|---|---|---|"]
    rows += [f"| `{m.id}` | {m.severity_label} | {m.summary} |" for m in mes.messages]
    sections = [f"### {m.id}\n\n{m.severity_line}\n\n```\n{m.text}\n```\n\n{m.explanation}\n"
                for m in mes.messages]
    return {"summary": "\n".join(rows) + "\n", "sections": "\n".join(sections)}


def splice(doc: str, parts: dict[str, str], name: str = "docs/messages.md") -> str:
    """`doc` with the text between each pair of markers replaced by `parts`."""
    for key, (begin, end) in MARKERS.items():
        if doc.count(begin) != 1 or doc.count(end) != 1 or doc.index(begin) > doc.index(end):
            raise MessageFileError(f"{name}: needs the marker lines {begin} and {end}, once each, in this order")
        head, rest = doc.split(begin + "\n", 1)
        _, tail = rest.split(end, 1)
        doc = f"{head}{begin}\n{parts[key]}{end}{tail}"
    return doc


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mes", type=Path, default=MES, help="the message file (default: %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)
    cxx = commands.add_parser("cxx", help="write messages.h and messages.cc into DIR")
    cxx.add_argument("dir", type=Path)
    docs = commands.add_parser("docs", help="rewrite the generated parts of the message documentation")
    docs.add_argument("--doc", type=Path, default=DOC, help="default: %(default)s")
    docs.add_argument("--check", action="store_true", help="change nothing; exit 1 if the documentation is stale")
    args = parser.parse_args(argv)

    try:
        name = _shown(args.mes)
        mes = parse(args.mes.read_text(), name)
        if args.command == "cxx":
            args.dir.mkdir(parents=True, exist_ok=True)
            for file_name, text in render_cxx(mes, name).items():
                write_if_changed(args.dir / file_name, text)
            return 0
        old = args.doc.read_text()
        new = splice(old, render_docs(mes), _shown(args.doc))
        if args.check:
            if old != new:
                sys.stdout.writelines(difflib.unified_diff(
                    old.splitlines(True), new.splitlines(True), f"{_shown(args.doc)} (committed)",
                    f"{_shown(args.doc)} (from {name})"))
                print(f"{_shown(args.doc)} is stale: run scripts/gen-messages.py docs", file=sys.stderr)
                return 1
            return 0
        write_if_changed(args.doc, new)
        return 0
    except (MessageFileError, OSError) as error:
        print(f"gen-messages.py: {error}", file=sys.stderr)
        return 1


def _shown(path: Path) -> str:
    """`path` relative to the repository when it lies inside it."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
