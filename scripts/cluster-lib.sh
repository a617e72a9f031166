# Shared by scripts/cluster-demo.sh and scripts/bench-cluster.sh (source it, do not run it).
#
# Runs `kss serve` replicas, HAProxy (deploy/haproxy.cfg itself) and the stand-in PCCS on
# loopback only, in a temporary directory, and removes everything on exit. The replicas
# verify the phala fixture quote with fixed collateral and a fixed --at time (no network),
# or, for the PCCS scenario, fetch collateral from the stand-in PCCS.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
TESTDATA=${KSS_TESTDATA:-$ROOT/testdata}
QUOTE=$TESTDATA/phala-dcap-qvl/sgx_quote
COLLATERAL=$TESTDATA/phala-dcap-qvl/sgx_quote_collateral.json
AT=1752919277 # 2025-07-19: the fixture collateral is valid then
PROFILE=${KSS_CLUSTER_PROFILE:-release} # the smoke test uses the debug build CI already made
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
KSS=$TARGET_DIR/$PROFILE/kss
LOADTEST=$TARGET_DIR/$PROFILE/kss-loadtest
PORT_BASE=${KSS_CLUSTER_PORT_BASE:-18480}
LB_PORT=$((PORT_BASE))
STATS_PORT=$((PORT_BASE + 4))
PCCS_PORT=$((PORT_BASE + 5))
replica_port() { echo $((PORT_BASE + $1)); } # replicas 1..3

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kss-cluster.XXXXXX")
declare -A REPLICA_PID=()
HAPROXY_PID=
PCCS_PID=

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }
now_ms() { date +%s%3N; }

cleanup() {
  local pid
  for pid in "${REPLICA_PID[@]}" $HAPROXY_PID $PCCS_PID; do
    kill -9 "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_tools() {
  if ! command -v haproxy >/dev/null; then
    log "haproxy is missing: installing Debian's package"
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
    else
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
    fi
  fi
  [ -f "$QUOTE" ] || { echo "fixture quote not found: $QUOTE (set KSS_TESTDATA)" >&2; exit 1; }
  log "building kss and kss-loadtest ($PROFILE)"
  if [ "$PROFILE" = release ]; then
    cargo build --release --locked -q -p kss -p kss-loadtest
  else
    cargo build --locked -q -p kss -p kss-loadtest
  fi
}

# The shared material every replica gets: one signing key, one nonce secret, one policy
# directory (a mounted volume or ConfigMap in a real deployment).
make_material() {
  mkdir -p "$WORK/policies" "$WORK/logs"
  "$KSS" token keygen --out "$WORK/signing-key.pem" >/dev/null # P-256, PKCS#8, mode 0600
  head -c 32 /dev/urandom > "$WORK/nonce-secret"
  chmod 600 "$WORK/nonce-secret"
  # The fixture platform is ConfigurationAndSWHardeningNeeded: `accept` takes it, `reject`
  # (the default policy) does not.
  printf '{"accepted_tcb_statuses": ["UpToDate", "ConfigurationAndSWHardeningNeeded"]}\n' > "$WORK/accept.json"
  printf '{"accepted_tcb_statuses": ["UpToDate"]}\n' > "$WORK/reject.json"
  set_policy accept
  python3 - "$QUOTE" > "$WORK/body.json" <<'PY'
import base64, json, sys
print(json.dumps({"quote": base64.b64encode(open(sys.argv[1], "rb").read()).decode(),
                  "policy_id": "bench"}))
PY
}

# set_policy accept|reject: replaces policies/bench.json atomically (write, then rename), as
# the kubelet swaps a ConfigMap volume, so a replica never reads half a file.
set_policy() {
  cp "$WORK/$1.json" "$WORK/policies/.bench.json.tmp"
  mv -f "$WORK/policies/.bench.json.tmp" "$WORK/policies/bench.json"
}

