"""Reading callgrind output: totals and per-function costs, Swift names demangled."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

_ROW = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)(?: \[(.*)\])?$")


def total(outfile: Path) -> int:
    """Total instructions (Ir) recorded in a callgrind output file."""
    for line in Path(outfile).read_text(errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise ValueError(f"no totals in {outfile}")


def demangle(lines: list[str]) -> list[str]:
    swift = shutil.which("swift") or "/opt/swift/usr/bin/swift"
    try:
        res = subprocess.run([swift, "demangle", "--simplified"], input="\n".join(lines),
                             capture_output=True, text=True, timeout=120)
        if res.returncode == 0:
            lines = res.stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        pass
    cxx = shutil.which("c++filt")
    if cxx:
        res = subprocess.run([cxx], input="\n".join(lines), capture_output=True, text=True)
        if res.returncode == 0:
            lines = res.stdout.splitlines()
    return lines


def functions(outfile: Path, inclusive: bool = True, readable: bool = True) -> list[tuple[int, str, str]]:
    """(Ir, function, object file) for every function, most expensive first.

    Recursive cycles (callgrind's 'name'2 entries) are left out. With
    `readable`, names are demangled (Swift, C++); distinct functions may then
    share a name, so compare runs on raw names (`readable=False`).
    """
    res = subprocess.run(["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}",
                          "--threshold=100", str(outfile)], capture_output=True, text=True, check=True)
    rows = []
    for line in res.stdout.splitlines():
        m = _ROW.match(line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        name = m.group(2)
        if name.startswith("???:"):
            name = name[4:]
        elif ":" in name and name.startswith(("./", "/")):
            name = name.split(":", 1)[1]
        if re.search(r"'\d+$", name):
            continue
        rows.append((int(m.group(1).replace(",", "")), name, Path(m.group(3) or "?").name))
    return readable_names(rows) if readable else rows


def readable_names(rows: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    names = demangle([name for _, name, _ in rows])
    if len(names) != len(rows):
        return rows
    return [(ir, name, obj) for (ir, _, obj), name in zip(rows, names)]


def pick(rows, patterns: list[str], limit: int = 40) -> list[tuple[int, str, str]]:
    """Rows whose function or object matches one of the regexes, first `limit`."""
    rx = [re.compile(p) for p in patterns]
    out, seen = [], set()
    for ir, name, obj in rows:
        if (name, obj) in seen:
            continue
        if any(r.search(name) or r.search(obj) for r in rx):
            out.append((ir, name, obj))
            seen.add((name, obj))
        if len(out) >= limit:
            break
    return out
