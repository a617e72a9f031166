#!/usr/bin/env bash
# Validates what deploy/ ships, offline (run by .ci/run):
#   * deploy/haproxy.cfg        `haproxy -c` (HAProxy's own parser and semantic checks), with
#                               the default addresses and with others from the environment;
#   * deploy/kubernetes/*.yaml  every object against the Kubernetes 1.30 OpenAPI schemas that
#                               the PyPI package kubernetes-validate bundles, in --strict mode
#                               (unknown fields are errors, so a misspelt probe is caught);
#   * deploy/Containerfile      only that what it copies exists and that the binary it runs
#                               is the workspace's `kss` (it cannot be built here: no registry);
#   * the container arguments   every --flag that deployment.yaml and the Containerfile pass
#                               to `kss serve` is one that `kss serve --help` lists.
# What it does not prove: that a cluster accepts the objects (admission, quotas, the image),
# or that the probes' timings suit a given cluster. See docs/deploy.md.
#
# haproxy must be installed (.ci/run installs Debian's package when it is missing); set
# KSS_SKIP_DEPLOY_CHECK=1 to skip everything explicitly.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${KSS_SKIP_DEPLOY_CHECK:-0}" = 1 ]; then
  echo "check-deploy: skipped (KSS_SKIP_DEPLOY_CHECK=1)"
  exit 0
fi

fail=0
pass=0
ok() { echo "  ok: $*"; pass=$((pass + 1)); }
bad() { echo "  FAILED: $*"; fail=$((fail + 1)); }

echo "== deploy/haproxy.cfg"
if ! command -v haproxy >/dev/null; then
  echo "haproxy is not installed: apt-get install -y haproxy (or KSS_SKIP_DEPLOY_CHECK=1)" >&2
  exit 1
fi
if out=$(haproxy -c -f deploy/haproxy.cfg 2>&1); then ok "haproxy -c (defaults): $out"; else bad "haproxy -c: $out"; fi
if out=$(KSS_LB_BIND=0.0.0.0:80 KSS_LB_STATS=127.0.0.1:9000 KSS_REPLICA1=10.0.0.1:8080 \
  KSS_REPLICA2=10.0.0.2:8080 KSS_REPLICA3=10.0.0.3:8080 \
  haproxy -c -f deploy/haproxy.cfg 2>&1); then
  ok "haproxy -c (addresses from the environment)"
else
  bad "haproxy -c with environment addresses: $out"
fi
# A broken copy must fail, or the check above proves nothing.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed 's/^    balance leastconn/    balance leastconnn/' deploy/haproxy.cfg > "$tmp/broken.cfg"
if haproxy -c -f "$tmp/broken.cfg" >/dev/null 2>&1; then bad "haproxy -c accepted a broken copy"; else ok "haproxy -c rejects a broken copy"; fi

echo "== deploy/kubernetes (kubernetes-validate --strict, Kubernetes 1.30)"
venv=${CARGO_TARGET_DIR:-target}/deploy-check-venv
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate==1.37.0
fi
if out=$("$venv/bin/kubernetes-validate" --strict -k 1.30.0 deploy/kubernetes/*.yaml 2>&1); then
  ok "$(echo "$out" | grep -c passed) objects pass"
else
  bad "$out"
fi
# Again a broken copy (a misspelt field, a string for a number) must fail.
sed 's/readinessProbe:/readynessProbe:/' deploy/kubernetes/deployment.yaml > "$tmp/deployment.yaml"
if "$venv/bin/kubernetes-validate" --strict -k 1.30.0 "$tmp/deployment.yaml" >/dev/null 2>&1; then
  bad "a misspelt field passed the schema check"
else
  ok "a misspelt field fails the schema check"
fi
sed 's/minReplicas: 3/minReplicas: three/' deploy/kubernetes/hpa.yaml > "$tmp/hpa.yaml"
if "$venv/bin/kubernetes-validate" --strict -k 1.30.0 "$tmp/hpa.yaml" >/dev/null 2>&1; then
  bad "a string where a number belongs passed the schema check"
else
  ok "a string where a number belongs fails the schema check"
fi
for kind in Deployment Service Secret ConfigMap HorizontalPodAutoscaler; do
  if grep -q "^kind: $kind$" deploy/kubernetes/*.yaml; then ok "ships a $kind"; else bad "no $kind in deploy/kubernetes"; fi
done

echo "== deploy/Containerfile"
while read -r src; do
  if [ -e "$src" ]; then ok "COPY source $src exists"; else bad "COPY source $src is missing"; fi
done < <(awk '$1 == "COPY" && $2 !~ /^--from/ { for (i = 2; i < NF; i++) print $i }' deploy/Containerfile)
if grep -q '^name = "kss"$' crates/kss-cli/Cargo.toml && grep -q -- '-p kss --bin kss' deploy/Containerfile; then
  ok "builds the workspace's kss binary"
else
  bad "the Containerfile does not build crates/kss-cli's kss binary"
fi
if grep -q '^USER [1-9]' deploy/Containerfile; then ok "runs as a non-root user"; else bad "no non-root USER"; fi

echo "== kss serve flags used by the deployment files"
kss=${KSS_BIN:-${CARGO_TARGET_DIR:-target}/debug/kss}
[ -x "$kss" ] || cargo build --quiet --locked -p kss --bin kss
if help=$("$kss" serve --help 2>&1); then
  flags=$( (grep -o -- '- --[a-z-]*' deploy/kubernetes/deployment.yaml | sed 's/^- //'
            grep -o -- '"--[a-z-]*' deploy/Containerfile | tr -d '"') | sort -u)
  for f in $flags; do
    if grep -q -- "$f" <<<"$help"; then ok "kss serve takes $f"; else bad "kss serve --help does not list $f"; fi
  done
else
  bad "kss serve --help failed: $help"
fi

echo "check-deploy: $pass passed, $fail failed"
[ "$fail" = 0 ]
