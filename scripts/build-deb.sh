#!/usr/bin/env bash
# Builds the Debian package $DEB from the staged files ($STAGE), laid out as
# `make install PREFIX=/usr` lays them out. Variables from the Makefile:
# VERSION, STAGE, DEB, MULTIARCH.
set -euo pipefail
root=.build/debroot
rm -rf "$root"
mkdir -p "$root/DEBIAN"

STAGE=$STAGE DESTDIR=$root MANIFEST= \
HOOKS_DIR=/usr/lib/$MULTIARCH/kea/hooks BINDIR=/usr/bin DOCDIR=/usr/share/doc/kea-lwm2m \
MANDIR=/usr/share/man BASHCOMPDIR=/usr/share/bash-completion/completions \
ZSHCOMPDIR=/usr/share/zsh/vendor-completions FISHCOMPDIR=/usr/share/fish/vendor_completions.d \
    bash scripts/install-tree.sh > /dev/null

# What the two binaries need from the system, as dpkg-shlibdeps computes it
# (libc6, libstdc++6, libgcc-s1, kea-common for the libkea-* libraries).
shlibs=""
if command -v dpkg-shlibdeps >/dev/null; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/debian"
    printf 'Source: kea-lwm2m\n\nPackage: kea-lwm2m\nArchitecture: amd64\n' > "$work/debian/control"
    abs_root=$(cd "$root" && pwd)
    shlibs=$(cd "$work" && dpkg-shlibdeps -O \
        "$abs_root/usr/lib/$MULTIARCH/kea/hooks/libdhcp_lwm2m.so" "$abs_root/usr/bin/kea-lwm2m" 2>/dev/null \
        | sed -n 's/^shlibs:Depends=//p')
fi
if [ -z "$shlibs" ]; then
    shlibs="libc6 (>= 2.34), libgcc-s1 (>= 3.0), libstdc++6 (>= 12), kea-common (>= 2.2.0)"
fi

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: kea-lwm2m
Version: $VERSION
Architecture: amd64
Maintainer: kea-lwm2m maintainers <kea-lwm2m@localhost>
Installed-Size: $size
Depends: kea-dhcp4-server (>= 2.2) | kea-dhcp6-server (>= 2.2), $shlibs
Section: net
Priority: optional
Description: LwM2M bootstrap options for the Kea DHCP servers
 A hook library for kea-dhcp4 and kea-dhcp6 (Kea 2.2) that sends devices
 the URI of their LwM2M bootstrap server and that server's certificate
 (draft-ietf-dhc-dhcpv6-lwm2m-bootstrap-options), chosen per subnet from
 a JSON store file; and kea-lwm2m, the command to check stores and Kea
 configurations, encode, decode and explain the options.
CONTROL
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
find "$root" -type d -exec chmod 0755 {} +
dpkg-deb --root-owner-group -Zxz --build "$root" "$DEB" >/dev/null
echo "built $DEB"
