-- GET with the bearer token from BENCH_TOKEN; BENCH_DELAY_MS paces each connection.
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Accept"] = "application/vnd.api+json"

local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")

function delay()
  return pause
end
