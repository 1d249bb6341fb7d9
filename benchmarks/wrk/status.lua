-- wrk script for benchmarks/bench_serve.py: optionally send a validator, count statuses.
--
--   WRK_IF_NONE_MATCH='"etag"' wrk -s benchmarks/wrk/status.lua http://127.0.0.1:PORT/feed.atom
--
-- With WRK_IF_NONE_MATCH set, every request carries `If-None-Match: <value>` (a reader
-- polling a feed it already has). done() prints one "status <code> <count>" line per
-- status, so the benchmark can check that it measured 304s (or 200s), not errors.

local etag = os.getenv("WRK_IF_NONE_MATCH")
if etag and etag ~= "" then
   wrk.headers["If-None-Match"] = etag
end

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   statuses = {}
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local total = {}
   for _, thread in ipairs(threads) do
      for code, count in pairs(thread:get("statuses")) do
         total[code] = (total[code] or 0) + count
      end
   end
   for code, count in pairs(total) do
      io.write(string.format("status %d %d\n", code, count))
   end
end
