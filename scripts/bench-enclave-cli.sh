#!/usr/bin/env bash
# Operations per second of `kss enclave quote` and `kss enclave seal`/`unseal` (1 KiB) as a
# workload calls them: whole `kss` processes talking to the enclave service of one `kss run`,
# with 1 and 2 client loops in parallel. Run after `cargo build --release -p kss`.
set -euo pipefail
cd "$(dirname "$0")/.."
KSS=$PWD/target/release/kss
N=${N:-200}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
export KSS_HOME=$W/home; mkdir -p "$KSS_HOME"
cp testdata/fortanix-rust-sgx/sgxs-sign/sig1.key.pem "$KSS_HOME/dev-signing-key.pem"
"$KSS" new "$W/app" >/dev/null
python3 - "$W/app/Occlum.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["metadata"]["enable_kss"] = True; json.dump(c, open(sys.argv[1], "w"))
PY
cp "$KSS" "$W/app/image/bin/kss"
head -c 1024 /dev/urandom > "$W/in.bin"
cat > "$W/app/image/bin/loop" <<'SH'
#!/bin/sh
# loop OP N TAG; any failed operation ends the loop with an error
set -eu
op=$1; n=$2; tag=$3; i=0
case $op in
  unseal) kss enclave seal "$W/in.bin" "$W/s.$tag" ;;
esac
start=$(date +%s.%N)
while [ $i -lt $n ]; do
  case $op in
    quote) kss enclave quote --out "$W/q.$tag" ;;
    seal) kss enclave seal "$W/in.bin" "$W/s.$tag" ;;
    unseal) kss enclave unseal "$W/s.$tag" "$W/o.$tag" ;;
    *) echo "loop: unknown operation $op" >&2; exit 2 ;;
  esac
  i=$((i+1))
done
end=$(date +%s.%N)
echo "$start $end"
SH
cat > "$W/app/image/bin/par" <<'SH'
#!/bin/sh
# par OP N PAR: PAR loops in parallel, then their start/end times; fails if any loop failed
set -eu
pids=
for t in $(seq "$3"); do loop "$1" "$2" "$t" > "$W/t.$t" & pids="$pids $!"; done
failed=0
for p in $pids; do wait "$p" || failed=$((failed+1)); done
if [ "$failed" -ne 0 ]; then echo "par: $failed of $3 $1 loop(s) failed" >&2; exit 1; fi
for t in $(seq "$3"); do cat "$W/t.$t"; done
SH
chmod +x "$W/app/image/bin/loop" "$W/app/image/bin/par"
"$KSS" build "$W/app" >/dev/null
export W
for op in quote seal unseal; do
  for par in 1 2; do
    out=$("$KSS" run -q "$W/app" --config-svn 1 -- /bin/par "$op" "$N" "$par")
    python3 - "$op" "$par" "$N" <<PY
import sys
op, par, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
spans = [tuple(map(float, l.split())) for l in """$out""".strip().splitlines()]
wall = max(e for s, e in spans) - min(s for s, e in spans)
print(f"kss enclave {op:<7} {par} loop(s): {par*n/wall:8.0f} ops/s  ({wall/(n)*1000:.2f} ms per op per loop)")
PY
  done
done
