-- POST a new invite, with an address no request has used before (a prefix per thread and run).
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("prefix", string.format("%d-%d-%d", os.time(), threads, math.random(1, 1000000000)))
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"data":{"type":"organization_invites","attributes":{"recipient_email":"w3-%s-%d@bench.test"}}}',
    prefix, counter)
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
    ["Content-Type"] = "application/vnd.api+json",
  }, body)
end

local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")

-- BENCH_DELAY_MS paces each connection.
function delay()
  return pause
end
