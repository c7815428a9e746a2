-- wrk script: each request carries the cookie of the next of N logged-in sessions
-- (file from loadgen --sessions N --out FILE, path in the COOKIES env variable).
local cookies = {}
local i = 0

function init(args)
  for line in io.lines(os.getenv("COOKIES")) do
    if #line > 0 then cookies[#cookies + 1] = line end
  end
  i = math.random(#cookies)
end

function request()
  i = i % #cookies + 1
  return wrk.format("GET", wrk.path, { ["Cookie"] = cookies[i], ["Accept"] = "application/json" })
end
