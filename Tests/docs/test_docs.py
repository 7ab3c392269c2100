"""Every command and JSON snippet of the documentation is exercised here.

A fenced block in README.md or docs/*.md whose language is json, console,
sh, shell or bash must be preceded by a marker comment naming how it is
tested, `<!-- doc-test: KIND [ARG...] -->`:

  store               a store file: `kea-lwm2m check` accepts it
  store-entry         one entry object of a store: accepted inside "entries"
  store-error         a store `kea-lwm2m check` must refuse (exit 1)
  dhcp4-config        a complete kea-dhcp4 (dhcp6-config: kea-dhcp6)
                      configuration: `kea-dhcpN -t` and `kea-lwm2m check
                      --kea-config` accept it (hook and store paths replaced
                      by the built hook and a test store)
  dhcp4-fragment      the same for keys of the Dhcp4 (dhcp6-fragment: Dhcp6) map
  hook-parameters     the library's `parameters` map (ARG: 4 or 6)
  command             a control command (ARG: 4 or 6), sent to a real Kea
                      running the hook; `result` must be 0 unless the next
                      block, marked `response`, shows another
  response            the answer of the command just before it: the real
                      answer has the same result and the same keys
  shell               `$ ` lines run in a folder holding kea-config/ (the
                      example store, certificates, Kea configurations); the
                      lines after a command are its expected output (`...`
                      matches any lines); ARG `exit=N` expects status N
  make                `make TARGET` lines: TARGET is a target of the Makefile
  covered-by FILE     FILE (a script or test that CI runs) runs the same
                      commands: each line's program and options appear in it
  cli                 a `$ kea-lwm2m` session of docs/cli.md, run from the
                      top of the source tree by Tests/cli/test_docs_cli.py
  service             systemctl / journalctl lines for the Debian services:
                      the Kea units they name are installed
  json                JSON that must only parse (an illustration of a format
                      whose producer is tested elsewhere; ARG names the test)

Tests needing the hook or the CLI fail when KEA_LWM2M_REQUIRE_HOOK=1 and
they are missing, and are skipped otherwise.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
import lwm2mlab as lab  # the test lab (repo root on sys.path: pytest.ini)

MARKED_LANGUAGES = {"json", "console", "sh", "shell", "bash"}
KINDS = {"store", "store-entry", "store-error", "dhcp4-config", "dhcp6-config",
         "dhcp4-fragment", "dhcp6-fragment", "hook-parameters", "command",
         "response", "shell", "make", "covered-by", "json", "cli", "service"}
MARKER = re.compile(r"<!--\s*doc-test:\s*(\S+)(.*?)-->")


@dataclasses.dataclass
class Block:
    path: Path
    line: int
    language: str
    text: str
    kind: str | None
    args: list[str]

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def parse_blocks(path: Path) -> list[Block]:
    blocks: list[Block] = []
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^(\s*)(```+)(\S*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        indent, ticks, language = fence.groups()
        start = i
        body = []
        i += 1
        while i < len(lines) and not re.match(rf"^\s*{ticks}\s*$", lines[i]):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        # The marker is the closest non-blank line above the fence.
        j = start - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        m = MARKER.search(lines[j]) if j >= 0 else None
        blocks.append(Block(path, start + 1, language.lower(), "\n".join(body) + "\n",
                            m.group(1) if m else None,
                            shlex.split(m.group(2)) if m else []))
    return blocks


ALL_BLOCKS = [b for p in doc_files() for b in parse_blocks(p)]


def blocks_of(*kinds: str) -> list[Block]:
    return [b for b in ALL_BLOCKS if b.kind in kinds]


def ids(blocks: list[Block]) -> list[str]:
    return [b.where for b in blocks]


# --------------------------------------------------------------------------
# Every snippet is marked
# --------------------------------------------------------------------------


def test_every_command_and_json_snippet_is_marked():
    unmarked = [b.where for b in ALL_BLOCKS
                if b.language in MARKED_LANGUAGES and b.kind is None]
    assert not unmarked, "snippets without <!-- doc-test: KIND --> marker: " + ", ".join(unmarked)


def test_markers_name_known_kinds():
    unknown = [f"{b.where} ({b.kind})" for b in ALL_BLOCKS if b.kind and b.kind not in KINDS]
    assert not unknown, "unknown doc-test kinds: " + ", ".join(unknown)


def test_every_response_follows_a_command():
    for path in doc_files():
        blocks = parse_blocks(path)
        for prev, block in zip([None, *blocks], blocks):
            if block.kind == "response":
                assert prev is not None and prev.kind == "command", f"{block.where}: response without command"


# --------------------------------------------------------------------------
# Tools: the built hook and CLI, a folder with the example files
# --------------------------------------------------------------------------


def _require(path: Path, what: str) -> Path:
    if path.is_file():
        return path
    msg = f"{what} not built: {path}"
    if os.environ.get("KEA_LWM2M_REQUIRE_HOOK") == "1":
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def hook() -> Path:
    return _require(lab.hook_path(), "hook")


@pytest.fixture(scope="session")
def cli() -> Path:
    default = ROOT / ".build" / "release" / "kea-lwm2m"
    return _require(Path(os.environ.get("KEA_LWM2M_CLI", default)), "kea-lwm2m")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of kea-config/ (store, certificates, Kea configurations)."""
    work = tmp_path / "work"
    shutil.copytree(ROOT / "kea-config", work)
    for p in [work, *work.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return work


def strict_json(block: Block):
    try:
        return json.loads(block.text)
    except ValueError as e:
        pytest.fail(f"{block.where}: not JSON: {e}")


def provide_certificates(store: dict, folder: Path) -> dict:
    """Point every certificate of `store` at a copy of the example certificate,
    and every raw public key at a copy of a test key (Tests/replay/data)."""
    examples = {"server-certificate": ROOT / "kea-config" / "certs" / "bs.pem",
                "server-public-key": ROOT / "Tests" / "replay" / "data" / "rpk-p256.pem"}
    items = list(store.get("entries", []))
    if isinstance(store.get("default"), dict):
        items.append(store["default"])
    for item in items:
        for key, example in examples.items():
            cert = item.get(key)
            if isinstance(cert, str):
                target = folder / cert.lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists():
                    shutil.copy(example, target)
                    target.chmod(0o644)
                item[key] = str(target)
    return store


def write_store(store: dict, folder: Path) -> Path:
    path = folder / "doc-store.json"
    path.write_text(json.dumps(provide_certificates(store, folder), indent=2))
    path.chmod(0o644)
    return path


def run(argv: list[str], cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


# --------------------------------------------------------------------------
# Stores
# --------------------------------------------------------------------------


@pytest.mark.parametrize("block", blocks_of("store", "store-entry"), ids=ids(blocks_of("store", "store-entry")))
def test_store_snippet_is_accepted(block: Block, cli: Path, workdir: Path):
    data = strict_json(block)
    store = {"entries": [data]} if block.kind == "store-entry" else data
    path = write_store(store, workdir)
    r = run([str(cli), "check", str(path)])
    assert r.returncode == 0, f"{block.where}: kea-lwm2m check refused it:\n{r.stdout}{r.stderr}"


@pytest.mark.parametrize("block", blocks_of("store-error"), ids=ids(blocks_of("store-error")))
def test_store_error_snippet_is_refused(block: Block, cli: Path, workdir: Path):
    path = write_store(strict_json(block), workdir)
    r = run([str(cli), "check", str(path)])
    assert r.returncode == 1, f"{block.where}: expected exit 1, got {r.returncode}:\n{r.stdout}{r.stderr}"


# --------------------------------------------------------------------------
# Kea configurations
# --------------------------------------------------------------------------


def kea_config_for(block: Block, hook: Path, workdir: Path) -> tuple[int, dict]:
    family = 4 if block.kind.startswith("dhcp4") else 6
    top = f"Dhcp{family}"
    if block.kind.endswith("fragment"):
        # Keys of the DhcpN map, or the `"DhcpN": {...}` member itself.
        if block.text.lstrip().startswith(f'"{top}"'):
            text = "{ %s }" % block.text
        else:
            text = "{ \"%s\": { %s } }" % (top, block.text)
    else:
        text = block.text
    config = json.loads(lab.strip_comments(text))
    body = config[top]
    store = workdir / "lwm2m-store.json"
    for lib in body.get("hooks-libraries", []):
        if str(lib.get("library", "")).endswith("libdhcp_lwm2m.so"):
            lib["library"] = str(hook)
            params = lib.setdefault("parameters", {})
            if "store-file" in params:
                params["store-file"] = str(store)
    # Runtime paths of the examples point into /var and /run: keep Kea in the test folder.
    for key in ("lease-database",):
        if isinstance(body.get(key), dict) and "name" in body[key]:
            body[key]["name"] = str(workdir / f"leases{family}.csv")
    if isinstance(body.get("control-socket"), dict):
        body["control-socket"]["socket-name"] = str(workdir / f"kea{family}.sock")
    for logger in body.get("loggers", []):
        for out in logger.get("output_options", []):
            if out.get("output", "").startswith("/"):
                out["output"] = str(workdir / f"kea{family}.log")
    return family, config


CONFIG_KINDS = ("dhcp4-config", "dhcp6-config", "dhcp4-fragment", "dhcp6-fragment")


@pytest.mark.parametrize("block", blocks_of(*CONFIG_KINDS), ids=ids(blocks_of(*CONFIG_KINDS)))
def test_kea_config_snippet_is_accepted(block: Block, hook: Path, cli: Path, workdir: Path):
    family, config = kea_config_for(block, hook, workdir)
    path = workdir / f"doc-kea{family}.json"
    path.write_text(json.dumps(config, indent=2))
    kea = lab.kea_under_test()   # the machine's Kea or KEA_LWM2M_KEA's root
    env = dict(os.environ, **kea.environment(workdir, hook.parent))
    r = kea.run(f"kea-dhcp{family}", "-t", str(path), env=env, binds=[workdir, hook.parent])
    assert r.returncode == 0, f"{block.where}: kea-dhcp{family} -t refused it:\n{r.stdout[-3000:]}{r.stderr[-2000:]}"
    libraries = config[f"Dhcp{family}"].get("hooks-libraries", [])
    if any(str(lib.get("library", "")) == str(hook) for lib in libraries):
        r = run([str(cli), "check", "--kea-config", str(path)])
        assert r.returncode == 0, f"{block.where}: kea-lwm2m check --kea-config refused it:\n{r.stdout}{r.stderr}"


@pytest.mark.parametrize("block", blocks_of("hook-parameters"), ids=ids(blocks_of("hook-parameters")))
def test_hook_parameters_snippet_is_accepted(block: Block, hook: Path, cli: Path, workdir: Path):
    family = int(block.args[0]) if block.args else 4
    params = strict_json(block)
    if "store-file" in params:
        params["store-file"] = str(workdir / "lwm2m-store.json")
    body = lab.base_config(family, hook, params)
    path = workdir / f"doc-kea{family}.json"
    path.write_text(json.dumps({f"Dhcp{family}": body}, indent=2))
    r = run([str(cli), "check", "--kea-config", str(path)])
    assert r.returncode == 0, f"{block.where}: kea-lwm2m check --kea-config refused it:\n{r.stdout}{r.stderr}"


# --------------------------------------------------------------------------
# Control commands, against a real Kea
# --------------------------------------------------------------------------


def command_pairs() -> list[tuple[Block, Block | None]]:
    pairs = []
    for path in doc_files():
        blocks = parse_blocks(path)
        for i, b in enumerate(blocks):
            if b.kind == "command":
                nxt = blocks[i + 1] if i + 1 < len(blocks) and blocks[i + 1].kind == "response" else None
                pairs.append((b, nxt))
    return pairs


@pytest.fixture(scope="module")
def servers(hook: Path, tmp_path_factory):
    """kea-dhcp4 and kea-dhcp6 with the hook serving the example store."""
    if os.geteuid() != 0:
        pytest.skip("needs root: creates network namespaces")
    folder = tmp_path_factory.mktemp("doc-kea")
    shutil.copytree(ROOT / "kea-config", folder, dirs_exist_ok=True)
    for p in [folder, *folder.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    store = folder / "lwm2m-store.json"
    with lab.Lab() as net:
        started = {}
        try:
            for family in (4, 6):
                started[family] = lab.KeaServer(net, family, lab.base_config(family, hook, {"store-file": str(store)}))
            yield started
        finally:
            for server in started.values():
                server.close()


def same_shape(documented, actual, where: str, path: str = "") -> None:
    if isinstance(documented, dict):
        assert isinstance(actual, dict), f"{where}: {path or 'answer'} is not an object: {actual!r}"
        missing = set(documented) - set(actual)
        assert not missing, f"{where}: {path or 'answer'} lacks {sorted(missing)}: {actual!r}"
        for key in documented:
            same_shape(documented[key], actual[key], where, f"{path}.{key}")
    elif isinstance(documented, list) and documented and actual:
        assert isinstance(actual, list), f"{where}: {path} is not a list"
        same_shape(documented[0], actual[0], where, f"{path}[0]")


@pytest.mark.parametrize("pair", command_pairs(), ids=[c.where for c, _ in command_pairs()])
def test_command_snippet_answers_as_documented(pair, servers):
    command, response = pair
    family = int(command.args[0]) if command.args else 4
    request = strict_json(command)
    answer = servers[family].command(request["command"], request.get("arguments"))
    if response is None:
        assert answer.get("result") == 0, f"{command.where}: {answer}"
        return
    documented = strict_json(response)
    assert answer.get("result") == documented.get("result"), f"{command.where}: {answer}"
    same_shape(documented, answer, command.where)


# --------------------------------------------------------------------------
# Shell sessions, make targets, commands covered by scripts
# --------------------------------------------------------------------------


def shell_steps(block: Block) -> list[tuple[str, list[str]]]:
    steps: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line.rstrip())
    return steps


def output_matches(expected: list[str], actual: list[str]) -> bool:
    if not expected:
        return True
    if expected[0] == "...":
        return any(output_matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and actual[0] == expected[0] and output_matches(expected[1:], actual[1:])


@pytest.mark.parametrize("block", blocks_of("shell"), ids=ids(blocks_of("shell")))
def test_shell_snippet_runs_as_documented(block: Block, cli: Path, workdir: Path):
    status = 0
    cwd = workdir
    for arg in block.args:
        if arg.startswith("exit="):
            status = int(arg[5:])
        elif arg == "cwd=repo":
            cwd = ROOT
    env = dict(os.environ, PATH=f"{cli.parent}:{os.environ.get('PATH', '')}")
    steps = shell_steps(block)
    assert steps, f"{block.where}: no `$ ` command in a shell block"
    for command, expected in steps:
        r = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                           text=True, timeout=120)
        got = [line.rstrip() for line in (r.stdout + r.stderr).splitlines()]
        assert r.returncode == status, f"{block.where}: `{command}` exited {r.returncode}:\n{r.stdout}{r.stderr}"
        while expected and not expected[-1]:
            expected.pop()
        assert output_matches(expected, got), (
            f"{block.where}: `{command}` printed\n" + "\n".join(got) + "\nexpected\n" + "\n".join(expected))


def command_lines(block: Block) -> list[str]:
    out = []
    for line in block.text.splitlines():
        line = line.strip()
        if line.startswith("$ "):
            line = line[2:]
        if line and not line.startswith("#"):
            out.append(re.sub(r"\s+#.*$", "", line))
    return out


@pytest.mark.parametrize("block", blocks_of("make"), ids=ids(blocks_of("make")))
def test_make_snippet_names_real_targets(block: Block):
    for line in command_lines(block):
        words = shlex.split(line)
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
            words.pop(0)  # environment settings before make
        assert words and words[0] == "make", f"{block.where}: not a make command: {line}"
        targets = [w for w in words[1:] if "=" not in w and not w.startswith("-")]
        for target in targets:
            r = run(["make", "-n", "-C", str(ROOT), target])
            assert r.returncode == 0, f"{block.where}: `make {target}` is not a target:\n{r.stderr}"


@pytest.mark.parametrize("block", blocks_of("covered-by"), ids=ids(blocks_of("covered-by")))
def test_covered_commands_are_in_the_script(block: Block):
    assert block.args, f"{block.where}: covered-by needs a file"
    script = ROOT / block.args[0]
    assert script.is_file(), f"{block.where}: {script} does not exist"
    text = script.read_text().replace("$(SWIFT)", "swift").replace("$(PYTHON)", "python3")
    for line in command_lines(block):
        for part in line.split("|"):
            words = shlex.split(part)
            wanted = [words[0]] + [w for w in words[1:] if w.startswith("-")]
            missing = [w for w in wanted if w not in text]
            assert not missing, f"{block.where}: {missing} of `{part.strip()}` not in {block.args[0]}"


@pytest.mark.parametrize("block", blocks_of("cli"), ids=ids(blocks_of("cli")))
def test_cli_sessions_are_run_by_the_cli_doc_test(block: Block):
    assert block.path == ROOT / "docs" / "cli.md", f"{block.where}: cli sessions belong in docs/cli.md"
    assert block.language == "console" and block.text.startswith("$ kea-lwm2m "), block.where
    runner = (ROOT / "Tests" / "cli" / "test_docs_cli.py").read_text()
    assert '"docs" / "cli.md"' in runner and "```console" in runner


@pytest.mark.parametrize("block", blocks_of("service"), ids=ids(blocks_of("service")))
def test_service_commands_name_installed_units(block: Block):
    for line in command_lines(block):
        words = shlex.split(line.split("|")[0])
        assert words[0] in ("systemctl", "journalctl"), f"{block.where}: {line}"
        assert shutil.which(words[0]), f"{block.where}: {words[0]} is not installed"
        units = [w for w in words if w.startswith("kea-")]
        assert units, f"{block.where}: no Kea unit in `{line}`"
        for unit in units:
            name = unit if unit.endswith(".service") else unit + ".service"
            assert any((Path(d) / name).is_file() for d in ("/lib/systemd/system", "/usr/lib/systemd/system")), (
                f"{block.where}: {name} is not an installed unit")


@pytest.mark.parametrize("block", blocks_of("json"), ids=ids(blocks_of("json")))
def test_illustrative_json_parses(block: Block):
    assert block.args, f"{block.where}: a json marker names the test that produces this format"
    strict_json(block)
