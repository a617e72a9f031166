#!/usr/bin/env bash
# CI-sized check of the scale-out setup (run by .ci/run; about 20 s with the debug build):
# two `kss serve` replicas behind HAProxy with deploy/haproxy.cfg on 127.0.0.1, getting their
# collateral from the stand-in PCCS (scripts/pccs-standin.py: the fixture collateral with the
# PCS v4 API). Each replica's cache is warmed with one attestation, then 4 s of load through
# HAProxy: the PCCS is killed at 1 s and one replica with SIGKILL at 2 s. Passes when no
# request failed, every verdict is the expected one, every sampled token verifies against the
# JWKS, and the surviving replica had no collateral fetch error (all from its cache).
export KSS_CLUSTER_PROFILE=${KSS_CLUSTER_PROFILE:-debug}
export KSS_CLUSTER_PORT_BASE=${KSS_CLUSTER_PORT_BASE:-18580}
export KSS_BENCH_CONNECTIONS=${KSS_BENCH_CONNECTIONS:-8} KSS_BENCH_WARMUP=${KSS_BENCH_WARMUP:-0.5}
# Every answer's token is checked (--token-every 1); a slow CI machine with the debug build
# still answers far more than 100 requests in 4 s.
export KSS_BENCH_MIN_TOKENS=${KSS_BENCH_MIN_TOKENS:-100}
source "$(dirname "$0")/cluster-lib.sh"

need_tools
make_material
start_pccs
for n in 1 2; do start_replica "$n" --pccs "http://127.0.0.1:$PCCS_PORT" --timeout 5; done
start_haproxy 2
for n in 1 2; do warm_replica "$n"; done
warm_fetches=$(pccs_requests)
load smoke "http://127.0.0.1:$LB_PORT" 4 --expect accepted --max-failures 0 --token-every 1
sleep_into_run 1
stop_pccs
sleep 1
kill -9 "${REPLICA_PID[1]}"
{ wait "${REPLICA_PID[1]}"; } 2>/dev/null || true
unset "REPLICA_PID[1]"
st=0
finish_load smoke || st=$?
lb_counters
fetch_errors=$(metric kss_collateral_fetch_errors_total)
misses=$(metric kss_collateral_cache_misses_total)
echo "  the PCCS answered $warm_fetches requests while the replicas warmed, then was killed;" \
  "replica 2: $(metric kss_collateral_cache_hits_total) cache hits, $misses misses, $fetch_errors fetch errors"
if [ "$fetch_errors" != 0 ] || [ "$misses" != 1 ]; then
  echo "  FAIL: replica 2 should have fetched once (warming) and never failed to fetch" >&2
  st=1
fi
if [ "$st" = 0 ]; then
  echo "cluster smoke: 1 passed, 0 failed"
else
  echo "cluster smoke: 0 passed, 1 failed"
fi
exit "$st"
