-- wrk script: a JSON merge patch of one ConfigMap per request, a new value each time (so
-- every request is a real write: new resourceVersion, fsync, watch event).
local thread_id = 0
function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end
function init(args)
  counter = 0
  wrk.headers["Content-Type"] = "application/merge-patch+json"
end
request = function()
  counter = counter + 1
  local body = '{"data":{"t' .. id .. '":"' .. counter .. '"}}'
  return wrk.format("PATCH", nil, nil, body)
end
