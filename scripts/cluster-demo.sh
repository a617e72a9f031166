#!/usr/bin/env bash
# Three `kss serve` replicas behind HAProxy (deploy/haproxy.cfg) on 127.0.0.1, a load test
# through HAProxy, and one replica killed (kill -9) in the middle of it. Prints requests,
# failures and latency, and HAProxy's retry counters. Cleans up after itself.
#
#   scripts/cluster-demo.sh [SECONDS]        (default 20; the kill comes at half time)
#
# Bounded: at most SECONDS (+2 s warm-up) of load and 2,000,000 requests, all to loopback.
# HAProxy is installed from Debian's packages if it is missing. The full benchmark with every
# fault is scripts/bench-cluster.sh (docs/BENCHMARKS.md, "Scale-out").
source "$(dirname "$0")/cluster-lib.sh"
SECS=${1:-20}

need_tools
make_material
log "starting 3 replicas and HAProxy on 127.0.0.1 (work dir $WORK)"
for n in 1 2 3; do start_replica "$n"; done
start_haproxy
log "HAProxy sees $(lb_up_count) replicas up; load: ${KSS_BENCH_CONNECTIONS:-32} connections for $SECS s"

LB=http://127.0.0.1:$LB_PORT
load demo "$LB" "$SECS" --expect accepted
sleep_into_run "$(python3 -c "print($SECS / 2)")"
t_kill=$(now_ms)
kill -9 "${REPLICA_PID[2]}"
log "kill -9 replica 2"
{ wait "${REPLICA_PID[2]}"; } 2>/dev/null || true
unset "REPLICA_PID[2]"
st=0
finish_load demo || st=$?
echo "  replica 2 killed at $(ms_since_start demo "$t_kill") s of the run"
echo "HAProxy, per replica:"
lb_counters
echo
echo "requests $(field demo 's["requests"]'), failed $(field demo 's["failed"]'), throughput $(field demo 'round(s["rps"])')/s," \
  "p50 $(field demo 's["latency_us"]["p50"]/1000') ms, p99 $(field demo 's["latency_us"]["p99"]/1000') ms," \
  "p99.9 $(field demo 's["latency_us"]["p999"]/1000') ms"
exit "$st"
