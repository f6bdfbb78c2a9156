#!/bin/bash
# Builds the harbor-keyless image FROM scratch with buildah, without a container engine or
# a base image, and saves it for offline use:
#   out/harbor-keyless-image.oci.tar   OCI archive
#   out/harbor-keyless-image.tar       docker-archive, which k3s imports from
#                                      /var/lib/rancher/k3s/agent/images/ at start-up
#
#   packaging/image/build.sh               release build, then the image
#   SKIP_BUILD=1 packaging/image/build.sh  use the existing release build
#   IMAGE=REF                              image name (default localhost/harbor-keyless:<version>)
#   SOURCE_URL=URL                         org.opencontainers.image.source label
#
# Needs buildah, binutils (strip) and the agent's shared libraries on this machine.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/packaging/image"
out="$repo/out"
cd "$repo"

version=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/Agent/AgentVersion.swift)
image=${IMAGE:-localhost/harbor-keyless:$version}
# NOTE: the repository has no published address yet; set SOURCE_URL when building a release.
source_url=${SOURCE_URL:-$(git config --get remote.origin.url 2>/dev/null || echo "https://example.invalid/harbor-keyless")}

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    swift build -c release --product credential-provider-harbor
    swift build -c release --product harbor-keyless
fi
bin=$(swift build -c release --show-bin-path)

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
rootfs="$context/rootfs"

# 1. The two executables, stripped.
install -D -m 0755 "$bin/harbor-keyless" "$rootfs/usr/bin/harbor-keyless"
install -D -m 0755 "$bin/credential-provider-harbor" "$rootfs/usr/lib/harbor-keyless/credential-provider-harbor"
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
    "$rootfs/usr/bin/harbor-keyless" "$rootfs/usr/lib/harbor-keyless/credential-provider-harbor"

# 2. Every shared library the agent loads, at the path the loader resolves it to, as a
#    regular file (the real file behind any symlink), plus the loader itself. The plugin is
#    static and needs none.
copy_real() {
    local path=$1
    install -D -m 0755 "$(readlink -f "$path")" "$rootfs$path"
}
ldd "$rootfs/usr/bin/harbor-keyless" | awk '/=> \//{print $3} /^\t\/lib64\//{print $1}' | sort -u > "$context/libraries"
while read -r library; do
    copy_real "$library"
done < "$context/libraries"
copy_real /lib64/ld-linux-x86-64.so.2
# Debian's loader searches /lib/x86_64-linux-gnu by default, so the image needs no ld.so.cache.

# 3. CA certificates, for TLS to registries and API servers that use public CAs.
install -D -m 0644 "$(readlink -f /etc/ssl/certs/ca-certificates.crt)" "$rootfs/etc/ssl/certs/ca-certificates.crt"

cp "$here/Containerfile" "$context/Containerfile"

# 4. Build and save. vfs storage and chroot isolation work without overlay or user
#    namespaces, as on CI machines.
buildah --storage-driver vfs build --isolation chroot --quiet \
    --build-arg VERSION="$version" \
    --build-arg SOURCE_URL="$source_url" \
    --build-arg CREATED="$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --timestamp "$(git log -1 --format=%ct 2>/dev/null || date +%s)" \
    -t "$image" "$context" >/dev/null

mkdir -p "$out"
rm -f "$out/harbor-keyless-image.oci.tar" "$out/harbor-keyless-image.tar"
buildah --storage-driver vfs push --quiet "$image" "oci-archive:$out/harbor-keyless-image.oci.tar:$image"
buildah --storage-driver vfs push --quiet "$image" "docker-archive:$out/harbor-keyless-image.tar:$image"

echo "image $image"
echo "rootfs $(du -sb "$rootfs" | cut -f1) bytes uncompressed"
for archive in "$out/harbor-keyless-image.oci.tar" "$out/harbor-keyless-image.tar"; do
    echo "$(basename "$archive") $(stat -c %s "$archive") bytes"
done
