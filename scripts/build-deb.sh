#!/usr/bin/env bash
# Builds the Debian package $DEB of kea-lwm2m for one Kea version from the
# staged files ($STAGE), laid out as `make install PREFIX=/usr` lays them out.
# Variables from the Makefile: KEA (2.2, 2.6 or 3.0), VERSION (upstream),
# DEBREV (Debian revision), STAGE, DEB, MULTIARCH.
#
# The package is for the Debian release whose root holds that Kea
# (scripts/kea-root.sh: "/" for this machine's Kea): its version is
# VERSION-DEBREV+keaX.Y, it depends on exactly that root's Kea packages (Kea
# loads only a hook built for its own release), and its shared-library
# dependencies are computed from that root's libraries and dpkg database,
# not this machine's.
set -euo pipefail
cd "$(dirname "$0")/.."

KEA=${KEA:?KEA=2.2, 2.6 or 3.0}
VERSION=${VERSION:?VERSION=upstream version}
DEBREV=${DEBREV:-1}
STAGE=${STAGE:?STAGE=folder of staged files}
DEB=${DEB:?DEB=path of the package to write}
MULTIARCH=${MULTIARCH:-x86_64-linux-gnu}
MAINTAINER=${MAINTAINER:-kea-lwm2m developers <kea-lwm2m@users.noreply.github.com>}

root=$(scripts/kea-root.sh "$KEA")
root=${root%/}
package_version=$VERSION-$DEBREV+kea$KEA
docdir=/usr/share/doc/kea-lwm2m
hook=/usr/lib/$MULTIARCH/kea/hooks/libdhcp_lwm2m.so

# The root's Kea, as its dpkg database records it.
kea_version=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Version}' kea-common)
case "$kea_version" in
    "$KEA".*) ;;
    *) echo "build-deb.sh: the root of Kea $KEA (${root:-/}) has kea-common $kea_version" >&2; exit 1 ;;
esac
# The release, for the changelog's distribution field.
if grep -q sid "$root/etc/debian_version"; then
    distribution=unstable
else
    distribution=$(. "$root/etc/os-release" && echo "$VERSION_CODENAME")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/tree
mkdir -p "$tree/DEBIAN"

STAGE=$STAGE DESTDIR=$tree MANIFEST= \
HOOKS_DIR=/usr/lib/$MULTIARCH/kea/hooks BINDIR=/usr/bin DOCDIR=$docdir \
MANDIR=/usr/share/man BASHCOMPDIR=/usr/share/bash-completion/completions \
ZSHCOMPDIR=/usr/share/zsh/vendor-completions FISHCOMPDIR=/usr/share/fish/vendor_completions.d \
    bash scripts/install-tree.sh > /dev/null

# Debian's files: copyright (DEP-5) and this build's changelog entry, dated
# by the last commit (or the VERSION file) so that a rebuild is identical.
install -m 0644 packaging/debian/copyright "$tree$docdir/copyright"
date=$(git log -1 --format=%cD 2>/dev/null || date -u -R -r VERSION)
cat > "$work/changelog" <<CHANGELOG
kea-lwm2m ($package_version) $distribution; urgency=medium

  * kea-lwm2m $VERSION for Kea $kea_version (Debian $distribution): the hook
    built against that release's Kea headers and libraries.

 -- $MAINTAINER  $date
CHANGELOG
gzip -9n -c "$work/changelog" > "$tree$docdir/changelog.Debian.gz"
chmod 0644 "$tree$docdir/changelog.Debian.gz"

# Shared-library dependencies of the two binaries, by dpkg-shlibdeps, from
# the target root: its libraries come first on the search path (-l) and it
# reads a copy of the root's dpkg database whose file lists name the files
# where they are on this machine ($root/usr/lib/...), so every library is
# matched to the root's package and that package's symbols/shlibs file.
# kea-common is left out (-x): the package depends on its exact version.
admindir=$root/var/lib/dpkg
libdirs=()
if [ -n "$root" ]; then
    admindir=$work/dpkg
    mkdir -p "$admindir/info" "$admindir/updates"
    for file in status arch arch-native statoverride info/format; do
        if [ -e "$root/var/lib/dpkg/$file" ]; then cp "$root/var/lib/dpkg/$file" "$admindir/$file"; fi
    done
    for info in "$root"/var/lib/dpkg/info/*; do
        case "$info" in
            *.list)
                # /lib and /usr/lib are one folder (merged /usr): list both names.
                awk -v root="$root" '{ print root $0 }
                    /^\/lib\// { print root "/usr" $0 }
                    /^\/usr\/lib\// { print root substr($0, 5) }' "$info" \
                    | LC_ALL=C sort -u > "$admindir/info/$(basename "$info")" ;;
            *.symbols|*.shlibs) cp "$info" "$admindir/info/" ;;
        esac
    done
    libdirs=(-l"$root/usr/lib/$MULTIARCH" -l"$root/lib/$MULTIARCH")
fi
mkdir -p "$work/src/debian"
printf 'Source: kea-lwm2m\n\nPackage: kea-lwm2m\nArchitecture: amd64\n' > "$work/src/debian/control"
shlibs=$(cd "$work/src" && dpkg-shlibdeps -O --admindir="$admindir" "${libdirs[@]}" -xkea-common \
    "$tree$hook" "$tree/usr/bin/kea-lwm2m" | sed -n 's/^shlibs:Depends=//p')
case "$shlibs" in
    *libc6*) ;;
    *) echo "build-deb.sh: dpkg-shlibdeps found no libc6 dependency ('$shlibs')" >&2; exit 1 ;;
esac

size=$(du -sk --exclude=DEBIAN "$tree" | cut -f1)
cat > "$tree/DEBIAN/control" <<CONTROL
Package: kea-lwm2m
Version: $package_version
Architecture: amd64
Maintainer: $MAINTAINER
Installed-Size: $size
Depends: kea-common (= $kea_version), kea-dhcp4-server (= $kea_version) | kea-dhcp6-server (= $kea_version), $shlibs
Section: net
Priority: optional
Description: LwM2M bootstrap options for the Kea DHCP servers
 A hook library for kea-dhcp4 and kea-dhcp6 that sends devices the URI of
 their LwM2M bootstrap server and that server's certificate
 (draft-ietf-dhc-dhcpv6-lwm2m-bootstrap-options), chosen per host, client
 class, subnet or shared network from a JSON store file; and kea-lwm2m, the
 command to check stores and Kea configurations, encode, decode and explain
 the options.
 .
 This build is for Kea $kea_version only: Kea loads a hook built for its
 own release.
CONTROL
(cd "$tree" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
    > "$tree/DEBIAN/md5sums"
chmod 0644 "$tree/DEBIAN/control" "$tree/DEBIAN/md5sums"
find "$tree" -type d -exec chmod 0755 {} +
mkdir -p "$(dirname "$DEB")"
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(date -d "$date" +%s)} \
    dpkg-deb --root-owner-group -Zxz --build "$tree" "$DEB" > /dev/null
echo "built $DEB (Kea $kea_version, $distribution)"
