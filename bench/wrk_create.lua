-- wrk script for bench/api.py: every request POSTs a new pod with a unique name.
--
--   wrk -t1 -c64 -d8s --latency --timeout 10s \
--       -H "Authorization: Bearer TOKEN" -s bench/wrk_create.lua \
--       https://127.0.0.1:PORT/api/v1/namespaces/default/pods -- RUNPREFIX [NAMESPACE]
--
-- Names are RUNPREFIX-THREAD-N: the run prefix (unique per wrk invocation, passed after `--`),
-- the thread's number (given to each thread by setup) and a per-thread counter, so no two
-- requests of a run, nor of two runs against the same server, name the same pod.
-- The pod has the shape of bench/_server.py's pod_body (one container with requests, labels).
-- done() prints one line "WRKJSON {...}" with the counts and the latency percentiles in
-- microseconds; bench/api.py parses it.

local thread_number = 0

function setup(thread)
   thread:set("tid", thread_number)
   thread_number = thread_number + 1
end

local n = 0
local prefix = "bench-0-"
local namespace = "default"
local template = nil

function init(args)
   local run = args[1] or "bench"
   namespace = args[2] or "default"
   prefix = run .. "-" .. tostring(tid or 0) .. "-"
   wrk.method = "POST"
   wrk.path = "/api/v1/namespaces/" .. namespace .. "/pods"
   wrk.headers["Content-Type"] = "application/json"
   template = '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"' .. namespace ..
      '","labels":{"app":"bench","tier":"backend"}},"spec":{"containers":[{"name":"app",' ..
      '"image":"registry.example/bench/app:1.0","resources":{"requests":{"cpu":"100m","memory":"64Mi"}}}]}}'
end

function request()
   n = n + 1
   return wrk.format(nil, nil, nil, string.format(template, prefix .. n))
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max, latency.mean))
end
