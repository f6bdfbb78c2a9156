# Shared by the packaging tests that boot a systemd-nspawn node (source it; it defines
# functions only). The sourcing script sets `node_sh` and `name`, and counts in `passed` and
# `failed`.

# Runs a command as one named check and counts the result.
check() {
    local what=$1
    shift
    if "$@"; then
        echo "ok: $what"
        passed=$((passed + 1))
    else
        echo "FAIL: $what"
        failed=$((failed + 1))
    fi
}

# Runs a command inside the node.
on_node() { "$node_sh" exec "$name" "$@"; }
