#!/bin/bash
# Validates the committed manifests offline against the Kubernetes 1.34 and 1.35 OpenAPI
# schemas (strict: unknown fields fail) with kubernetes-validate from PyPI, installed into a
# virtual environment on first use. A deliberately broken copy must fail, so the check
# itself is known to work.
#
#   packaging/tests/validate-manifests.sh
#
# KUBERNETES_VALIDATE_VENV sets the virtual environment (default /tmp/harbor-keyless-kv-venv).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
venv=${KUBERNETES_VALIDATE_VENV:-/tmp/harbor-keyless-kv-venv}
versions=(1.34.0 1.35.0)
passed=0
failed=0

if [ ! -x "$venv/bin/kubernetes-validate" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet kubernetes-validate
fi
echo "kubernetes-validate $("$venv/bin/pip" show kubernetes-validate | sed -n 's/^Version: //p')"

for version in "${versions[@]}"; do
    for file in "$repo"/packaging/kubernetes/*.yaml; do
        if "$venv/bin/kubernetes-validate" --strict --quiet -k "$version" "$file"; then
            echo "ok: $(basename "$file") is valid for Kubernetes $version"
            passed=$((passed + 1))
        else
            echo "FAIL: $(basename "$file") is invalid for Kubernetes $version"
            failed=$((failed + 1))
        fi
    done
done

# Negative control: a field the DaemonSet schema does not have.
broken=$(mktemp --suffix=.yaml)
trap 'rm -f "$broken"' EXIT
sed 's/^      priorityClassName:/      priorityClassNme:/' "$repo/packaging/kubernetes/harbor-keyless.yaml" > "$broken"
if "$venv/bin/kubernetes-validate" --strict --quiet -k "${versions[0]}" "$broken" >/dev/null 2>&1; then
    echo "FAIL: a misspelt DaemonSet field passes validation"
    failed=$((failed + 1))
else
    echo "ok: a misspelt DaemonSet field fails validation"
    passed=$((passed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
