#!/usr/bin/env bash
# Installs kea-lwm2m's files under $DESTDIR, as `make install` and `make deb`
# do. Every variable comes from the Makefile (see its install block):
#   STAGE       folder with the files to install (prepared by `make stage`)
#   DESTDIR     root to install under (empty: /)
#   HOOKS_DIR BINDIR DOCDIR MANDIR BASHCOMPDIR ZSHCOMPDIR FISHCOMPDIR
#   MANIFEST    file that lists every installed file, for `make uninstall`;
#               empty for a package (dpkg keeps its own list)
set -euo pipefail

installed=()
put() {   # put MODE SOURCE DESTINATION-FOLDER [NAME]
    local mode=$1 source=$2 folder=$3 name=${4:-$(basename "$2")}
    install -d -m 0755 "$DESTDIR$folder"
    # install(1) replaces the file (new inode): a running Kea keeps its mapped copy.
    install -m "$mode" "$source" "$DESTDIR$folder/$name"
    installed+=("$folder/$name")
}

put 0644 "$STAGE/libdhcp_lwm2m.so" "$HOOKS_DIR"
put 0755 "$STAGE/kea-lwm2m" "$BINDIR"
put 0644 "$STAGE/kea-lwm2m.1.gz" "$MANDIR/man1"
put 0644 "$STAGE/completion.bash" "$BASHCOMPDIR" kea-lwm2m
put 0644 "$STAGE/completion.zsh" "$ZSHCOMPDIR" _kea-lwm2m
put 0644 "$STAGE/completion.fish" "$FISHCOMPDIR" kea-lwm2m.fish
(cd "$STAGE/doc" && find . -type f | LC_ALL=C sort) | while read -r relative; do
    echo "${relative#./}"
done > "$STAGE/doc-files"
while read -r relative; do
    put 0644 "$STAGE/doc/$relative" "$DOCDIR/$(dirname "$relative")"
done < "$STAGE/doc-files"

if [ -n "${MANIFEST:-}" ]; then
    install -d -m 0755 "$DESTDIR$(dirname "$MANIFEST")"
    printf '%s\n' "${installed[@]}" "$MANIFEST" | sed 's|/\./|/|g' > "$DESTDIR$MANIFEST"
fi
printf 'installed %s\n' "${installed[@]}" | sed 's|/\./|/|g'
