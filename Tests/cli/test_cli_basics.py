"""The command as a whole: version, help, completion scripts."""

from __future__ import annotations

import subprocess

import pytest

from conftest import VERSION, run


def test_version_is_the_version_file(cli):
    assert run("--version", check=0).stdout.strip() == VERSION


@pytest.mark.parametrize("sub", ["check", "encode", "decode", "explain"])
def test_help(cli, sub):
    out = run(sub, "--help", check=0).stdout
    assert f"USAGE: kea-lwm2m {sub}" in out


def test_bash_completion_script_is_valid_bash(cli, tmp_path):
    script = run("--generate-completion-script", "bash", check=0).stdout
    assert "kea-lwm2m" in script and "explain" in script
    path = tmp_path / "completion.bash"
    path.write_text(script)
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_static_swift_runtime(cli):
    """Installed on servers without a toolchain: no Swift library is needed."""
    out = subprocess.run(["ldd", str(cli)], capture_output=True, text=True).stdout
    assert "swift" not in out.lower()