# port_free PORT: fails when something already listens on 127.0.0.1:PORT (a stale process
# would otherwise answer the health checks in a replica's place).
port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    echo "127.0.0.1:$1 is already in use; stop what listens there or set KSS_CLUSTER_PORT_BASE" >&2
    exit 1
  fi
}

# start_replica N [collateral-args...]: starts replica N and waits until /readyz is 200.
# Log level warn: at info, kss serve writes one line per request to stderr, which at
# thousands of requests per second is a cost of its own (KSS_BENCH_LOG_LEVEL=info for it).
start_replica() {
  local n=$1; shift
  local port; port=$(replica_port "$n")
  local src=("$@")
  [ ${#src[@]} -gt 0 ] || src=(--collateral "$COLLATERAL")
  port_free "$port"
  "$KSS" serve --listen "127.0.0.1:$port" --signing-key "$WORK/signing-key.pem" \
    --nonce-secret-file "$WORK/nonce-secret" --policy-dir "$WORK/policies" \
    "${src[@]}" --at "$AT" --log-level "${KSS_BENCH_LOG_LEVEL:-warn}" \
    >>"$WORK/logs/replica$n.log" 2>&1 &
  REPLICA_PID[$n]=$!
  wait_ready "127.0.0.1:$port" "replica $n"
  if ! kill -0 "${REPLICA_PID[$n]}" 2>/dev/null; then
    echo "replica $n exited, yet 127.0.0.1:$port answers; its log:" >&2
    cat "$WORK/logs/replica$n.log" >&2
    exit 1
  fi
}

wait_ready() { # wait_ready HOST:PORT NAME
  local i
  for i in $(seq 1 200); do
    if curl -sf -o /dev/null --max-time 1 "http://$1/readyz"; then return 0; fi
    sleep 0.05
  done
  echo "$2 did not become ready on $1; its log:" >&2
  tail -20 "$WORK/logs/"*.log >&2 || true
  exit 1
}

# stop_replica N SIGNAL: sends SIGNAL and waits for the process; STOP_STATUS is its exit
# status (128 + signal number when the signal killed it).
stop_replica() {
  local n=$1 sig=$2 pid=${REPLICA_PID[$1]}
  STOP_STATUS=0
  kill "-$sig" "$pid"
  wait "$pid" || STOP_STATUS=$?
  unset "REPLICA_PID[$n]"
}

start_haproxy() {
  port_free "$LB_PORT"
  port_free "$STATS_PORT"
  KSS_LB_BIND=127.0.0.1:$LB_PORT KSS_LB_STATS=127.0.0.1:$STATS_PORT \
    KSS_REPLICA1=127.0.0.1:$(replica_port 1) KSS_REPLICA2=127.0.0.1:$(replica_port 2) \
    KSS_REPLICA3=127.0.0.1:$(replica_port 3) \
    haproxy -db -f "$ROOT/deploy/haproxy.cfg" >>"$WORK/logs/haproxy.log" 2>&1 &
  HAPROXY_PID=$!
  wait_ready "127.0.0.1:$LB_PORT" "haproxy"
  wait_lb_up "${1:-3}"
}

# wait_lb_up N: waits until HAProxy's health checks see N replicas UP.
wait_lb_up() {
  local i
  for i in $(seq 1 100); do
    if [ "$(lb_up_count)" -ge "$1" ]; then return 0; fi
    sleep 0.1
  done
  echo "HAProxy does not see $1 replicas up" >&2
  exit 1
}

lb_up_count() {
  curl -s "http://127.0.0.1:$STATS_PORT/stats;csv" |
    awk -F, '$1 == "kss_replicas" && $2 ~ /^kss[0-9]$/ && $18 ~ /^UP/ { n++ } END { print n + 0 }'
}

# lb_mark: remembers HAProxy's counters now; lb_counters then prints what changed since:
# per replica, requests (stot), retries (wretr), redispatches (wredis), connection errors
# (econ), response errors (eresp), and the current health status.
lb_mark() { curl -s "http://127.0.0.1:$STATS_PORT/stats;csv" > "$WORK/lb-mark.csv"; }
lb_counters() {
  [ -s "$WORK/lb-mark.csv" ] || echo "# pxname,svname" > "$WORK/lb-mark.csv"
  curl -s "http://127.0.0.1:$STATS_PORT/stats;csv" |
    awk -F, 'FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
             $1 != "kss_replicas" { next }
             NR == FNR { for (k in col) base[$2, k] = $col[k]; next }
             { d = ""
               split("stot wretr wredis econ eresp", ks, " ")
               for (j = 1; j <= 5; j++) v[ks[j]] = $col[ks[j]] - base[$2, ks[j]]
               printf "  %-8s requests %-7d retries %-4d redispatches %-4d conn_errors %-4d resp_errors %-4d %s\n",
                 $2, v["stot"], v["wretr"], v["wredis"], v["econ"], v["eresp"], $col["status"] }' \
      "$WORK/lb-mark.csv" -
}

start_pccs() {
  port_free "$PCCS_PORT"
  python3 "$ROOT/scripts/pccs-standin.py" "$COLLATERAL" "$PCCS_PORT" >>"$WORK/logs/pccs.log" 2>&1 &
  PCCS_PID=$!
  local i
  for i in $(seq 1 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$PCCS_PORT/stats" && return 0
    sleep 0.05
  done
  echo "the stand-in PCCS did not start" >&2
  exit 1
}

stop_pccs() {
  kill -9 "$PCCS_PID" 2>/dev/null || true
  wait "$PCCS_PID" 2>/dev/null || true
  PCCS_PID=
}

# load LABEL URL SECONDS [extra kss-loadtest args...]: runs kss-loadtest in the background;
# LOAD_PID is its pid and $WORK/LABEL.json its summary.
load() {
  local label=$1 url=$2 secs=$3; shift 3
  [ -z "$HAPROXY_PID" ] || lb_mark
  "$LOADTEST" --label "$label" --url "$url/v1/attest" --body "$WORK/body.json" \
    --connections "${KSS_BENCH_CONNECTIONS:-32}" --threads "${KSS_BENCH_THREADS:-1}" \
    --warmup "${KSS_BENCH_WARMUP:-2}" --duration "$secs" --max-requests 2000000 \
    --nonce-every 100 --jwks-url "$url/.well-known/jwks.json" \
    --summary "$WORK/$label.json" "$@" >"$WORK/$label.out" 2>&1 &
  LOAD_PID=$!
}

# finish_load: waits for the load run; prints its report; returns its status.
finish_load() {
  local st=0
  wait "$LOAD_PID" || st=$?
  sed 's/^/  /' "$WORK/$1.out"
  return "$st"
}

# field LABEL EXPR: a value from a run's summary (a Python expression over `s`).
field() {
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$WORK/$1.json" "$2"
}

# ms_since_start LABEL UNIX_MS: the time of an event on the run's clock, in seconds.
ms_since_start() {
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("%.3f" % ((int(sys.argv[2]) - s["started_unix_ms"]) / 1000))' "$WORK/$1.json" "$2"
}

# Seconds from the load's start to its recorded part (warm-up) plus an offset.
# (Two sleeps, no arithmetic: a process started under full load, such as python3, can take
# a noticeable time to run.)
sleep_into_run() { sleep "${KSS_BENCH_WARMUP:-2}"; sleep "$1"; }

# CPU seconds (user + system) used so far by the given pids (the ones still alive).
cpu_seconds() {
  local pid t=0
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    t=$((t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
  done
  python3 -c "print($t / $(getconf CLK_TCK))"
}

# metric NAME: the sum of a counter over the running replicas' /metrics.
metric() {
  local n t=0 v
  for n in "${!REPLICA_PID[@]}"; do
    v=$(curl -s --max-time 2 "http://127.0.0.1:$(replica_port "$n")/metrics" |
      awk -v m="$1" '$1 == m { print $2 }')
    t=$(python3 -c "print(int($t + float('${v:-0}')))")
  done
  echo "$t"
}
