#!/usr/bin/env bash
# Storage figures for BENCHMARKS.md: per `berth.dev/local` driver, the provisioning time
# (claim created -> claim Bound, with a pod that consumes it: WaitForFirstConsumer) and the
# sequential write (dd, conv=fsync) and cold-cache read throughput inside a pod's volume,
# next to the same dd on the host filesystem the volumes live on. Prints a markdown table.
#   scripts/bench.d/storage.sh              builds and uses target/release/berth
#   BERTH=target/debug/berth scripts/bench.d/storage.sh   uses that binary as it is
# Needs root (host runtime, loop devices) and e2fsprogs, xfsprogs, btrfs-progs.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
MIB=${MIB:-256}
if [ -z "${BERTH:-}" ]; then
  echo "==> building berth (release)" >&2
  cargo build --release -p berth -q
  BERTH=$ROOT/target/release/berth
fi

WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
  kill "${PID:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  "$BERTH" reset --data-dir "$WORK/data" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
"$BERTH" server --runtime host --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" 2>"$WORK/log" &
PID=$!
export KUBECONFIG="$WORK/data/kubeconfig"
for _ in $(seq 300); do [ -f "$KUBECONFIG" ] && break; sleep 0.1; done
for _ in $(seq 300); do kubectl get nodes 2>/dev/null | grep -q ' Ready' && break; sleep 0.1; done

now() { date +%s.%N; }
# dd's summary line ends with "<rate> <unit>": print it as MB/s.
rate() { awk '/copied/ {r=$(NF-1); u=$NF; if (u=="GB/s") r*=1000; if (u=="kB/s") r/=1000; printf "%.0f", r}'; }
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }

row() { printf '| %-26s | %-22s | %-18s | %-18s |\n' "$1" "$2" "$3" "$4"; }
row "volume" "claim -> Bound (ms)" "write MB/s" "read MB/s"
row "---" "---" "---" "---"

for driver in dir ext4 xfs btrfs; do
  kubectl apply -f - >/dev/null <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: bench-$driver}
provisioner: berth.dev/local
parameters: {driver: $driver, poolSize: 2Gi}
volumeBindingMode: WaitForFirstConsumer
allowVolumeExpansion: true
EOF
  start=$(now)
  kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: bench-$driver}
spec: {accessModes: [ReadWriteOnce], storageClassName: bench-$driver, resources: {requests: {storage: 512Mi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: bench-$driver}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: debian:bookworm, command: [sleep, "3600"], volumeMounts: [{name: data, mountPath: /data}]}
  volumes: [{name: data, persistentVolumeClaim: {claimName: bench-$driver}}]
EOF
  until [ "$(kubectl get pvc "bench-$driver" -o jsonpath='{.status.phase}')" = Bound ]; do sleep 0.02; done
  bound=$(now)
  kubectl wait --for=condition=Ready "pod/bench-$driver" --timeout=120s >/dev/null
  ms=$(awk -v a="$start" -v b="$bound" 'BEGIN {printf "%.0f", (b - a) * 1000}')
  w=$(kubectl exec "bench-$driver" -- dd if=/dev/zero of=/data/f bs=1M count="$MIB" conv=fsync 2>&1 | rate)
  drop_caches
  r=$(kubectl exec "bench-$driver" -- dd if=/data/f of=/dev/null bs=1M 2>&1 | rate)
  row "$driver" "$ms" "$w" "$r"
  kubectl delete pod "bench-$driver" --wait=true >/dev/null
  kubectl delete pvc "bench-$driver" --wait=true >/dev/null
done

w=$(dd if=/dev/zero of="$WORK/f" bs=1M count="$MIB" conv=fsync 2>&1 | rate)
drop_caches
r=$(dd if="$WORK/f" of=/dev/null bs=1M 2>&1 | rate)
row "host filesystem (baseline)" "-" "$w" "$r"
