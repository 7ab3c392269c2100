"""docs/cli.md cannot rot: every `$ kea-lwm2m ...` line of its console
blocks is run from the top of the source tree and its output compared with
the lines shown (`...` matches any number of lines)."""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest

from conftest import CLI, REPO

DOC = REPO / "docs" / "cli.md"


def examples() -> list[tuple[str, list[str]]]:
    found = []
    for block in re.findall(r"```console\n(.*?)```", DOC.read_text(), re.S):
        lines = block.rstrip("\n").split("\n")
        assert lines[0].startswith("$ kea-lwm2m "), lines[0]
        found.append((lines[0][2:], lines[1:]))
    return found


def matches(expected: list[str], actual: list[str]) -> bool:
    """`expected` with '...' as a wildcard for zero or more lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and actual[0] == expected[0] and matches(expected[1:], actual[1:])


def test_doc_has_examples_of_every_subcommand():
    commands = {command.split()[1] for command, _ in examples()}
    assert commands == {"check", "encode", "decode", "explain"}


@pytest.mark.parametrize("command,expected", examples(), ids=[c for c, _ in examples()])
def test_example(cli, command, expected):
    argv = shlex.split(command)
    result = subprocess.run([str(CLI), *argv[1:]], cwd=REPO, capture_output=True, text=True, timeout=60)
    actual = result.stdout.rstrip("\n").split("\n")
    assert result.stderr == ""
    assert matches(expected, actual), "\n".join(["expected:", *expected, "actual:", *actual])
