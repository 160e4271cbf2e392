#!/usr/bin/env python3
"""The anchor for host-runtime pod start: `runc run --detach` of a minimal container (the
host's /usr read-only as its root, `sleep`, new pid/mount/net/ipc/uts namespaces and a
cgroup), N containers started by 8 concurrent callers, as scripts/bench.d/pods.py starts
pods. Prints JSON: p50/p99 of one `runc run -d` call and the time until all were running.

usage: runc.py N WORKDIR   (needs root and Debian's runc)
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import time

n, work = int(sys.argv[1]), sys.argv[2]
bundle = os.path.join(work, "bundle")
rootfs = os.path.join(bundle, "rootfs")
os.makedirs(os.path.join(rootfs, "usr"), exist_ok=True)
for d in ("proc", "dev", "tmp", "etc"):
    os.makedirs(os.path.join(rootfs, d), exist_ok=True)
for link in ("bin", "lib", "lib64", "sbin"):
    path = os.path.join(rootfs, link)
    if not os.path.lexists(path):
        os.symlink("usr/" + link, path)
subprocess.run(["runc", "spec"], cwd=bundle, check=True)
with open(os.path.join(bundle, "config.json")) as f:
    spec = json.load(f)
spec["process"]["terminal"] = False
spec["process"]["args"] = ["sleep", "3600"]
spec["root"] = {"path": "rootfs", "readonly": True}
spec["mounts"].append({"destination": "/usr", "type": "bind", "source": "/usr",
                       "options": ["rbind", "ro"]})
spec["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                       "options": ["nosuid", "nodev"]})
with open(os.path.join(bundle, "config.json"), "w") as f:
    json.dump(spec, f)

ids = [f"berth-bench-{os.getpid()}-{i}" for i in range(n)]


def start(cid):
    t0 = time.monotonic()
    subprocess.run(["runc", "run", "--detach", "--bundle", bundle, cid], check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t0


begin = time.monotonic()
try:
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        took = sorted(pool.map(start, ids))
    all_s = time.monotonic() - begin
finally:
    for cid in ids:
        subprocess.run(["runc", "delete", "--force", cid],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pct(p):
    return round(took[min(len(took) - 1, int(p * len(took)))] * 1000, 1)


print(json.dumps({"p50_ms": pct(0.50), "p99_ms": pct(0.99), "all_running_s": round(all_s, 2)}))
