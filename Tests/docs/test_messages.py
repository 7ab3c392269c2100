"""The hook's log messages have one source, CShim/lwm2m_messages.mes:
docs/messages.md is what scripts/gen-messages.py makes of it, every message
it defines is logged by the shim with the severity it documents, and the
generator refuses message files it cannot turn into correct tables.

Needs neither Kea nor root: the C++ tables themselves are generated and
compiled by every build of the hook (scripts/build-hook.sh)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "gen-messages.py"
MES = REPO / "CShim" / "lwm2m_messages.mes"

_spec = importlib.util.spec_from_file_location("gen_messages", SCRIPT)
gen = importlib.util.module_from_spec(_spec)
sys.modules["gen_messages"] = gen   # dataclasses look their module up by name
_spec.loader.exec_module(gen)

# The shim's debug levels (CShim/log.cc) by name: DBG_PACKET is Kea's
# packet-handling level, isc::log::DBGLVL_PKT_HANDLING.
DEBUG_LEVELS = {"DBG_PACKET": 15}

LOG_CALL = re.compile(r"LOG_(INFO|WARN|ERROR|FATAL|DEBUG)\(\s*logger\s*,\s*(?:(\w+)\s*,\s*)?(\w+)\s*\)")


def messages() -> list:
    return gen.parse(MES.read_text(), "CShim/lwm2m_messages.mes").messages


def test_docs_are_generated_from_the_message_file():
    result = subprocess.run([sys.executable, str(SCRIPT), "docs", "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{result.stderr}\n{result.stdout}"


def test_docs_check_finds_a_stale_documentation(tmp_path: Path):
    stale = tmp_path / "messages.md"
    doc = (REPO / "docs" / "messages.md").read_text()
    stale.write_text(doc.replace("LwM2M hook library unloaded", "LwM2M hook unloaded", 1))
    result = subprocess.run([sys.executable, str(SCRIPT), "docs", "--check", "--doc", str(stale)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "+LwM2M hook library unloaded" in result.stdout, result.stdout


def test_every_message_is_logged_with_its_documented_severity():
    defined = {m.id: m for m in messages()}
    calls = []
    for source in sorted((REPO / "CShim").rglob("*.cc")):
        calls += [(source.name, *call) for call in LOG_CALL.findall(source.read_text())]
    logged = {mid for _, _, _, mid in calls}
    assert calls, "no LOG_ calls found in CShim"
    assert logged <= set(defined), f"logged but not in the message file: {logged - set(defined)}"
    assert set(defined) <= logged, f"in the message file but never logged: {set(defined) - logged}"
    for file_name, severity, level, mid in calls:
        message = defined[mid]
        assert severity == message.severity, f"{file_name}: {mid} logged at {severity}, documented {message.severity}"
        if severity == "DEBUG":
            assert DEBUG_LEVELS.get(level) == message.debug_level, \
                f"{file_name}: {mid} logged at debug level {level}, documented {message.debug_level}"


def test_generated_tables_hold_every_id_and_text_once():
    parsed = gen.parse(MES.read_text(), "CShim/lwm2m_messages.mes")
    files = gen.render_cxx(parsed, "CShim/lwm2m_messages.mes")
    declared = re.findall(r"^extern const isc::log::MessageID (\w+);$", files["messages.h"], re.M)
    defined = re.findall(r'^const isc::log::MessageID (\w+) = "(\w+)";$', files["messages.cc"], re.M)
    pairs = re.findall(r'^    "(\w+)", "((?:[^"\\]|\\.)*)",$', files["messages.cc"], re.M)
    ids = [m.id for m in parsed.messages]
    assert len(ids) >= 18
    assert declared == ids and [a for a, _ in defined] == ids and all(a == b for a, b in defined)
    assert [(mid, text.replace('\\"', '"').replace("\\\\", "\\")) for mid, text in pairs] \
        == [(m.id, m.text) for m in parsed.messages]
    assert files["messages.cc"].count("MessageInitializer initializer(values)") == 1


def test_a_text_with_quotes_and_backslashes_stays_one_c_string():
    source = "$NAMESPACE a::b\n% X_Y say \"%1\" \\ done\nSeverity: INFO.\nSummary: s\n\nx\n"
    cc = gen.render_cxx(gen.parse(source), "t.mes")["messages.cc"]
    assert '"X_Y", "say \\"%1\\" \\\\ done",' in cc
    assert "namespace a { namespace b {" in cc and "}} // namespace a::b" in cc


GOOD = "% A_B text %1 and %2\nSeverity: DEBUG, level 15. Only here.\nSummary: what\n\nWhy.\n"


@pytest.mark.parametrize("source, complaint", [
    (GOOD + GOOD, "already defined at line 1"),
    (GOOD.replace("%2", "%3"), "without gaps"),
    (GOOD.replace("Severity: DEBUG, level 15. Only here.", "Severity: LOUD."), "first explanation line"),
    (GOOD.replace("Summary: what\n", ""), "second explanation line"),
    (GOOD.replace("Summary: what", "Summary: a | b"), "no '|'"),
    (GOOD.replace("\n\nWhy.\n", "\n"), "no explanation"),
    (GOOD.replace("A_B", "a-b"), "not a message ID"),
    ("$PREFIX X\n" + GOOD, "unknown directive"),
    ("stray\n" + GOOD, "text before the first message"),
    (GOOD + "  % C_D indented, still a message as Kea reads it\n", "the explanation must start"),
    ("# only a comment\n", "no messages"),
])
def test_the_generator_refuses_a_broken_message_file(source: str, complaint: str):
    with pytest.raises(gen.MessageFileError, match=re.escape(complaint)):
        gen.parse(source)


def test_a_good_message_parses_as_written():
    (message,) = gen.parse(GOOD).messages
    assert (message.id, message.text, message.severity, message.debug_level, message.summary, message.explanation) \
        == ("A_B", "text %1 and %2", "DEBUG", 15, "what", "Why.")
    assert message.severity_label == "DEBUG (15)"
