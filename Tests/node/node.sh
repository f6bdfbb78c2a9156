#!/usr/bin/env bash
# Boots a Debian bookworm root with real systemd under systemd-nspawn, for node tests.
#
#   node.sh build-root          debootstrap the cached root (once per set of inputs), print its path
#   node.sh start NAME [--enable UNIT]... [--private-network]
#                               overlay (or copy) the cached root, install the k3s stand-in, boot it,
#                               wait until systemd on the node's bus reports running; with
#                               --private-network the node gets its own loopback-only network
#                               namespace, so its services cannot collide with ports on this machine
#   node.sh exec NAME CMD...    run CMD inside the node (nsenter into the container's init)
#   node.sh stop NAME           stop the node and remove its directory
#   node.sh info NAME           print the node's paths as shell variables
#
# Environment:
#   HARBOR_KEYLESS_NODE_CACHE   cache of built roots (default /var/cache/harbor-keyless-node)
#   HARBOR_KEYLESS_NODE_STATE   per-node directories (default /tmp/harbor-keyless-nodes)
#   HARBOR_KEYLESS_NODE_MIRROR  Debian mirror URL (default: the first bookworm URI of this machine's
#                               apt sources)
#
# Needs root, debootstrap and systemd-container. From outside, the node's system bus is
# unix:path=$STATE/NAME/bus/system_bus_socket and its persistent journal is $STATE/NAME/root/var/log/journal.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_dir=${HARBOR_KEYLESS_NODE_CACHE:-/var/cache/harbor-keyless-node}
state_dir=${HARBOR_KEYLESS_NODE_STATE:-/tmp/harbor-keyless-nodes}
suite=bookworm
# The C libraries harbor-keyless links dynamically, so the agent runs inside the node too.
packages=systemd,systemd-sysv,dbus,python3,python3-yaml,libcurl4,libyaml-0-2,libmicrohttpd12,libssl3
# Bump when the way the root is built changes, so old cached roots are not reused.
root_format=1

log() { printf 'node.sh: %s\n' "$*" >&2; }
die() { printf 'node.sh: error: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }
elapsed() { local start=$1; echo "$(( $(now_ms) - start )) ms"; }

need_root() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, mount and systemd-nspawn need it)"
}

