#!/usr/bin/env bash
# CI-sized check of the scale-out setup (run by .ci/run; a few seconds): two `kss serve`
# replicas behind HAProxy with deploy/haproxy.cfg on 127.0.0.1, 4 s of load through HAProxy,
# one replica killed with SIGKILL at 2 s. Passes when no request failed, every verdict is the
# expected one and every sampled token verifies against the JWKS. Uses the debug build.
export KSS_CLUSTER_PROFILE=${KSS_CLUSTER_PROFILE:-debug}
export KSS_CLUSTER_PORT_BASE=${KSS_CLUSTER_PORT_BASE:-18580}
export KSS_BENCH_CONNECTIONS=${KSS_BENCH_CONNECTIONS:-8} KSS_BENCH_WARMUP=${KSS_BENCH_WARMUP:-0.5}
source "$(dirname "$0")/cluster-lib.sh"

need_tools
make_material
for n in 1 2; do start_replica "$n"; done
start_haproxy 2
load smoke "http://127.0.0.1:$LB_PORT" 4 --expect accepted --max-failures 0 --token-every 1
sleep_into_run 2
kill -9 "${REPLICA_PID[1]}"
{ wait "${REPLICA_PID[1]}"; } 2>/dev/null || true
unset "REPLICA_PID[1]"
st=0
finish_load smoke || st=$?
lb_counters
if [ "$st" = 0 ]; then
  echo "cluster smoke: 1 passed, 0 failed"
else
  echo "cluster smoke: 0 passed, 1 failed"
fi
exit "$st"
