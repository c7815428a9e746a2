-- wrk script: each request carries the cookie of the next of N logged-in sessions
-- (file from loadgen --sessions N --out FILE, path in the COOKIES env variable).
-- The requests are formatted once in init: formatting one per request in Lua
-- would spend the load generator's share of the two cores on string building.
local requests = {}
local i = 0

function init(args)
  for line in io.lines(os.getenv("COOKIES")) do
    if #line > 0 then
      requests[#requests + 1] = wrk.format("GET", wrk.path, { ["Cookie"] = line, ["Accept"] = "application/json" })
    end
  end
  i = math.random(#requests)
end

function request()
  i = i % #requests + 1
  return requests[i]
end
