#!/bin/bash
# Builds out/harbor-keyless_<version>_amd64.deb from a release build, without debhelper.
#
#   packaging/deb/build.sh              build with `swift build -c release`, then package
#   SKIP_BUILD=1 packaging/deb/build.sh package the existing release build
#   DEB_VERSION=0.1.0-2 ...             package version (default: AgentVersion.current + "-1")
#
# Needs dpkg-dev (dpkg-shlibdeps, dpkg-gencontrol's shlibs data) and binutils (strip).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/packaging/deb"
out="$repo/out"
cd "$repo"

upstream=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/Agent/AgentVersion.swift)
version=${DEB_VERSION:-$upstream-1}

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    swift build -c release --product credential-provider-harbor
    swift build -c release --product harbor-keyless
fi
bin=$(swift build -c release --show-bin-path)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/harbor-keyless"

# 1. Files, with Debian's modes. Binaries are stripped of debug information and symbol
#    tables (the plugin alone drops from about 12 MB to about 8 MB).
install -d "$pkg/DEBIAN"
install -D -m 0755 "$bin/harbor-keyless" "$pkg/usr/bin/harbor-keyless"
install -D -m 0755 "$bin/credential-provider-harbor" "$pkg/usr/lib/harbor-keyless/credential-provider-harbor"
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
    "$pkg/usr/bin/harbor-keyless" "$pkg/usr/lib/harbor-keyless/credential-provider-harbor"
install -D -m 0644 "$repo/units/harbor-keyless.service" "$pkg/lib/systemd/system/harbor-keyless.service"
install -D -m 0644 "$here/config.yaml" "$pkg/etc/harbor-keyless/config.yaml"

doc="$pkg/usr/share/doc/harbor-keyless"
install -D -m 0644 "$here/copyright" "$doc/copyright"
date=$(git log -1 --format=%aD 2>/dev/null || date -R)
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$date/" "$here/changelog.in" | gzip -9n > "$doc/changelog.Debian.gz"
chmod 0644 "$doc/changelog.Debian.gz"

install -d "$pkg/usr/share/man/man8"
sed -e "s/@VERSION@/$version/" "$here/harbor-keyless.8" | gzip -9n > "$pkg/usr/share/man/man8/harbor-keyless.8.gz"
chmod 0644 "$pkg/usr/share/man/man8/harbor-keyless.8.gz"

install -D -m 0644 "$here/lintian-overrides" "$pkg/usr/share/lintian/overrides/harbor-keyless"

# 2. Maintainer scripts and the conffile list.
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$pkg/DEBIAN/"
install -m 0644 "$here/conffiles" "$pkg/DEBIAN/conffiles"

# 3. Depends from the shared libraries the agent links. dpkg-shlibdeps reads
#    debian/control, so it runs in a throwaway tree that has one.
install -d "$stage/debian"
printf 'Source: harbor-keyless\n\nPackage: harbor-keyless\nArchitecture: amd64\n' > "$stage/debian/control"
shlibs=$(cd "$stage" && dpkg-shlibdeps -O -e harbor-keyless/usr/bin/harbor-keyless 2>/dev/null \
    | sed -n 's/^shlibs:Depends=//p')
if [ -z "$shlibs" ]; then
    echo "error: dpkg-shlibdeps found no dependencies for harbor-keyless; install dpkg-dev" >&2
    exit 1
fi
# deb-systemd-helper and deb-systemd-invoke, used by the maintainer scripts.
depends="$shlibs, init-system-helpers (>= 1.54~)"

# 4. Control file and checksums.
installed_size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@INSTALLED_SIZE@/$installed_size/" -e "s/@DEPENDS@/$depends/" \
    "$here/control.in" > "$pkg/DEBIAN/control"
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | grep -v '^etc/' \
    | LC_ALL=C sort | xargs md5sum) > "$pkg/DEBIAN/md5sums"
chmod 0644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/harbor-keyless_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "$deb"
