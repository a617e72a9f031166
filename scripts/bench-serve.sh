#!/usr/bin/env bash
# kss serve throughput, in one run on this machine: POST /v1/attest through HTTP (verification +
# EAR token signing) with the load generator on the same machine, next to the in-process warm
# verifier and dcap-qvl in process (single thread, interleaved), and the in-process cost of one
# attestation with its token. Results go into docs/BENCHMARKS.md by hand.
#
#   ./scripts/bench-serve.sh                 # defaults: N=4000, DURATION=10, CONCURRENCY="1 4 16"
#   DURATION=20 CONCURRENCY="8" WORKERS=2 ./scripts/bench-serve.sh
#
# Only loopback is used; the service is stopped at the end (SIGTERM).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${N:-4000}
DURATION=${DURATION:-10}
CONCURRENCY=${CONCURRENCY:-1 4 16}
WORKERS=${WORKERS:-$(nproc)}

cargo build --release --locked -p kss
cargo build --release --locked -p kss-serve --example loadgen --example attest_inproc
cargo build --release --locked -p kss-attest --example verify_loop
KSS=$ROOT/target/release/kss
LOADGEN=$ROOT/target/release/examples/loadgen

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kss-bench-serve.XXXXXX")
PID=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" || true; fi
}
trap cleanup EXIT

"$KSS" token keygen --out "$WORK/key.pem" >/dev/null
mkdir "$WORK/policies"
echo '{"accepted_tcb_statuses": ["UpToDate", "ConfigurationAndSWHardeningNeeded"]}' > "$WORK/policies/lenient.json"
"$KSS" serve --listen 127.0.0.1:0 --signing-key "$WORK/key.pem" --policy-dir "$WORK/policies" \
  --collateral testdata/phala-dcap-qvl/sgx_quote_collateral.json --at 1752919277 \
  --workers "$WORKERS" --log-level warn > "$WORK/serve.out" 2> "$WORK/serve.log" &
PID=$!
for _ in $(seq 100); do grep -q listening "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^kss serve: listening on //p' "$WORK/serve.out")
echo "service: $URL (pid $PID, $WORKERS verification workers), machine: $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== in process, single thread, interleaved (dcap-qvl vs kss)"
"$ROOT/target/release/examples/verify_loop" both "$N"
"$ROOT/target/release/examples/attest_inproc" "$N"

for c in $CONCURRENCY; do
  echo "== HTTP: POST /v1/attest, concurrency $c, ${DURATION}s (after 1 s warm-up)"
  "$LOADGEN" --url "$URL" --quote testdata/phala-dcap-qvl/sgx_quote --policy lenient \
    --concurrency "$c" --duration "$DURATION" --save-tokens "$WORK/tokens-$c.txt" --sample 5
done

echo "== in process again (drift check)"
"$ROOT/target/release/examples/verify_loop" both "$N"

echo "== a sampled token verifies against the service's JWKS"
head -1 "$WORK/tokens-${CONCURRENCY##* }.txt" > "$WORK/token.txt"
"$KSS" token verify "$WORK/token.txt" --jwks "$URL/.well-known/jwks.json"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
