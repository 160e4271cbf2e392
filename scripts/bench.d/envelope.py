#!/usr/bin/env python3
"""The simulated cluster envelope: many StatefulSets on many simulated nodes.

    envelope.py KUBECONFIG SERVER_PID SETS REPLICAS [TIMEOUT_S]

Creates SETS StatefulSets of REPLICAS Parallel replicas each (no claims) in namespace
`envelope` with 8 concurrent clients, then polls the StatefulSets once a second until the
sum of `status.replicas` (pods created) and of `status.readyReplicas` reach SETS x REPLICAS.
The server's RSS is sampled at every poll. After TIMEOUT_S (default 1800) it stops waiting
and reports `ready_s: null` with how many were Ready (`ready_at_timeout`). Prints one JSON object:
created_s, ready_s (from the first create), pods, peak_rss_mb, settled_rss_mb (RSS 10 s
after all pods are Ready, the memory it takes to hold them), and how long one LIST of every
pod took once they all ran.
"""
import concurrent.futures
import json
import sys
import time

from api import Conn, load

TIMEOUT_S = 1800


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def statefulset(name, replicas):
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "podManagementPolicy": "Parallel",
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }


def totals(conn):
    status, body = conn.req("GET", "/apis/apps/v1/namespaces/envelope/statefulsets")
    if status != 200:
        return 0, 0
    items = json.loads(body)["items"]
    created = sum(s.get("status", {}).get("replicas", 0) for s in items)
    ready = sum(s.get("status", {}).get("readyReplicas", 0) for s in items)
    return created, ready


def main():
    kubeconfig, pid, sets, replicas = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    timeout_s = float(sys.argv[5]) if len(sys.argv) > 5 else TIMEOUT_S
    target = load(kubeconfig)
    conn = Conn(target)
    conn.req("POST", "/api/v1/namespaces", {"metadata": {"name": "envelope"}})
    want = sets * replicas
    start = time.monotonic()

    def create(i):
        c = Conn(target)
        status, body = c.req(
            "POST", "/apis/apps/v1/namespaces/envelope/statefulsets", statefulset(f"set-{i}", replicas)
        )
        if status != 201:
            raise RuntimeError(f"creating set-{i}: {status} {body[:200]!r}")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(sets)))
    created_s = ready_s = None
    peak = rss_mb(pid)
    ready = 0
    while time.monotonic() - start < timeout_s:
        time.sleep(1)
        peak = max(peak, rss_mb(pid))
        created, ready = totals(conn)
        now = time.monotonic() - start
        if created_s is None and created >= want:
            created_s = now
        if ready >= want:
            ready_s = now
            break
        print(f"  {now:6.1f} s: {created} created, {ready} ready of {want}", file=sys.stderr, flush=True)
    time.sleep(10)
    settled = rss_mb(pid)
    t0 = time.monotonic()
    status, body = conn.req("GET", "/api/v1/namespaces/envelope/pods")
    list_s = time.monotonic() - t0
    listed = len(json.loads(body)["items"]) if status == 200 else 0
    print(json.dumps({
        "pods": want,
        "created_s": round(created_s, 1) if created_s is not None else None,
        "ready_s": round(ready_s, 1) if ready_s is not None else None,
        "peak_rss_mb": round(peak, 1),
        "settled_rss_mb": round(settled, 1),
        "ready_at_timeout": None if ready_s is not None else ready,
        "list_all_pods_s": round(list_s, 2),
        "listed": listed,
    }))


if __name__ == "__main__":
    main()
