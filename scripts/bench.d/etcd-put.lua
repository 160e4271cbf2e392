-- wrk script: etcd v3 JSON gateway put of a unique key per request.
local thread_id = 0
function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end
function init(args)
  counter = 0
  wrk.headers["Content-Type"] = "application/json"
end
local b64chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local function enc(data)
  return ((data:gsub('.', function(x)
    local r, b = '', x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and '1' or '0') end
    return r
  end) .. '0000'):gsub('%d%d%d?%d?%d?%d?', function(x)
    if (#x < 6) then return '' end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == '1' and 2 ^ (6 - i) or 0) end
    return b64chars:sub(c + 1, c + 1)
  end) .. ({ '', '==', '=' })[#data % 3 + 1])
end
request = function()
  counter = counter + 1
  local key = enc("/registry/configmaps/bench/c" .. id .. "-" .. counter)
  local body = '{"key":"' .. key .. '","value":"' .. enc('{"metadata":{"name":"x"},"data":{"k":"v"}}') .. '"}'
  return wrk.format("POST", nil, nil, body)
end
