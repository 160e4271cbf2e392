-- wrk script: POST a ConfigMap with a unique name per request.
local thread_id = 0
function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end
function init(args)
  counter = 0
  prefix = "c" .. id .. "-"
  wrk.headers["Content-Type"] = "application/json"
end
request = function()
  counter = counter + 1
  local body = '{"metadata":{"name":"' .. prefix .. counter .. '"},"data":{"k":"v"}}'
  return wrk.format("POST", nil, nil, body)
end
