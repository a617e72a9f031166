#!/usr/bin/env bash
# The main job: a complete KSS flow in simulation (no SGX hardware needed).
#
#   build   an Occlum-style instance with KSS IDs is measured and signed
#   run     it is launched with a CONFIGID and CONFIGSVN (the RFC's example)
#   attest  the workload gets a DCAP quote; kss inspects and verifies it with a KSS policy,
#           then attests it through `kss serve`, which answers with a signed EAR token
#   seal    data sealed at one CONFIGSVN is read after an upgrade, not by a downgrade or
#           another configuration, and resealed forward
#
# Everything happens in a fresh temporary directory; KSS_HOME points there too, so the
# simulated CA and keys of this run do not touch ~/.local/share/kss. The directory (some 60 MB)
# is removed when the demo ends, however it ends; KSS_DEMO_KEEP=1 keeps it to look at.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
expect_fail() { # expect_fail STATUS CMD... : the command must exit with STATUS
  local want=$1; shift
  set +e; "$@"; local got=$?; set -e
  if [ "$got" != "$want" ]; then echo "demo: expected exit $want, got $got: $*" >&2; exit 1; fi
  echo "(exit $got, as expected)"
}

step "building kss (release)"
cargo build --release --locked -p kss
cargo build --release --locked -p kss-service --example dcap_test
KSS=$ROOT/target/release/kss
DCAP_TEST=$ROOT/target/release/examples/dcap_test

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kss-demo.XXXXXX")
SERVE_PID=
cleanup() {
  if [ -n "$SERVE_PID" ]; then kill -TERM "$SERVE_PID" 2>/dev/null || true; fi
  cd "$ROOT"
  if [ "${KSS_DEMO_KEEP:-0}" = 1 ]; then
    echo "demo: work files kept in $WORK (KSS_DEMO_KEEP=1)"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
export KSS_HOME=$WORK/kss-home
echo "working in $WORK (removed at the end; KSS_DEMO_KEEP=1 keeps it)"
cd "$WORK"

step "kss new: an instance with KSS enabled"
"$KSS" new app
python3 - <<'PY'
import json
p = "app/Occlum.json"
c = json.load(open(p))
m = c["metadata"]
m.update(product_id=1, version_number=1, debuggable=False, enable_kss=True)
m["family_id"] = {"high": "0x3", "low": "0x4"}
m["ext_prod_id"] = {"high": "0x1", "low": "0x2"}
json.dump(c, open(p, "w"), indent=4)
PY
grep -A9 '"metadata"' app/Occlum.json
cp "$DCAP_TEST" app/image/bin/dcap_test
cp "$KSS" app/image/bin/kss

step "kss keygen + kss build: SGXS, MRENCLAVE, SIGSTRUCT with KSS fields, Enclave.xml"
"$KSS" keygen --out signing-key.pem
"$KSS" build app --key signing-key.pem
"$KSS" inspect sigstruct app/build/enclave.sig | sed -n 1,20p
"$KSS" measure app/build/enclave.sgxs

step "kss run: the RFC's example, kss run --config-id \"\$(base64 64.bin)\" --config-svn 0x12ab -- /bin/dcap_test"
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(0x40, 0x80)))' > 64.bin
DCAP_TEST_QUOTE=$WORK/quote.bin "$KSS" run app --config-id "$(base64 64.bin)" --config-svn 0x12ab -- /bin/dcap_test

step "fail-closed launch: a 65-byte config ID and an out-of-range SVN are refused"
head -c 65 /dev/zero > 65.bin
expect_fail 121 "$KSS" run app --config-id "$(base64 65.bin)" -- /bin/dcap_test
expect_fail 121 "$KSS" run app --config-svn 70000 -- /bin/dcap_test

step "kss quote inspect"
"$KSS" quote inspect quote.bin

step "kss verify: full DCAP verification against the simulation CA, plus a KSS policy"
"$KSS" sim-ca export sim-ca
"$KSS" policy from-instance app --config-id "$(base64 64.bin)" --min-config-svn 0x12ab > policy.json
cat policy.json
"$KSS" verify quote.bin --collateral sim-ca/collateral.json --trust-root sim-ca/root.pem --policy policy.json
echo "-- without the simulation root, a simulated quote is never accepted:"
expect_fail 1 "$KSS" verify quote.bin --collateral sim-ca/collateral.json --policy policy.json
echo "-- a policy that requires a newer CONFIGSVN rejects it:"
"$KSS" policy from-instance app --config-id "$(base64 64.bin)" --min-config-svn 0x12ac > policy-newer.json
expect_fail 1 "$KSS" verify quote.bin --collateral sim-ca/collateral.json --trust-root sim-ca/root.pem --policy policy-newer.json

step "kss serve: the attestation service; the demo's quote is attested through it"
"$KSS" token keygen --out token-key.pem
mkdir -p policies
cp policy.json policies/app.json
cp policy-newer.json policies/newer.json
"$KSS" serve --listen 127.0.0.1:0 --signing-key token-key.pem --policy-dir policies \
  --collateral sim-ca/collateral.json --trust-root sim-ca/root.pem --log-level warn \
  > serve.out 2> serve.log &
SERVE_PID=$!
for _ in $(seq 100); do grep -q listening serve.out 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^kss serve: listening on //p' serve.out)
echo "kss serve is listening on $URL"
"$KSS" attest quote.bin --server "$URL" --policy app --nonce --token-out token.jwt
echo "-- the token (an EAR JWT) verifies against the service's JWKS:"
"$KSS" token verify token.jwt --jwks "$URL/.well-known/jwks.json"
echo "-- the stricter policy rejects it through the service too:"
expect_fail 1 "$KSS" attest quote.bin --server "$URL" --policy newer --token-out token-newer.jwt
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
SERVE_PID=
echo "(kss serve stopped cleanly)"

step "sealing: CONFIGSVN upgrades keep data readable, downgrades and other configs cannot read it"
echo "the database password" > secret.txt
run_at() { local svn=$1; shift; "$KSS" run -q app --config-id "$(base64 64.bin)" --config-svn "$svn" -- /bin/kss "$@"; }
run_at 0x12ab enclave seal "$WORK/secret.txt" "$WORK/secret.sealed"
"$KSS" inspect sealed secret.sealed
echo "-- v2 (CONFIGSVN 0x12ac) reads data sealed by v1:"
run_at 0x12ac enclave unseal "$WORK/secret.sealed" "$WORK/out.txt"
cat out.txt
echo "-- an older CONFIGSVN (0x12aa) cannot:"
expect_fail 1 run_at 0x12aa enclave unseal "$WORK/secret.sealed" "$WORK/out2.txt"
echo "-- another CONFIGID cannot:"
printf 'another configuration' > other.bin
expect_fail 1 "$KSS" run -q app --config-id "$(base64 other.bin)" --config-svn 0x12ab -- /bin/kss enclave unseal "$WORK/secret.sealed" "$WORK/out3.txt"
echo "-- v2 reseals forward; after that v1 can no longer read it:"
run_at 0x12ac enclave reseal "$WORK/secret.sealed" "$WORK/secret.sealed"
expect_fail 1 run_at 0x12ab enclave unseal "$WORK/secret.sealed" "$WORK/out4.txt"
run_at 0x12ac enclave unseal "$WORK/secret.sealed" "$WORK/out5.txt"
cat out5.txt

step "done: the complete KSS flow ran in simulation"
