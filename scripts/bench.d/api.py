#!/usr/bin/env python3
"""Benchmark helpers driven by scripts/bench: seeding, LIST timing and watch fan-out.

Talks HTTPS to a Berth server (or anything speaking the Kubernetes API) with the bearer
token and CA from a kubeconfig. Prints one JSON object per measurement on stdout.
"""
import base64
import concurrent.futures
import http.client
import json
import os
import ssl
import statistics
import sys
import tempfile
import threading
import time

import yaml  # shipped with the kubernetes client package


def load(kubeconfig):
    with open(kubeconfig) as f:
        cfg = yaml.safe_load(f)
    cluster = cfg["clusters"][0]["cluster"]
    server = cluster["server"].removeprefix("https://")
    host, port = server.rsplit(":", 1)
    ca = base64.b64decode(cluster["certificate-authority-data"])
    cafile = tempfile.NamedTemporaryFile(delete=False, suffix=".crt")
    cafile.write(ca)
    cafile.close()
    ctx = ssl.create_default_context(cafile=cafile.name)
    token = cfg["users"][0]["user"]["token"]
    return host, int(port), ctx, token


class Conn:
    def __init__(self, target):
        self.host, self.port, self.ctx, self.token = target
        self.c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx)

    def req(self, method, path, body=None):
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        data = json.dumps(body).encode() if body is not None else None
        self.c.request(method, path, body=data, headers=headers)
        r = self.c.getresponse()
        return r.status, r.read()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def seed(target, namespace, count, workers=8):
    c = Conn(target)
    c.req("POST", "/api/v1/namespaces", {"metadata": {"name": namespace}})

    def worker(idx):
        conn = Conn(target)
        for i in range(idx, count, workers):
            body = {"metadata": {"name": f"cm-{i:06d}", "labels": {"bench": "list", "mod": str(i % 10)}},
                    "data": {"key": "value-%d" % i}}
            status, _ = conn.req("POST", f"/api/v1/namespaces/{namespace}/configmaps", body)
            if status not in (201, 409):
                raise SystemExit(f"seed failed: HTTP {status}")

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        list(ex.map(worker, range(workers)))
    elapsed = time.monotonic() - start
    print(json.dumps({"measure": "seed", "objects": count, "seconds": round(elapsed, 3),
                      "creates_per_s": round(count / elapsed, 1)}))


def list_time(target, namespace, rounds=10, selector=None):
    c = Conn(target)
    times = []
    n = 0
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    if selector:
        path += "?labelSelector=" + selector
    for _ in range(rounds):
        t = time.monotonic()
        status, body = c.req("GET", path)
        times.append((time.monotonic() - t) * 1000)
        if status != 200:
            raise SystemExit(f"list failed: HTTP {status}")
        n = len(json.loads(body)["items"])
    print(json.dumps({"measure": "list", "selector": selector, "items": n,
                      "p50_ms": round(pct(times, 50), 1), "p99_ms": round(pct(times, 99), 1)}))


def watch_fanout(target, namespace, watchers=100, events=50):
    c = Conn(target)
    c.req("POST", "/api/v1/namespaces", {"metadata": {"name": namespace}})
    status, body = c.req("GET", f"/api/v1/namespaces/{namespace}/configmaps")
    rv = json.loads(body)["metadata"]["resourceVersion"]
    received = {}  # name -> list of arrival times
    lock = threading.Lock()
    ready = threading.Barrier(watchers + 1)

    def watch():
        host, port, ctx, token = target
        w = http.client.HTTPSConnection(host, port, context=ctx)
        w.request("GET", f"/api/v1/namespaces/{namespace}/configmaps?watch=true&resourceVersion={rv}",
                  headers={"Authorization": f"Bearer {token}"})
        r = w.getresponse()
        ready.wait()
        seen = 0
        while seen < events:
            line = r.readline()
            if not line:
                break
            ev = json.loads(line)
            if ev["type"] != "ADDED":
                continue
            t = time.monotonic()
            with lock:
                received.setdefault(ev["object"]["metadata"]["name"], []).append(t)
            seen += 1

    threads = [threading.Thread(target=watch, daemon=True) for _ in range(watchers)]
    for t in threads:
        t.start()
    ready.wait()
    time.sleep(0.5)
    sent = {}
    for i in range(events):
        name = f"w-{i:04d}"
        t = time.monotonic()
        status, _ = c.req("POST", f"/api/v1/namespaces/{namespace}/configmaps", {"metadata": {"name": name}})
        sent[name] = t
        time.sleep(0.02)
    for t in threads:
        t.join(timeout=30)
    lat_all = []
    complete = []
    for name, t0 in sent.items():
        arrivals = received.get(name, [])
        lat_all += [(a - t0) * 1000 for a in arrivals]
        if len(arrivals) == watchers:
            complete.append((max(arrivals) - t0) * 1000)
    delivered = sum(len(v) for v in received.values())
    print(json.dumps({"measure": "watch_fanout", "watchers": watchers, "events": events,
                      "delivered": delivered, "expected": watchers * events,
                      "p50_ms": round(pct(lat_all, 50), 2) if lat_all else None,
                      "p99_ms": round(pct(lat_all, 99), 2) if lat_all else None,
                      "all_watchers_p99_ms": round(pct(complete, 99), 2) if complete else None}))


if __name__ == "__main__":
    cmd, kubeconfig = sys.argv[1], sys.argv[2]
    target = load(kubeconfig)
    if cmd == "seed":
        seed(target, sys.argv[3], int(sys.argv[4]))
    elif cmd == "list":
        list_time(target, sys.argv[3], selector=sys.argv[4] if len(sys.argv) > 4 else None)
    elif cmd == "watch":
        watch_fanout(target, sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        raise SystemExit(f"unknown command {cmd}")
