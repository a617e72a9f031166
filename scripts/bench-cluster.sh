#!/usr/bin/env bash
# The scale-out benchmark (docs/BENCHMARKS.md, "Scale-out"), all on 127.0.0.1, in one run:
#
#   single    one replica, no HAProxy                      throughput, p50/p99/p99.9
#   cluster   three replicas behind HAProxy                 the same, side by side
#   (single and cluster alternate for KSS_BENCH_ROUNDS rounds, default 2)
#   kill9     kill -9 of one replica in the middle          failures, and why
#   sigterm   SIGTERM of one replica in the middle          failures (graceful drain), exit status
#   reload    new policy + SIGHUP to every replica          old/new verdict overlap
#   pccs      replicas on the stand-in PCCS, PCCS killed    failures with a warm cache
#
# Every run checks every verdict (--expect, or the before/after split for reload) and a sample
# of the tokens (every 5th answer) against the JWKS served through the same URL.
#
#   scripts/bench-cluster.sh [SECONDS]     (default 20 per run, + 2 s warm-up)
#
# Environment: KSS_BENCH_CONNECTIONS (32), KSS_BENCH_THREADS (1, the load driver's threads),
# KSS_BENCH_ROUNDS (2), KSS_BENCH_OUT (a directory to keep the JSON summaries in),
# KSS_CLUSTER_PORT_BASE (18480). Bounded: 2,000,000 requests and SECONDS per run; cleans up.
source "$(dirname "$0")/cluster-lib.sh"
SECS=${1:-20}
HALF=$(python3 -c "print($SECS / 2)")
ROUNDS=${KSS_BENCH_ROUNDS:-2}
LB=http://127.0.0.1:$LB_PORT
R1=http://127.0.0.1:$(replica_port 1)
RESULTS=$WORK/results.txt
status=0

need_tools
make_material
log "work dir $WORK; $(nproc) cores; load: ${KSS_BENCH_CONNECTIONS:-32} connections," \
  "${KSS_BENCH_THREADS:-1} driver thread(s), $SECS s per run after ${KSS_BENCH_WARMUP:-2} s warm-up"
log "kss $("$KSS" --version 2>/dev/null | sed -n 1p); $(haproxy -v | sed -n 1p)"

for n in 1 2 3; do start_replica "$n"; done
start_haproxy

row() { # row LABEL NOTE
  printf '| %-9s | %8s | %8s | %6s | %7s | %7s | %7s | %6s | %s |\n' "$1" \
    "$(field "$1" 's["requests"]')" "$(field "$1" 's["failed"]')" "$(field "$1" 'round(s["rps"])')" \
    "$(field "$1" '"%.2f" % (s["latency_us"]["p50"]/1000)')" \
    "$(field "$1" '"%.2f" % (s["latency_us"]["p99"]/1000)')" \
    "$(field "$1" '"%.2f" % (s["latency_us"]["p999"]/1000)')" \
    "$(field "$1" '"%d/%d" % (s["tokens"]["check"]["valid"], s["tokens"]["check"]["checked"]) if s["tokens"]["check"] else "-"')" \
    "$2" >> "$RESULTS"
}
run_check() { # run_check LABEL: the run's own verdict (exit status of kss-loadtest)
  if ! finish_load "$1"; then
    echo "  run $1 FAILED its checks" >&2
    status=1
  fi
}

echo "| run       | requests |   failed |  ok/s | p50 ms  | p99 ms  | p99.9 ms| tokens | note |" > "$RESULTS"
echo "|-----------|---------:|---------:|------:|--------:|--------:|--------:|-------:|------|" >> "$RESULTS"

