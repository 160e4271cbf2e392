#!/usr/bin/env bash
# One StatefulSet scenario of scripts/bench on its own, for profiling a change:
#   scripts/bench.d/rollout.sh N [Parallel|OrderedReady] [perf]
# Parallel: N replicas to all Ready, then a rolling update of all of them (template patch ->
# `kubectl rollout status` done). OrderedReady: N replicas with claims to all Ready.
# With `perf`, records 10 s of the server (call graphs) into ./perf.data from the start of
# the rollout (Parallel) or of the bring-up (OrderedReady). Needs a release build.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
n=$1; policy=${2:-Parallel}; perf=${3:-}
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nodes=$(( (n + 109) / 110 ))
"$ROOT/target/release/berth" server --runtime sim --nodes "$nodes" --data-dir "$dir" --listen "127.0.0.1:$port" 2>"$dir/log" &
pid=$!
trap 'rc=$?; kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"; exit $rc' EXIT
for _ in $(seq 100); do [ -f "$dir/kubeconfig" ] && break; sleep 0.1; done
export KUBECONFIG=$dir/kubeconfig
for _ in $(seq 100); do [ "$(kubectl get nodes --no-headers 2>/dev/null | grep -c ' Ready')" -ge "$nodes" ] && break; sleep 0.1; done
vct=""
if [ "$policy" = OrderedReady ]; then
  vct=$'  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}'
fi
printf 'apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: bench}\nspec:\n  replicas: %s\n  podManagementPolicy: %s\n  serviceName: bench\n  selector: {matchLabels: {app: bench}}\n  template:\n    metadata: {labels: {app: bench}}\n    spec:\n      containers: [{name: c, image: busybox}]\n%s\n' \
  "$n" "$policy" "$vct" > "$dir/sts.yaml"
PERF_PID=""
record() { perf record -F 199 --call-graph dwarf,16384 -p "$pid" -o perf.data -- sleep 10 2>/dev/null & PERF_PID=$!; }
elapsed() { python3 -c "print(round($(date +%s.%N) - $1, 2))"; }
if [ "$policy" = OrderedReady ] && [ "$perf" = perf ]; then record; fi
t0=$(date +%s.%N)
kubectl apply -f "$dir/sts.yaml" >/dev/null
kubectl wait --for=jsonpath='{.status.readyReplicas}'="$n" sts/bench --timeout=600s >/dev/null
echo "$n $policy replicas to all Ready: $(elapsed "$t0") s"
if [ "$policy" = Parallel ]; then
  if [ "$perf" = perf ]; then record; fi
  t0=$(date +%s.%N)
  kubectl patch sts bench --type merge -p '{"spec":{"template":{"metadata":{"annotations":{"bench/rev":"2"}}}}}' >/dev/null
  kubectl rollout status sts/bench --timeout=600s >/dev/null
  echo "rolling update of $n replicas: $(elapsed "$t0") s"
fi
if [ -n "$PERF_PID" ]; then wait "$PERF_PID" || true; fi
