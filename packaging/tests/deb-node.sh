#!/bin/bash
# Installs, configures, upgrades, removes and purges the .deb with apt inside a booted
# Debian node (real systemd under systemd-nspawn, k3s stand-in from the node harness).
#
#   packaging/tests/deb-node.sh
#
# Needs root, the node harness (Tests/node/node.sh, or NODE_SH=PATH), a built
# out/harbor-keyless_*_amd64.deb (packaging/deb/build.sh) and the Debian mirror for the
# package's dependencies. Skips unless HARBOR_KEYLESS_NODE_TESTS=1.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
node_sh=${NODE_SH:-$repo/Tests/node/node.sh}
name=pkg-deb-$$
conffile=/etc/harbor-keyless/config.yaml
passed=0
failed=0

if [ "${HARBOR_KEYLESS_NODE_TESTS:-0}" != 1 ]; then
    echo "skip: deb-node.sh boots a systemd-nspawn node as root; set HARBOR_KEYLESS_NODE_TESTS=1"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
[ -x "$node_sh" ] || { echo "error: node harness $node_sh not found; set NODE_SH" >&2; exit 1; }

deb=$(ls -t "$repo"/out/harbor-keyless_*_amd64.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || { echo "error: no out/harbor-keyless_*_amd64.deb; run packaging/deb/build.sh" >&2; exit 1; }

# shellcheck source=packaging/tests/node-check.sh
. "$(dirname "$0")/node-check.sh"
unit_property() { on_node systemctl show -P "$1" harbor-keyless.service; }

cleanup() { "$node_sh" stop "$name" >/dev/null 2>&1 || true; rm -rf "$work"; }
work=$(mktemp -d)
trap cleanup EXIT

# A second package, one revision newer, for the upgrade.
version=$(dpkg-deb -f "$deb" Version)
newer_version="$version+upgrade1"
stage="$work/newer"
mkdir -p "$stage"
dpkg-deb -R "$deb" "$stage/pkg"
sed -i "s/^Version: .*/Version: $newer_version/" "$stage/pkg/DEBIAN/control"
dpkg-deb --root-owner-group --build "$stage/pkg" "$work/newer.deb" >/dev/null

# Its own network namespace: the service listens on 127.0.0.1:9765, which a daemon on this
# machine or in another node may already use.
"$node_sh" start "$name" --enable k3s.service --private-network > "$work/info"
eval "$(grep -E '^NODE_(ROOT|DIR)=' "$work/info")"
cp "$deb" "$NODE_ROOT/var/tmp/old.deb"
cp "$work/newer.deb" "$NODE_ROOT/var/tmp/new.deb"

# 1. Fresh install: enabled, not started, and the one configuration command is printed.
on_node apt-get update -qq >/dev/null
on_node env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /var/tmp/old.deb > "$work/install.log" 2>&1 \
    || { cat "$work/install.log"; exit 1; }
check "install prints the configuration command" grep -q "printf 'registries:" "$work/install.log"
check "service is enabled after install" test "$(on_node systemctl is-enabled harbor-keyless.service || true)" = enabled
check "service is not started without a registry" test "$(on_node systemctl is-active harbor-keyless.service || true)" = inactive
check "plugin is statically linked on the node" sh -c "file -L '$NODE_ROOT/usr/lib/harbor-keyless/credential-provider-harbor' | grep -q 'statically linked'"
check "agent runs on a node without a Swift toolchain" sh -c "'$node_sh' exec '$name' harbor-keyless version | grep -q '^harbor-keyless '"

# A start without a registry exits 64, and RestartPreventExitStatus=64 keeps systemd from
# retrying it every RestartSec=10s. Waits past RestartSec so a retry would have happened.
on_node systemctl start harbor-keyless.service || true
sleep 12
check "unconfigured service exits 64" test "$(unit_property ExecMainStatus)" = 64
check "unconfigured service is not restarted" test "$(unit_property NRestarts)" = 0
check "unconfigured service stays failed" test "$(on_node systemctl is-active harbor-keyless.service || true)" = failed
on_node systemctl reset-failed harbor-keyless.service || true

# 2. Configure with the printed command. Without a `run` command in this build, the unit's
#    sandbox is exercised with `install` instead, so the host-path permissions are still tested.
has_run=no
if on_node harbor-keyless help | grep -q '^  run '; then has_run=yes; fi
if [ "$has_run" = no ]; then
    echo "note: this build has no 'run' command; testing the unit's sandbox with 'install'"
    # install restarts k3s over D-Bus and verifies the restart in the journal, as run will.
    mkdir -p "$NODE_ROOT/etc/systemd/system/harbor-keyless.service.d"
    printf '[Service]\nType=oneshot\nRemainAfterExit=yes\nRestart=no\nExecStart=\nExecStart=/usr/bin/harbor-keyless install --settle-window 5s\n' \
        > "$NODE_ROOT/etc/systemd/system/harbor-keyless.service.d/test-install-only.conf"
    on_node systemctl daemon-reload
fi
k3s_before=$(on_node systemctl show -P InvocationID k3s.service)
check "k3s stand-in runs before the agent starts" test "$(on_node systemctl is-active k3s.service || true)" = active
command=$(tr -d '\r' < "$work/install.log" | grep -A1 'configure a registry' | tail -n1)
on_node sh -c "$command" || true
for _ in $(seq 1 150); do
    state=$(on_node systemctl is-active harbor-keyless.service || true)
    [ "$state" = active ] && break
    sleep 0.2
done
check "service is active once a registry is configured" test "$state" = active
if [ "$state" != active ]; then
    on_node journalctl -u harbor-keyless.service --no-pager -n 30 || true
fi
# `run` installs in the background once started: wait for its first cycle to write the files
# and restart k3s (up to 90 s on loaded cores).
for _ in $(seq 1 450); do
    if [ -f "$NODE_ROOT/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml" ] \
        && [ "$(on_node systemctl show -P InvocationID k3s.service)" != "$k3s_before" ]; then
        break
    fi
    sleep 0.2
done
check "plugin written by the sandboxed service" test -x "$NODE_ROOT/var/lib/rancher/credentialprovider/bin/credential-provider-harbor"
check "provider config written by the sandboxed service" test -f "$NODE_ROOT/var/lib/rancher/credentialprovider/config.yaml"
check "k3s drop-in written by the sandboxed service" test -f "$NODE_ROOT/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml"
check "state directory is 0700" test "$(stat -c %a "$NODE_ROOT/var/lib/harbor-keyless")" = 700
check "sandboxed service restarted k3s over D-Bus" test "$(on_node systemctl show -P InvocationID k3s.service)" != "$k3s_before"
check "k3s is active after the restart" test "$(on_node systemctl is-active k3s.service || true)" = active
echo "measure: $(on_node systemd-analyze security harbor-keyless.service --no-pager | tail -n1)"
if [ "$has_run" = yes ]; then
    rss=$(on_node sh -c 'grep VmRSS /proc/$(systemctl show -P MainPID harbor-keyless.service)/status' | awk '{print $2}')
    echo "measure: harbor-keyless run RSS ${rss} kB"
fi

# 3. Upgrade: the edited conffile is kept and the service restarted.
before=$(unit_property InvocationID)
check "service has an invocation before upgrade" test -n "$before"
on_node env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /var/tmp/new.deb > "$work/upgrade.log" 2>&1 \
    || { cat "$work/upgrade.log"; exit 1; }
check "upgrade installs the newer version" test "$(on_node dpkg-query -W -f '${Version}' harbor-keyless)" = "$newer_version"
check "upgrade keeps the edited conffile" grep -q '^  - host: harbor.example.com' "$NODE_ROOT$conffile"
check "upgrade restarts the service" test "$(unit_property InvocationID)" != "$before"
check "service is active after upgrade" test "$(on_node systemctl is-active harbor-keyless.service || true)" = active

# 4. Remove: the daemon stops, the node's provider files stay.
on_node env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq harbor-keyless > "$work/remove.log" 2>&1 \
    || { cat "$work/remove.log"; exit 1; }
check "remove stops the service" test "$(on_node systemctl is-active harbor-keyless.service || true)" != active
check "remove leaves the plugin" test -x "$NODE_ROOT/var/lib/rancher/credentialprovider/bin/credential-provider-harbor"
check "remove leaves the drop-in" test -f "$NODE_ROOT/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml"
check "remove keeps the conffile" test -f "$NODE_ROOT$conffile"

# 5. Purge: state and conffile go, provider files stay, the removal command is printed.
on_node env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq harbor-keyless > "$work/purge.log" 2>&1 \
    || { cat "$work/purge.log"; exit 1; }
check "purge removes the state directory" test ! -e "$NODE_ROOT/var/lib/harbor-keyless"
check "purge removes the conffile" test ! -e "$NODE_ROOT$conffile"
check "purge leaves the provider config" test -f "$NODE_ROOT/var/lib/rancher/credentialprovider/config.yaml"
check "purge prints the uninstall command" grep -q 'harbor-keyless uninstall' "$work/purge.log"
check "purge leaves no unit file" test ! -e "$NODE_ROOT/lib/systemd/system/harbor-keyless.service"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