# measured LABEL URL NOTE: a fault-free run with CPU accounting: how the machine's CPU time was
# split between the replicas, HAProxy and the load driver, and verifications per replica
# CPU-second (the capacity model's unit).
measured() {
  local label=$1 url=$2 note=$3 r0 h0 r1 h1
  load "$label" "$url" "$SECS" --expect accepted --max-failures 0
  sleep "${KSS_BENCH_WARMUP:-2}"
  r0=$(cpu_seconds "${REPLICA_PID[@]}"); h0=$(cpu_seconds $HAPROXY_PID)
  run_check "$label"
  r1=$(cpu_seconds "${REPLICA_PID[@]}"); h1=$(cpu_seconds $HAPROXY_PID)
  local cpu
  cpu=$(python3 - "$WORK/$label.json" "$r0" "$r1" "$h0" "$h1" "$(nproc)" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
rep = float(sys.argv[3]) - float(sys.argv[2])
hap = float(sys.argv[5]) - float(sys.argv[4])
drv = s.get("driver_cpu_s") or 0
print("CPU s: replicas %.1f, HAProxy %.1f, driver %.1f of %.1f available; %.0f verifications per replica CPU-second"
      % (rep, hap, drv, int(sys.argv[6]) * s["duration_s"], s["ok"] / rep if rep else 0))
PY
)
  echo "  $cpu"
  row "$label" "$note; $cpu"
}

for round in $(seq 1 "$ROUNDS"); do
  log "round $round: one replica, direct"
  measured "single$round" "$R1" "replica 1 alone, no HAProxy"
  log "round $round: three replicas behind HAProxy"
  measured "cluster$round" "$LB" "3 replicas + HAProxy"
  lb_counters
