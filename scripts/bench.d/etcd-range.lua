-- wrk script: etcd v3 JSON gateway range request for the key "bench-get".
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"key":"YmVuY2gtZ2V0"}'
