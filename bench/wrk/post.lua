-- Posts a random mix of movements over a pool of product-locations (bench/movements.py draws
-- the same mix in Python). Each request carries its own Idempotency-Key.
--   wrk -s post.lua URL -- POOL_FILE TOKEN TAG RECEIPT_PERCENT ISSUE_PERCENT [OCCURRED_AT]   (transfers: the rest)
-- OCCURRED_AT, if given, is a business time in ISO 8601 (e.g. 2026-11-25T16:42:03.123456Z) put in
-- every body as "occurred_at": the movements are backdated to it. Without it they are dated now.
-- done() prints one line "BENCH {json}" with the status counts and latency percentiles.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

function init(args)
   pool = {}
   for line in io.lines(args[1]) do
      local product, location, other = line:match("(%d+) (%d+) (%d+)")
      pool[#pool + 1] = {product, location, other}
   end
   headers = {["Content-Type"] = "application/json", ["Authorization"] = "Token " .. args[2]}
   tag = args[3]
   receipt = tonumber(args[4])
   issue = tonumber(args[5])
   dated = ""
   if args[6] and args[6] ~= "" then
      dated = string.format(',"occurred_at":"%s"', args[6])
   end
   counter = 0
   statuses = {}
   math.randomseed(id * 7919 + os.time())
end

function request()
   counter = counter + 1
   local p = pool[math.random(#pool)]
   local roll = math.random(100)
   local body
   if roll <= receipt then
      body = string.format('{"kind":"receipt","product":%s,"location":%s,"quantity":"%d","unit_cost":"2.40"%s}',
                           p[1], p[2], math.random(5), dated)
   elseif roll <= receipt + issue then
      body = string.format('{"kind":"issue","product":%s,"location":%s,"quantity":"%d"%s}', p[1], p[2], math.random(5),
                           dated)
   else
      local from, to = p[2], p[3]
      if math.random(2) == 1 then from, to = to, from end
      body = string.format('{"kind":"transfer","product":%s,"from_location":%s,"to_location":%s,"quantity":"%d"%s}',
                           p[1], from, to, math.random(3), dated)
   end
   headers["Idempotency-Key"] = string.format("%s-%d-%d", tag, id, counter)
   return wrk.format("POST", nil, headers, body)
end

function response(status, response_headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local totals, counts = {}, {}
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses")) do
         totals[status] = (totals[status] or 0) + n
      end
   end
   for status, n in pairs(totals) do
      counts[#counts + 1] = string.format('"%d":%d', status, n)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH {"duration_us":%d,"requests":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d,"statuses":{%s}}\n',
      summary.duration, summary.requests, e.connect + e.read + e.write + e.timeout,
      latency:percentile(50), latency:percentile(99), table.concat(counts, ",")))
end