done
# The same two configurations with wrk (an independent load generator; its Lua script cannot
# check tokens, so this only cross-checks throughput and latency).
if command -v wrk >/dev/null && [ "${KSS_BENCH_WRK:-1}" = 1 ]; then
  for target in "single:$R1" "cluster:$LB"; do
    name=${target%%:*}; url=${target#*:}
    log "wrk cross-check: $name"
    KSS_WRK_BODY=$WORK/body.json wrk -t "${KSS_BENCH_THREADS:-1}" -c "${KSS_BENCH_CONNECTIONS:-32}" \
      -d "${SECS}s" --timeout 10s -s "$ROOT/scripts/wrk-attest.lua" "$url/v1/attest" > "$WORK/wrk-$name.out"
    tail -1 "$WORK/wrk-$name.out" > "$WORK/wrk-$name.json"
    python3 - "$WORK/wrk-$name.json" "wrk-$name" >> "$RESULTS" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
print("| %-9s | %8d | %8d | %6.0f | %7.2f | %7.2f | %7.2f | %6s | %s |" % (
    sys.argv[2], w["requests"], w["non_2xx"] + w["socket_errors"], w["rps"], w["p50_us"] / 1000,
    w["p99_us"] / 1000, w["p999_us"] / 1000, "-", "wrk cross-check (no warm-up, no token check)"))
PY
    tail -1 "$RESULTS"
  done
fi

echo "  collateral cache over all replicas so far: $(metric kss_collateral_cache_hits_total) hits," \
  "$(metric kss_collateral_cache_misses_total) misses"

log "fault: kill -9 of replica 2 at $HALF s"
load kill9 "$LB" "$SECS" --expect accepted
sleep_into_run "$HALF"
t=$(now_ms); kill -9 "${REPLICA_PID[2]}"; { wait "${REPLICA_PID[2]}"; } 2>/dev/null || true; unset "REPLICA_PID[2]"
run_check kill9
echo "  killed at $(ms_since_start kill9 "$t") s; HAProxy:"; lb_counters
row kill9 "kill -9 replica 2 at $(ms_since_start kill9 "$t") s"
start_replica 2; wait_lb_up 3

log "fault: SIGTERM of replica 3 at $HALF s"
load sigterm "$LB" "$SECS" --expect accepted
sleep_into_run "$HALF"
t=$(now_ms)
stop_replica 3 TERM
exit3=$STOP_STATUS
t_exit=$(now_ms)
run_check sigterm
echo "  SIGTERM at $(ms_since_start sigterm "$t") s; replica 3 exited with status $exit3 after $((t_exit - t)) ms; HAProxy:"
lb_counters
[ "$exit3" = 0 ] || { echo "  replica 3 did not exit 0 on SIGTERM" >&2; status=1; }
row sigterm "SIGTERM replica 3 at $(ms_since_start sigterm "$t") s, exit $exit3 after $((t_exit - t)) ms"
start_replica 3; wait_lb_up 3

log "fault: policy reload on every replica at $HALF s (accept -> reject)"
load reload "$LB" "$SECS"
sleep_into_run "$HALF"
set_policy reject
t=$(now_ms)
kill -HUP "${REPLICA_PID[1]}" "${REPLICA_PID[2]}" "${REPLICA_PID[3]}"
run_check reload
overlap=$(python3 - "$WORK/reload.json" "$t" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
hup = (int(sys.argv[2]) - s["started_unix_ms"]) / 1000
v = s["verdicts"]
acc, rej = v.get("accepted"), v.get("rejected")
if not acc or not rej:
    print("no transition seen: %s" % v)
    sys.exit()
late_old = max(0.0, acc["last_ms"] / 1000 - hup)
mixed = max(0.0, acc["last_ms"] - rej["first_ms"])
print("SIGHUP at %.3f s; last old verdict %.1f ms after it; first new verdict at +%.1f ms;"
      " old and new overlapped for %.1f ms; new verdicts before the SIGHUP: %s"
      % (hup, late_old * 1000, rej["first_ms"] - hup * 1000, mixed,
         "none" if rej["first_ms"] >= hup * 1000 else "SOME"))
# The reload instant is bounded: a new verdict before the signal, or an old one more than a
# second after it (a replica that did not reload), is a failure.
if rej["first_ms"] < hup * 1000 or late_old > 1.0:
    print("FAILED: verdicts mixed beyond the reload instant")
PY
)
echo "  $overlap"
if grep -q FAILED <<<"$overlap"; then status=1; fi
row reload "policy reload at half time: $overlap"
set_policy accept
kill -HUP "${REPLICA_PID[1]}" "${REPLICA_PID[2]}" "${REPLICA_PID[3]}"

log "fault: the PCCS goes down with warm caches"
# Does this kss serve fetch from a PCCS? (The first cut of kss serve took --pccs but refused
# to start with it.) Probe with a throwaway instance on a free port.
probe=$("$KSS" serve --listen 127.0.0.1:0 --signing-key "$WORK/signing-key.pem" \
  --policy-dir "$WORK/policies" --pccs "http://127.0.0.1:$PCCS_PORT" --at "$AT" 2>&1 &
  pid=$!; sleep 1; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true)
if ! grep -q "listening on" <<<"$probe"; then
  msg=$(grep -v '^\s*$' <<<"$probe" | tail -1)
  echo "  NOT MEASURED: kss serve cannot use a PCCS in this build: $msg"
  echo "| pccs      |        - |        - |      - |       - |       - |       - |      - | not measured: $msg |" >> "$RESULTS"
else
for n in 1 2 3; do stop_replica "$n" TERM; done
start_pccs
for n in 1 2 3; do start_replica "$n" --pccs "http://127.0.0.1:$PCCS_PORT"; done
wait_lb_up 3
load pccs "$LB" "$SECS" --expect accepted
sleep_into_run "$HALF"
pccs_requests=$(curl -s "http://127.0.0.1:$PCCS_PORT/stats")
t=$(now_ms); stop_pccs
run_check pccs
echo "  PCCS killed at $(ms_since_start pccs "$t") s; it had answered: $pccs_requests"
lb_counters
row pccs "PCCS killed at $(ms_since_start pccs "$t") s (it had served $pccs_requests)"
fi

echo
echo "== results ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, ${KSS_BENCH_CONNECTIONS:-32} connections)"
cat "$RESULTS"
if [ -n "${KSS_BENCH_OUT:-}" ]; then
  mkdir -p "$KSS_BENCH_OUT"
  cp "$WORK"/*.json "$RESULTS" "$KSS_BENCH_OUT"/
  cp -r "$WORK/logs" "$KSS_BENCH_OUT"/
  log "summaries kept in $KSS_BENCH_OUT"
fi
exit "$status"
