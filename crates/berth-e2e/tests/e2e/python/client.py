"""The official Kubernetes Python client against berth (run by python.rs).

Usage: client.py KUBECONFIG NAMESPACE. Prints "python client ok" on success; any failed
assertion or unexpected exception exits non-zero with a traceback.
"""

import sys
import threading

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def main(kubeconfig: str, ns: str) -> None:
    config.load_kube_config(config_file=kubeconfig)
    core = client.CoreV1Api()
    apps = client.AppsV1Api()

    # Namespace: the client sends no apiVersion/kind and no Content-Type.
    created = core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    assert created.metadata.name == ns, created
    assert created.metadata.uid, created
    assert core.read_namespace(ns).status.phase == "Active"

    # Watch configmaps from the list's resourceVersion: ADDED then MODIFIED, then the server
    # ends the stream after timeout_seconds.
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    events = []
    done = threading.Event()

    def watcher() -> None:
        w = watch.Watch()
        for ev in w.stream(core.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=5):
            events.append((ev["type"], ev["object"].metadata.name, dict(ev["object"].data or {}),
                           ev["object"].metadata.resource_version))
        done.set()

    t = threading.Thread(target=watcher, daemon=True)
    t.start()
    cm = core.create_namespaced_config_map(
        ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="one"), data={"k": "v"}))
    assert cm.data == {"k": "v"}, cm
    patched = core.patch_namespaced_config_map("one", ns, {"data": {"k": "w"}})
    assert patched.data == {"k": "w"}, patched
    assert done.wait(15), "the watch did not end after timeout_seconds=5 (events so far: %r)" % events
    kinds = [(e[0], e[1], e[2]) for e in events]
    assert kinds == [("ADDED", "one", {"k": "v"}), ("MODIFIED", "one", {"k": "w"})], kinds
    assert int(events[1][3]) > int(events[0][3]), events

    # StatefulSet with defaults.
    sts = client.V1StatefulSet(
        metadata=client.V1ObjectMeta(name="py"),
        spec=client.V1StatefulSetSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "py"}),
            service_name="py",
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "py"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox:1.36")]),
            ),
        ),
    )
    created = apps.create_namespaced_stateful_set(ns, sts)
    assert created.spec.pod_management_policy == "OrderedReady", created.spec
    assert created.spec.update_strategy.type == "RollingUpdate", created.spec
    assert created.spec.revision_history_limit == 10, created.spec
    got = apps.read_namespaced_stateful_set("py", ns)
    assert got.spec.pod_management_policy == "OrderedReady"
    assert got.metadata.uid == created.metadata.uid
    assert got.metadata.creation_timestamp is not None

    # Scale through the subresource (strategic merge patch), then read back.
    scale = apps.patch_namespaced_stateful_set_scale("py", ns, {"spec": {"replicas": 3}})
    assert scale.spec.replicas == 3, scale
    assert scale.status.selector == "app=py", scale
    assert apps.read_namespaced_stateful_set("py", ns).spec.replicas == 3
    assert apps.read_namespaced_stateful_set_scale("py", ns).spec.replicas == 3

    listed = apps.list_namespaced_stateful_set(ns)
    assert [s.metadata.name for s in listed.items] == ["py"], listed
    assert listed.metadata.resource_version

    try:
        apps.read_namespaced_stateful_set("missing", ns)
        raise AssertionError("reading a missing StatefulSet must raise")
    except ApiException as e:
        assert e.status == 404, e
        assert '"reason":"NotFound"' in e.body.replace(" ", ""), e.body

    # Deletes without a body.
    apps.delete_namespaced_stateful_set("py", ns)
    try:
        apps.read_namespaced_stateful_set("py", ns)
        raise AssertionError("the StatefulSet is still there after delete")
    except ApiException as e:
        assert e.status == 404, e
    core.delete_namespace(ns)
    phase = None
    try:
        phase = core.read_namespace(ns).status.phase
    except ApiException as e:
        assert e.status == 404, e
    assert phase in (None, "Terminating"), phase
    print("python client ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
