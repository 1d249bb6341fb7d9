-- wrk script for reliability/load_reload.py: many paths, some gzip, some revalidating;
-- counts every status and prints them as "status <code> <count>" lines at the end.
--
--   WRK_PATHS=/tmp/paths.txt wrk -s reliability/paths.lua http://127.0.0.1:PORT
--
-- WRK_PATHS names a file with one request a line: "<path> <accept-encoding|-> <etag|->"
-- (the script writes it from the Site). Each wrk thread walks the list from its own
-- offset, so the connections hit every path, output kind and encoding all the time.

local requests = {}
local threads = {}
local counter = 0

local function load(file)
   for line in io.lines(file) do
      local path, encoding, etag = line:match("^(%S+) (%S+) (%S+)$")
      local headers = {}
      if encoding ~= "-" then headers["Accept-Encoding"] = encoding end
      if etag ~= "-" then headers["If-None-Match"] = etag end
      table.insert(requests, wrk.format("GET", path, headers))
   end
end

function setup(thread)
   thread:set("offset", #threads * 7)
   table.insert(threads, thread)
end

function init(args)
   load(os.getenv("WRK_PATHS"))
   statuses = {}
   counter = offset or 0
end

function request()
   counter = counter + 1
   return requests[counter % #requests + 1]
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
