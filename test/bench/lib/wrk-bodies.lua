-- wrk script: POSTs the bodies of a file (one per line) in order, each once, and stops sending
-- after WRK_REQUESTS answers. wrk itself runs for its whole -d duration, so the rate is taken from
-- the first request to the last awaited answer. Prints one JSON line with the figures at the end.
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_usec; } timeval;
  int gettimeofday(timeval *tv, void *tz);
]]
local function now_us()
  local tv = ffi.new("timeval")
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000000 + tonumber(tv.tv_usec)
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local bodies = {}
local next_body = 0
local limit = tonumber(os.getenv("WRK_REQUESTS"))
local path = os.getenv("WRK_PATH") or "/sns"
local headers = {
  ["Content-Type"] = "text/plain; charset=UTF-8",
  ["x-amz-sns-message-type"] = "Notification",
}
answered = 0
first_us = 0
last_us = 0

function init(args)
  for line in io.lines(os.getenv("WRK_BODIES")) do
    bodies[#bodies + 1] = line
  end
end

function request()
  if first_us == 0 then first_us = now_us() end
  next_body = next_body % #bodies + 1
  return wrk.format("POST", path, headers, bodies[next_body])
end

function response(status, headers, body)
  answered = answered + 1
  if answered == limit then
    last_us = now_us()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local thread = threads[1]
  local elapsed = thread:get("last_us") - thread:get("first_us")
  local errors = summary.errors
  io.write(string.format(
    '{"answered":%d,"elapsedUs":%d,"p50Us":%d,"p99Us":%d,"failed":%d}\n',
    thread:get("answered"), elapsed, latency:percentile(50), latency:percentile(99),
    errors.status + errors.connect + errors.read + errors.write + errors.timeout))
end
