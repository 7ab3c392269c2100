#!/usr/bin/env bash
# Removes exactly what scripts/install-tree.sh installed, as listed in its
# manifest, then the kea-lwm2m folders it leaves empty. Variables: DESTDIR,
# MANIFEST, DOCDIR (from the Makefile).
set -euo pipefail
manifest="$DESTDIR$MANIFEST"
if [ ! -f "$manifest" ]; then
    echo "nothing to uninstall: no manifest at $manifest" >&2
    exit 0
fi
mapfile -t files < "$manifest"
for file in "${files[@]}"; do
    [ -n "$file" ] || continue
    case "$file" in /*) ;; *) echo "manifest entry is not absolute: $file" >&2; exit 1 ;; esac
    if [ -e "$DESTDIR$file" ] || [ -L "$DESTDIR$file" ]; then
        rm -f -- "$DESTDIR$file"
        echo "removed $file"
    fi
done
# The folders of our own, when empty; never shared ones (bin, hooks, man1, ...).
if [ -d "$DESTDIR$DOCDIR" ]; then
    find "$DESTDIR$DOCDIR" -depth -type d -empty -delete
fi
rmdir -- "$DESTDIR$(dirname "$MANIFEST")" 2>/dev/null || true