# Prints the first Debian mirror URI of this machine's apt sources that serves the suite.
# Deb822 files (*.sources) come first, then one-line sources.list entries.
apt_mirror() {
    if [[ -n ${HARBOR_KEYLESS_NODE_MIRROR:-} ]]; then
        echo "$HARBOR_KEYLESS_NODE_MIRROR"
        return
    fi
    local file uri
    for file in /etc/apt/sources.list.d/*.sources; do
        [[ -f $file ]] || continue
        uri=$(awk -v suite="$suite" '
            BEGIN { RS = ""; FS = "\n" }
            {
                uris = ""; suites = ""; types = ""
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
                    if ($i ~ /^Suites:/) { suites = " " $i " "; sub(/^Suites:/, "", suites) }
                    if ($i ~ /^Types:/) { types = $i }
                }
                if (types ~ /(^|[ \t])deb([ \t]|$)/ && (" " suites " ") ~ ("[ \t]" suite "[ \t]")) {
                    split(uris, parts, /[ \t]+/); print parts[1]; exit
                }
            }' "$file")
        if [[ -n $uri ]]; then
            echo "$uri"
            return
        fi
    done
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $file ]] || continue
        uri=$(awk -v suite="$suite" '
            $1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                if ($(i + 1) == suite) { print $i; exit }
            }' "$file")
        if [[ -n $uri ]]; then
            echo "$uri"
            return
        fi
    done
    die "no apt source for '$suite' in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list; set HARBOR_KEYLESS_NODE_MIRROR"
}

# The cache key covers everything that changes the built root.
root_path() {
    local mirror=$1 key
    key=$(printf '%s\n' "$root_format" "$suite" "$packages" "$mirror" | sha256sum | cut -c1-16)
    echo "$cache_dir/root-$key"
}

cmd_build_root() {
    need_root
    local mirror root start tmp
    mirror=$(apt_mirror)
    root=$(root_path "$mirror")
    if [[ -f $root/.harbor-keyless-node-complete ]]; then
        log "cached root $root"
        echo "$root"
        return
    fi

    start=$(now_ms)
    mkdir -p "$cache_dir"
    tmp=$(mktemp -d "$cache_dir/build.XXXXXX")
    log "debootstrap $suite from $mirror into $tmp"
    if ! debootstrap --variant=minbase --include="$packages" "$suite" "$tmp" "$mirror" >"$tmp.log" 2>&1; then
        tail -n 20 "$tmp.log" >&2
        rm -rf "$tmp"
        die "debootstrap failed (full log: $tmp.log); check that $mirror is reachable or set HARBOR_KEYLESS_NODE_MIRROR"
    fi

    # The cached root carries no machine id: `start` writes a fresh one for each node.
    : >"$tmp/etc/machine-id"
    rm -f "$tmp/var/lib/dbus/machine-id"
    apt_clean "$tmp"
    touch "$tmp/.harbor-keyless-node-complete"
    rm -rf "$root"
    mv "$tmp" "$root"
    rm -f "$tmp.log"
    log "built $root in $(elapsed "$start") ($(du -sh "$root" | cut -f1))"
    echo "$root"
}

apt_clean() {
    rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages
}

node_dir() { echo "$state_dir/$1"; }

valid_name() {
    [[ $1 =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] || die "invalid node name '$1': use 1-31 lowercase letters, digits and '-'"
}

# Installs the k3s stand-in and its units from Tests/node/files into the node root.
install_standin() {
    local root=$1
    install -D -m 0755 "$here/files/k3s" "$root/usr/local/bin/k3s"
    install -D -m 0644 "$here/files/k3s.service" "$root/etc/systemd/system/k3s.service"
    install -D -m 0644 "$here/files/k3s-agent.service" "$root/etc/systemd/system/k3s-agent.service"
    install -D -m 0644 "$here/files/version" "$root/etc/k3s-standin/version"
    mkdir -p "$root/etc/rancher/k3s/config.yaml.d"
}

enable_unit() {
    local root=$1 unit=$2
    [[ -f $root/etc/systemd/system/$unit ]] || die "cannot enable $unit: no such unit file in the node"
    mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
    ln -sf "/etc/systemd/system/$unit" "$root/etc/systemd/system/multi-user.target.wants/$unit"
}

# Host PID of the container's init (the only child of systemd-nspawn).
leader_pid() {
    local dir=$1 nspawn child
    nspawn=$(cat "$dir/nspawn.pid" 2>/dev/null) || return 1
    kill -0 "$nspawn" 2>/dev/null || return 1
    child=$(cat /proc/"$nspawn"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -m1 .) || return 1
    echo "$child"
}

bus_property() {
    local bus=$1 property=$2
    busctl --address="unix:path=$bus/system_bus_socket" get-property \
        org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager "$property" 2>/dev/null
}

cmd_start() {
    need_root
    local name=${1:?usage: node.sh start NAME [--enable UNIT]...}
    shift
    valid_name "$name"
    local enable=() network=()
    while [[ $# -gt 0 ]]; do
        case $1 in
            --enable) enable+=("${2:?--enable needs a unit name}"); shift 2 ;;
            --private-network) network=(--private-network); shift ;;
            *) die "unknown option '$1' for start" ;;
        esac
    done

    local dir base start t
    dir=$(node_dir "$name")
    [[ ! -e $dir ]] || die "node '$name' already exists at $dir; run 'node.sh stop $name' first"
    base=$(cmd_build_root)
    start=$(now_ms)

    # 1. A writable root: an overlay on the cached root when the kernel allows it, else a copy.
    mkdir -p "$dir"/{upper,work,root,bus}
    if mount -t overlay overlay -o "lowerdir=$base,upperdir=$dir/upper,workdir=$dir/work" "$dir/root" 2>/dev/null; then
        echo overlay >"$dir/root.kind"
    else
        log "overlay mount failed, copying the root"
        cp -a --reflink=auto "$base/." "$dir/root/"
        echo copy >"$dir/root.kind"
    fi
    t=$(now_ms)

    # 2. Identity, persistent journal, stand-in.
    rm -f "$dir/root/etc/machine-id"
    systemd-machine-id-setup --root="$dir/root" >/dev/null 2>&1
    mkdir -p "$dir/root/var/log/journal"
    echo "$name" >"$dir/root/etc/hostname"
    install_standin "$dir/root"
    local unit
    for unit in "${enable[@]}"; do
        enable_unit "$dir/root" "$unit"
    done

    # 3. Boot. setsid keeps the node out of the caller's process group, so a terminal's ^C
    # does not reach it. `stop` sends SIGTERM, which nspawn turns into a clean shutdown.
    setsid systemd-nspawn -D "$dir/root" -b --console=pipe --bind="$dir/bus:/run/dbus" \
        --register=no --keep-unit -M "$name" "${network[@]}" </dev/null >"$dir/console.log" 2>&1 &
    echo $! >"$dir/nspawn.pid"

    # 4. Wait until the node's systemd replies on its bus and has finished booting.
    local state="" deadline=$(( $(now_ms) + 60000 ))
    while (( $(now_ms) < deadline )); do
        if ! kill -0 "$(cat "$dir/nspawn.pid")" 2>/dev/null; then
            tail -n 30 "$dir/console.log" >&2
            die "systemd-nspawn exited during boot (console log: $dir/console.log)"
        fi
        state=$(bus_property "$dir/bus" SystemState || true)
        case $state in
            *'"running"'*|*'"degraded"'*) break ;;
        esac
        sleep 0.1
    done
    case $state in
        *'"running"'*) ;;
        *'"degraded"'*) log "node '$name' booted degraded: $(cmd_exec "$name" systemctl --failed --no-legend --plain | tr '\n' ' ')" ;;
        *) die "node '$name' did not reach running within 60 s (last state: ${state:-no answer}); console log: $dir/console.log" ;;
    esac
    log "node '$name' up: root ready in $(( t - start )) ms, booted in $(elapsed "$t"), total $(elapsed "$start")"
    cmd_info "$name"
}

cmd_exec() {
    local name=${1:?usage: node.sh exec NAME CMD...}
    shift
    [[ $# -gt 0 ]] || die "usage: node.sh exec NAME CMD..."
    local dir leader
    dir=$(node_dir "$name")
    leader=$(leader_pid "$dir") || die "node '$name' is not running"
    # The container has no user namespace of its own, so only these five are entered.
    exec nsenter --target "$leader" --mount --uts --ipc --net --pid --root --wd \
        env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb "$@"
}

cmd_stop() {
    need_root
    local name=${1:?usage: node.sh stop NAME}
    local dir start pid
    dir=$(node_dir "$name")
    [[ -d $dir ]] || { log "node '$name' does not exist"; return 0; }
    start=$(now_ms)
    pid=$(cat "$dir/nspawn.pid" 2>/dev/null || true)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        local deadline=$(( $(now_ms) + 20000 ))
        while kill -0 "$pid" 2>/dev/null && (( $(now_ms) < deadline )); do
            sleep 0.05
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "systemd-nspawn $pid still running after 20 s, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
        fi
    fi
    if mountpoint -q "$dir/root"; then
        umount "$dir/root" || umount -l "$dir/root"
    fi
    rm -rf "$dir"
    log "node '$name' stopped in $(elapsed "$start")"
}

cmd_info() {
    local name=${1:?usage: node.sh info NAME}
    local dir
    dir=$(node_dir "$name")
    [[ -d $dir ]] || die "node '$name' does not exist"
    printf 'NODE_DIR=%s\n' "$dir"
    printf 'NODE_ROOT=%s\n' "$dir/root"
    printf 'NODE_BUS=unix:path=%s\n' "$dir/bus/system_bus_socket"
    printf 'NODE_JOURNAL=%s\n' "$dir/root/var/log/journal"
    printf 'NODE_NSPAWN_PID=%s\n' "$(cat "$dir/nspawn.pid" 2>/dev/null)"
}

case ${1:-} in
    build-root) shift; cmd_build_root "$@" ;;
    start) shift; cmd_start "$@" ;;
    exec) shift; cmd_exec "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    info) shift; cmd_info "$@" ;;
    *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64 ;;
esac
