#!/usr/bin/env python3
"""Pod start latency on a node runtime, driven by scripts/bench.

Creates N pods (a `sleep` container with a readiness probe that passes at once) in a fresh
namespace with 8 concurrent clients, watches them, and times, per pod, from the moment the
watch shows it bound to a node (`spec.nodeName`) to the moment it shows phase Running and
condition Ready. Prints one JSON object with p50/p99 of both.
"""
import http.client
import json
import statistics
import sys
import threading
import time
import concurrent.futures

sys.path.insert(0, __import__("os").path.dirname(__file__))
from api import Conn, load  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000, 1)


def main():
    kubeconfig, ns, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    target = load(kubeconfig)
    c = Conn(target)
    c.req("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
    bound, running, ready = {}, {}, {}
    done = threading.Event()

    def watch():
        host, port, ctx, token = target
        w = http.client.HTTPSConnection(host, port, context=ctx)
        w.request("GET", f"/api/v1/namespaces/{ns}/pods?watch=true", headers={"Authorization": f"Bearer {token}"})
        r = w.getresponse()
        while True:
            line = r.readline()
            if not line:
                return
            ev = json.loads(line)
            now = time.monotonic()
            pod = ev["object"]
            name = pod["metadata"]["name"]
            if pod.get("spec", {}).get("nodeName"):
                bound.setdefault(name, now)
            st = pod.get("status", {})
            if st.get("phase") == "Running":
                running.setdefault(name, now)
            if any(c["type"] == "Ready" and c["status"] == "True" for c in st.get("conditions", [])):
                ready.setdefault(name, now)
            if len(ready) >= n:
                done.set()
                return

    threading.Thread(target=watch, daemon=True).start()
    time.sleep(0.5)

    def create(i):
        conn = Conn(target)
        status, body = conn.req("POST", f"/api/v1/namespaces/{ns}/pods", {
            "metadata": {"name": f"p{i}"},
            "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
                "name": "c", "image": "debian:bookworm", "command": ["sleep", "3600"],
                "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 1},
            }]},
        })
        if status != 201:
            raise SystemExit(f"creating a pod failed: HTTP {status}: {body[:200]}")

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(n)))
    done.wait(600)
    total = time.monotonic() - start
    to_running = [running[p] - bound[p] for p in ready if p in running and p in bound]
    to_ready = [ready[p] - bound[p] for p in ready if p in bound]
    print(json.dumps({
        "pods": len(to_ready),
        "running_p50_ms": pct(to_running, 50), "running_p99_ms": pct(to_running, 99),
        "ready_p50_ms": pct(to_ready, 50), "ready_p99_ms": pct(to_ready, 99),
        "all_ready_s": round(total, 2),
        "mean_ready_ms": round(statistics.mean(to_ready) * 1000, 1),
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
