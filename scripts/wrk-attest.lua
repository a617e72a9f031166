-- wrk script for POST /v1/attest (scripts/bench-cluster.sh: the cross-check of kss-loadtest's
-- figures with an independent load generator). The body is read from the file named by the
-- KSS_WRK_BODY environment variable. At the end it prints one JSON line with throughput,
-- latency percentiles (p99.9 included, which wrk's own report lacks) and error counts
-- (`status` counts answers other than 2xx/3xx).
local f = assert(io.open(os.getenv("KSS_WRK_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "rps": %.1f, "p50_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d, ' ..
    '"non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.requests / secs, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
