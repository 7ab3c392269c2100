#!/usr/bin/env python3
"""Prints, from a Kea git checkout, the per-version facts `kea-lwm2m check`
carries as tables: Kea's standard option codes of the dhcp4/dhcp6 spaces
(Sources/KeaLwM2M/KeaStandardOptions.swift) and the keys of the
configuration maps that differ between the supported Kea versions
(Sources/KeaLwM2M/KeaConfigKeys.swift).

    scripts/kea-version-facts.py [KEA_GIT_DIR]

KEA_GIT_DIR is a (bare) clone of Kea with the tags Kea-2.2.0, Kea-2.6.3 and
Kea-3.0.4. Options come from src/lib/dhcp/std_option_defs.h with the codes
of dhcp4.h/dhcp6.h; keys from the bison grammar of kea-dhcp4/kea-dhcp6
(which rule of a map's parameter list each key's token starts) and the
lexer (which strings yield that token in the map's context). Review a table
change against this output.
"""

from __future__ import annotations

import re
import subprocess
import sys

TAGS = ["Kea-2.2.0", "Kea-2.6.3", "Kea-3.0.4"]
# Map of the configuration -> (grammar rule of its parameters, lexer context).
MAPS = {
    4: {"Dhcp4": ("global_param", "DHCP4"), "subnet4": ("subnet4_param", "SUBNET4")},
    6: {"Dhcp6": ("global_param", "DHCP6"), "subnet6": ("subnet6_param", "SUBNET6"),
        "pd-pools": ("pd_pool_param", "PD_POOLS")},
}
COMMON = {
    "pools": ("pool_param", "POOLS"), "shared-networks": ("shared_network_param", "SHARED_NETWORK"),
    "client-classes": ("client_class_param", "CLIENT_CLASSES"), "hooks-libraries": ("hooks_param", "HOOKS_LIBRARIES"),
    "loggers": ("logger_param", "LOGGERS"), "output-options": ("output_params", "OUTPUT_OPTIONS"),
    "control-socket": ("control_socket_param", "CONTROL_SOCKET"), "reservations": ("reservation_param", "RESERVATIONS"),
    "option-data": ("option_data_param", "OPTION_DATA"), "lease-database": ("database_map_param", "LEASE_DATABASE"),
    "dhcp-ddns": ("dhcp_ddns_param", "DHCP_DDNS"), "compatibility": ("compatibility_param", "COMPATIBILITY"),
}


def show(repo: str, tag: str, path: str) -> str:
    return subprocess.run(["git", "-C", repo, "show", f"{tag}:{path}"], capture_output=True, text=True,
                          check=True).stdout


def without_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", text, flags=re.S))


def option_table(repo: str, tag: str, array: str) -> dict[int, str]:
    codes: dict[str, int] = {}
    for header in ("src/lib/dhcp/dhcp4.h", "src/lib/dhcp/dhcp6.h"):
        for m in re.finditer(r"\b([A-Z][A-Z0-9_]+)\s*=\s*(\d+)", without_comments(show(repo, tag, header))):
            codes.setdefault(m.group(1), int(m.group(2)))
    text = without_comments(show(repo, tag, "src/lib/dhcp/std_option_defs.h"))
    body = re.search(array + r"\[\]\s*=\s*\{(.*?)\n\};", text, re.S).group(1)
    table = {}
    for name, code in re.findall(r'\{\s*"([^"]+)"\s*,\s*([A-Za-z0-9_]+)\s*,', body):
        table[int(code) if code.isdigit() else codes[code]] = name
    return table


def grammar_keys(repo: str, tag: str, family: int) -> dict[str, set[str]]:
    grammar = show(repo, tag, f"src/bin/dhcp{family}/dhcp{family}_parser.yy")
    lexer = show(repo, tag, f"src/bin/dhcp{family}/dhcp{family}_lexer.ll")
    strings: dict[tuple[str, str], set[str]] = {}
    for m in re.finditer(r'^\\"([^"\\]+)\\"\s*\{(.*?)^\}', lexer, re.S | re.M):
        contexts: list[str] = []
        for line in m.group(2).splitlines():
            case = re.search(r"case isc::dhcp::Parser\dContext::([A-Z0-9_]+):", line)
            if case:
                contexts.append(case.group(1))
                continue
            made = re.search(r"make_([A-Z0-9_]+)\(", line)
            if made:
                if made.group(1) != "STRING":
                    for context in contexts:
                        strings.setdefault((made.group(1), context), set()).add(m.group(1))
                contexts = []
    rules_text, depth, out = without_comments(grammar.split("%%")[1]), 0, []
    for ch in rules_text:   # drop the actions
        depth += ch == "{"
        if depth == 0 and ch != "}":
            out.append(ch)
        depth -= ch == "}"
    rules = {m.group(1): [alt.split() for alt in m.group(2).split("|")]
             for m in re.finditer(r"^([a-z0-9_]+)\s*:(.*?);\s*$", "".join(out), re.S | re.M)}

    def keys(rule: str, context: str, seen: set[str]) -> set[str]:
        found: set[str] = set()
        if rule in seen:
            return found
        seen.add(rule)
        for alternative in rules.get(rule, []):
            if not alternative or alternative[0] == "%empty":
                continue
            first = alternative[0]
            found |= strings.get((first, context), set()) if first.isupper() else keys(first, context, seen)
        return found

    return {name: keys(rule, context, set()) for name, (rule, context) in {**MAPS[family], **COMMON}.items()}


def main() -> None:
    repo = sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror/isc-projects+kea/repo"
    print("# Standard options (code: name); later versions: additions to the one before")
    for array in ("STANDARD_V4_OPTION_DEFINITIONS", "LAST_RESORT_V4_OPTION_DEFINITIONS",
                  "STANDARD_V6_OPTION_DEFINITIONS"):
        before: dict[int, str] = {}
        for tag in TAGS:
            table = option_table(repo, tag, array)
            changed = {code: name for code, name in sorted(table.items()) if before.get(code) != name}
            removed = sorted(set(before) - set(table))
            print(f"{array} {tag}: {changed}" + (f" removed {removed}" if removed else ""))
            before = table
    print("# Keys accepted by some versions only (map: key: versions)")
    for family in (4, 6):
        per_tag = {tag: grammar_keys(repo, tag, family) for tag in TAGS}
        for name in per_tag[TAGS[0]]:
            every = set().union(*(per_tag[tag][name] for tag in TAGS))
            for key in sorted(every):
                versions = [tag[4:7] for tag in TAGS if key in per_tag[tag][name]]
                if len(versions) < len(TAGS):
                    print(f"dhcp{family} {name}: {key}: {', '.join(versions)}")


if __name__ == "__main__":
    main()
