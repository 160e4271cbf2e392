//! The StatefulSet controller end to end: ordered and parallel creation, scale-down order and
//! claim retention, rolling updates (reverse order, partition, OnDelete), `kubectl rollout`
//! history/undo/restart/status, retention policies, `ordinals.start`, pod replacement, cascade
//! deletion with re-adoption, events, and Berth's two improvements (stuck-rollout recovery,
//! growing `volumeClaimTemplates`).
//!
//! The simulated runtime makes every pod Running and Ready at once unless the pod annotation
//! `sim.berth.dev/ready` is `"false"`; tests hold readiness with it to observe ordering.
//! Item numbers refer to the StatefulSet behaviour checklist (sections 1D–1N).

use crate::harness::{Berth, EVENTUALLY, Streaming, table, wait_for, wait_for_value};
use serde_json::Value;
use std::thread;
use std::time::{Duration, Instant};

/// The pod annotation that holds readiness back in the simulated runtime.
const READY: &str = "sim.berth.dev/ready";
/// How long "nothing else happens" is observed.
const HOLD: Duration = Duration::from_millis(2000);

/// A StatefulSet `web` (selector `app=web`, serviceName `web`, claim template `data`).
struct Web<'a> {
    replicas: u32,
    image: &'a str,
    /// Extra lines of `spec` (indented by two spaces, each ending in a newline).
    spec: &'a str,
    /// Template annotations in YAML flow style without braces (empty: none).
    annotations: &'a str,
    /// The claim template's storage request.
    storage: &'a str,
}

impl Default for Web<'_> {
    fn default() -> Self {
        Web {
            replicas: 3,
            image: "nginx:1.25",
            spec: "",
            annotations: "",
            storage: "1Gi",
        }
    }
}

impl Web<'_> {
    fn yaml(&self) -> String {
        let annotations = if self.annotations.is_empty() {
            String::new()
        } else {
            format!("      annotations: {{{}}}\n", self.annotations)
        };
        format!(
            "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  replicas: {replicas}
  serviceName: web
  selector:
    matchLabels: {{app: web}}
{spec}  template:
    metadata:
      labels: {{app: web}}
{annotations}    spec:
      containers:
      - name: app
        image: {image}
  volumeClaimTemplates:
  - metadata: {{name: data}}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {{requests: {{storage: {storage}}}}}
",
            replicas = self.replicas,
            spec = self.spec,
            image = self.image,
            storage = self.storage,
        )
    }
}

/// Template annotations that hold every new pod unready.
const HELD: &str = r#"sim.berth.dev/ready: "false""#;

/// What a test looks at in one pod.
#[derive(Debug, Clone)]
struct PodInfo {
    name: String,
    uid: String,
    revision: String,
    image: String,
    ready: bool,
    terminating: bool,
    json: Value,
}

fn ordinal_of(name: &str) -> i64 {
    name.rsplit_once('-')
        .and_then(|(_, o)| o.parse().ok())
        .unwrap_or(-1)
}

/// The pods of `web` (label `app=web`), sorted by ordinal.
fn pods(k: &Berth) -> Vec<PodInfo> {
    let list = k.get_json(&["pods", "-l", "app=web"]);
    let mut out: Vec<PodInfo> = list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let ready = p["status"]["conditions"]
                .as_array()
                .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
                && p["status"]["phase"] == "Running";
            PodInfo {
                name: p["metadata"]["name"].as_str().unwrap_or_default().to_string(),
                uid: p["metadata"]["uid"].as_str().unwrap_or_default().to_string(),
                revision: p["metadata"]["labels"]["controller-revision-hash"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                image: p["spec"]["containers"][0]["image"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                ready,
                terminating: !p["metadata"]["deletionTimestamp"].is_null(),
                json: p,
            }
        })
        .collect();
    out.sort_by_key(|p| ordinal_of(&p.name));
    out
}

fn names(pods: &[PodInfo]) -> Vec<String> {
    pods.iter().map(|p| p.name.clone()).collect()
}

fn pod(k: &Berth, name: &str) -> PodInfo {
    pods(k)
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("pod {name} does not exist"))
}

fn sts(k: &Berth) -> Value {
    k.get_json(&["sts", "web"])
}

/// Names of the claims labelled `app=web`, sorted.
fn claims(k: &Berth) -> Vec<String> {
    let out = k.kubectl_ok(&["get", "pvc", "-l", "app=web", "-o", "name"]);
    let mut v: Vec<String> = out
        .lines()
        .map(|l| l.trim_start_matches("persistentvolumeclaim/").to_string())
        .collect();
    v.sort();
    v
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Waits until exactly the pods `want` exist (none terminating) and returns them.
fn wait_pods(k: &Berth, want: &[&str]) -> Vec<PodInfo> {
    let want = strings(want);
    wait_for_value(&format!("pods {want:?}"), EVENTUALLY, || {
        let got = pods(k);
        (names(&got) == want && got.iter().all(|p| !p.terminating)).then_some(got)
    })
}

/// Asserts that `f` keeps holding for `dur` (polling).
fn holds(what: &str, dur: Duration, mut f: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + dur;
    while Instant::now() < deadline {
        if let Err(e) = f() {
            panic!("expected {what} to hold for {dur:?}, but: {e}");
        }
        thread::sleep(Duration::from_millis(150));
    }
}

/// Asserts that exactly the pods `want` exist for `dur`.
fn pods_stay(k: &Berth, want: &[&str], dur: Duration) {
    let want = strings(want);
    holds(&format!("pods {want:?}"), dur, || {
        let got = names(&pods(k));
        if got == want {
            Ok(())
        } else {
            Err(format!("pods are {got:?}"))
        }
    });
}

/// Waits until the set has converged: observed its generation, `n` pods all Ready at the update
/// revision, `currentRevision == updateRevision`. Returns the set.
fn wait_settled(k: &Berth, n: usize) -> Value {
    let mut last = (Value::Null, Vec::new());
    let found = wait_for_value_or_report(EVENTUALLY, || {
        let s = sts(k);
        let ps = pods(k);
        let st = &s["status"];
        let update = st["updateRevision"].as_str().unwrap_or_default().to_string();
        let ok = s["metadata"]["generation"] == st["observedGeneration"]
            && st["readyReplicas"] == n
            && st["updatedReplicas"] == n
            && st["replicas"] == n
            && st["currentRevision"] == st["updateRevision"]
            && ps.len() == n
            && ps
                .iter()
                .all(|p| p.ready && !p.terminating && p.revision == update);
        last = (s.clone(), ps);
        ok.then_some(s)
    });
    found.unwrap_or_else(|| {
        let (s, ps) = &last;
        panic!(
            "the StatefulSet did not settle at {n} ready pods: status {}, pods {:?}",
            s["status"],
            ps.iter()
                .map(|p| (&p.name, &p.revision, p.ready, p.terminating))
                .collect::<Vec<_>>()
        )
    })
}

fn wait_for_value_or_report<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// Applies `web` and waits for `n` Ready pods at one revision.
fn start(k: &Berth, web: &Web<'_>) -> Value {
    assert_eq!(k.apply_ok(&web.yaml()), "statefulset.apps/web created\n");
    wait_settled(k, web.replicas as usize)
}

/// `kubectl delete pod NAME` without kubectl's wait: the simulated runtime finishes the graceful
/// deletion at once and the controller recreates the pod under the same name before kubectl's
/// wait lists it, and kubectl (which then only waits for a DELETED watch event of that name)
/// would block forever.
fn delete_pod(k: &Berth, name: &str) {
    assert_eq!(
        k.kubectl_ok(&["delete", "pod", name, "--wait=false"]),
        format!("pod \"{name}\" deleted\n")
    );
}

fn release(k: &Berth, pod: &str) {
    k.kubectl_ok(&["annotate", "pod", pod, &format!("{READY}=true"), "--overwrite"]);
}

/// A running `kubectl get pods -w --output-watch-events`, printing `TYPE NAME UID` lines; waits
/// for the initial listing of `initial` pods so no later change is missed.
fn watch_pods(k: &Berth, initial: usize) -> Streaming {
    let mut w = k.spawn_kubectl(&[
        "get",
        "pods",
        "-l",
        "app=web",
        "-w",
        "--output-watch-events",
        "-o",
        r#"jsonpath={.type} {.object.metadata.name} {.object.metadata.uid}{"\n"}"#,
    ]);
    w.wait_for_lines("the initial pod listing", initial, |l| l.starts_with("ADDED "));
    w
}

/// The `TYPE NAME` pairs among `lines` after the first `skip` lines, keeping only `types`.
fn transitions(lines: &[String], skip: usize, types: &[&str]) -> Vec<String> {
    lines
        .iter()
        .skip(skip)
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (t, n) = (it.next()?, it.next()?);
            types.contains(&t).then(|| format!("{t} {n}"))
        })
        .collect()
}

fn rollout_status(k: &Berth) -> String {
    let out = k.kubectl_ok(&["rollout", "status", "sts/web", "--timeout=30s"]);
    out.lines().last().unwrap_or_default().to_string()
}

/// Messages of the Events on the StatefulSet `web` with `reason`, oldest first.
fn events(k: &Berth, reason: &str) -> Vec<String> {
    let list = k.get_json(&[
        "events",
        "--field-selector",
        &format!("involvedObject.kind=StatefulSet,involvedObject.name=web,reason={reason}"),
    ]);
    let mut items = list["items"].as_array().cloned().unwrap_or_default();
    items.sort_by_key(|e| {
        (
            e["firstTimestamp"].as_str().unwrap_or_default().to_string(),
            e["metadata"]["name"].as_str().unwrap_or_default().to_string(),
        )
    });
    items
        .iter()
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// 1. OrderedReady: pods are created one at a time, each only after its predecessor is Ready;
///    identity labels, hostname/subdomain, owner reference and claims (items 28–34, 37–39, 43, 44, 48).
#[test]
fn ordered_creation_waits_for_readiness() {
    let k = Berth::start();
    let web = Web {
        annotations: HELD,
        ..Web::default()
    };
    assert_eq!(k.apply_ok(&web.yaml()), "statefulset.apps/web created\n");

    // Only web-0 while it is unready; its claim exists, the others' do not.
    let ps = wait_pods(&k, &["web-0"]);
    assert!(!ps[0].ready, "web-0 is held unready by {READY}");
    pods_stay(&k, &["web-0"], HOLD);
    assert_eq!(claims(&k), ["data-web-0"]);

    // Identity.
    let set = sts(&k);
    let set_uid = set["metadata"]["uid"].as_str().unwrap().to_string();
    let update = wait_for_value("status.updateRevision", EVENTUALLY, || {
        sts(&k)["status"]["updateRevision"].as_str().map(str::to_string)
    });
    let p = pod(&k, "web-0").json;
    let labels = &p["metadata"]["labels"];
    assert_eq!(labels["app"], "web", "template labels are copied");
    assert_eq!(labels["statefulset.kubernetes.io/pod-name"], "web-0");
    assert_eq!(labels["apps.kubernetes.io/pod-index"], "0");
    assert_eq!(labels["controller-revision-hash"], update.as_str());
    assert!(
        update.starts_with("web-"),
        "revision name is <set>-<hash>: {update}"
    );
    assert_eq!(p["spec"]["hostname"], "web-0");
    assert_eq!(p["spec"]["subdomain"], "web");
    let refs = p["metadata"]["ownerReferences"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(refs.len(), 1, "{refs:?}");
    assert_eq!(refs[0]["apiVersion"], "apps/v1");
    assert_eq!(refs[0]["kind"], "StatefulSet");
    assert_eq!(refs[0]["name"], "web");
    assert_eq!(refs[0]["uid"], set_uid.as_str());
    assert_eq!(refs[0]["controller"], true);
    assert_eq!(refs[0]["blockOwnerDeletion"], true);
    let volumes = p["spec"]["volumes"].as_array().cloned().unwrap_or_default();
    assert!(
        volumes
            .iter()
            .any(|v| v["name"] == "data" && v["persistentVolumeClaim"]["claimName"] == "data-web-0"),
        "web-0 mounts its claim data-web-0: {volumes:?}"
    );
    let claim = k.get_json(&["pvc", "data-web-0"]);
    assert_eq!(
        claim["metadata"]["labels"]["app"], "web",
        "selector labels on the claim"
    );
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "1Gi");
    assert_eq!(claim["spec"]["accessModes"][0], "ReadWriteOnce");
    assert!(
        claim["metadata"]["ownerReferences"].is_null(),
        "Retain/Retain: no owner reference on the claim: {}",
        claim["metadata"]
    );

    // Releasing web-0 lets web-1 come, and only web-1.
    release(&k, "web-0");
    let ps = wait_pods(&k, &["web-0", "web-1"]);
    assert!(!ps[1].ready);
    assert_eq!(
        ps[1].json["metadata"]["labels"]["apps.kubernetes.io/pod-index"],
        "1"
    );
    assert_eq!(ps[1].json["spec"]["hostname"], "web-1");
    pods_stay(&k, &["web-0", "web-1"], Duration::from_millis(1000));
    assert_eq!(claims(&k), ["data-web-0", "data-web-1"]);

    release(&k, "web-1");
    wait_pods(&k, &["web-0", "web-1", "web-2"]);
    assert_eq!(claims(&k), ["data-web-0", "data-web-1", "data-web-2"]);
    release(&k, "web-2");
    let s = wait_settled(&k, 3);
    assert_eq!(s["status"]["currentReplicas"], 3);
    assert_eq!(s["status"]["availableReplicas"], 3);
    assert_eq!(s["status"]["collisionCount"], 0);
    assert_eq!(s["status"]["observedGeneration"], 1);
    let t = table(&k.kubectl_ok(&["get", "sts", "web"]));
    assert_eq!(t[1][..2], ["web", "3/3"], "{t:?}");
}

/// 2. Parallel: all pods are created without waiting for readiness, and scale-down to zero
///    proceeds with every pod unready (items 49; conformance "Burst scaling").
#[test]
fn parallel_creation_does_not_wait() {
    let k = Berth::start();
    let web = Web {
        annotations: HELD,
        spec: "  podManagementPolicy: Parallel\n",
        ..Web::default()
    };
    assert_eq!(k.apply_ok(&web.yaml()), "statefulset.apps/web created\n");
    let ps = wait_pods(&k, &["web-0", "web-1", "web-2"]);
    assert!(ps.iter().all(|p| !p.ready), "all held unready");
    assert_eq!(claims(&k), ["data-web-0", "data-web-1", "data-web-2"]);
    wait_for("status.replicas 3 with 0 ready", EVENTUALLY, || {
        let st = &sts(&k)["status"];
        st["replicas"] == 3 && st["readyReplicas"].as_i64().unwrap_or(0) == 0
    });

    assert_eq!(
        k.kubectl_ok(&["scale", "sts", "web", "--replicas=0"]),
        "statefulset.apps/web scaled\n"
    );
    wait_pods(&k, &[]);
    wait_for("status.replicas 0", EVENTUALLY, || {
        sts(&k)["status"]["replicas"] == 0
    });
    assert_eq!(
        claims(&k),
        ["data-web-0", "data-web-1", "data-web-2"],
        "claims are retained"
    );
}

/// 3. OrderedReady scale-down deletes the highest ordinal first, one at a time; claims are
///    retained and reused on scale-up (items 39, 43, 46; conformance "predictable order").
#[test]
fn scale_down_in_reverse_order_retains_claims() {
    let k = Berth::start();
    start(&k, &Web::default());
    let claim_uids: Vec<String> = ["data-web-1", "data-web-2"]
        .iter()
        .map(|c| k.jsonpath(&["pvc", c], "{.metadata.uid}"))
        .collect();

    let mut w = watch_pods(&k, 3);
    k.kubectl_ok(&["scale", "sts", "web", "--replicas=1"]);
    let lines = w.wait_for_lines("two pod deletions", 2, |l| l.starts_with("DELETED "));
    assert_eq!(
        transitions(&lines, 3, &["DELETED", "ADDED"]),
        ["DELETED web-2", "DELETED web-1"],
        "condemned pods go from the highest ordinal down:\n{}",
        lines.join("\n")
    );
    wait_pods(&k, &["web-0"]);
    wait_for("the SuccessfulDelete events", EVENTUALLY, || {
        events(&k, "SuccessfulDelete").len() >= 2
    });
    assert_eq!(
        events(&k, "SuccessfulDelete"),
        [
            "delete Pod web-2 in StatefulSet web successful",
            "delete Pod web-1 in StatefulSet web successful"
        ]
    );
    let s = wait_settled(&k, 1);
    assert_eq!(s["status"]["replicas"], 1);
    holds("all claims retained", Duration::from_millis(1000), || {
        let c = claims(&k);
        (c == ["data-web-0", "data-web-1", "data-web-2"])
            .then_some(())
            .ok_or(format!("claims are {c:?}"))
    });

    // Scaling back up reuses the retained claims (item 39).
    k.kubectl_ok(&["scale", "sts", "web", "--replicas=3"]);
    wait_settled(&k, 3);
    let again: Vec<String> = ["data-web-1", "data-web-2"]
        .iter()
        .map(|c| k.jsonpath(&["pvc", c], "{.metadata.uid}"))
        .collect();
    assert_eq!(again, claim_uids, "the same claim objects are reused");
}

/// 3b. OrderedReady scale-down halts while pods are unhealthy and resumes, highest ordinal first,
///     once they are Ready again (items 46, 47; conformance "…halt if any stateful pod is
///     unhealthy"): a condemned pod is deleted only if it is healthy or the first unhealthy pod.
#[test]
fn scale_down_halts_on_unhealthy_pods() {
    let k = Berth::start();
    start(&k, &Web::default());
    for p in ["web-0", "web-1", "web-2"] {
        k.kubectl_ok(&["annotate", "pod", p, &format!("{READY}=false"), "--overwrite"]);
    }
    wait_for("all pods unready", EVENTUALLY, || {
        let p = pods(&k);
        p.len() == 3 && p.iter().all(|p| !p.ready)
    });
    let mut w = watch_pods(&k, 3);
    k.kubectl_ok(&["scale", "sts", "web", "--replicas=0"]);
    pods_stay(&k, &["web-0", "web-1", "web-2"], HOLD);
    // Once web-2 is Ready it goes; web-1 (unready, not the first unhealthy pod) blocks again.
    release(&k, "web-2");
    wait_pods(&k, &["web-0", "web-1"]);
    pods_stay(&k, &["web-0", "web-1"], Duration::from_millis(1000));
    // Once web-1 is Ready it goes, and so does web-0: the first unhealthy pod may be deleted.
    release(&k, "web-1");
    let lines = w.wait_for_lines("three pod deletions", 3, |l| l.starts_with("DELETED "));
    assert_eq!(
        transitions(&lines, 3, &["DELETED", "ADDED"]),
        ["DELETED web-2", "DELETED web-1", "DELETED web-0"],
        "{}",
        lines.join("\n")
    );
    wait_pods(&k, &[]);
}

/// 4. RollingUpdate replaces pods from the highest ordinal down, one at a time, each after the
///    previous replacement is Ready; `kubectl rollout status` (items 65, 75, 80, 81; conformance).
#[test]
fn rolling_update_in_reverse_order() {
    let k = Berth::start();
    let before = start(&k, &Web::default());
    let rev1 = before["status"]["currentRevision"].as_str().unwrap().to_string();
    let old = pods(&k);

    let mut w = watch_pods(&k, 3);
    assert_eq!(
        k.kubectl_ok(&["set", "image", "sts/web", "app=nginx:1.26"]),
        "statefulset.apps/web image updated\n"
    );
    assert_eq!(
        rollout_status(&k),
        "partitioned roll out complete: 3 new pods have been updated..."
    );
    let s = wait_settled(&k, 3);
    let st = &s["status"];
    let rev2 = st["updateRevision"].as_str().unwrap().to_string();
    assert_ne!(rev1, rev2, "a template change makes a new revision");
    assert_eq!(st["currentRevision"], rev2.as_str());
    assert_eq!(st["currentReplicas"], 3);
    let new = pods(&k);
    for (o, n) in old.iter().zip(&new) {
        assert_eq!(o.name, n.name);
        assert_ne!(o.uid, n.uid, "{} was replaced (delete + create)", n.name);
        assert_eq!(n.image, "nginx:1.26");
        assert_eq!(n.revision, rev2);
    }
    let lines = w.wait_for_lines("three replacements", 3, |l| {
        l.starts_with("ADDED ")
            && !l.contains(&old[0].uid)
            && !l.contains(&old[1].uid)
            && !l.contains(&old[2].uid)
    });
    assert_eq!(
        transitions(&lines, 3, &["DELETED", "ADDED"]),
        [
            "DELETED web-2",
            "ADDED web-2",
            "DELETED web-1",
            "ADDED web-1",
            "DELETED web-0",
            "ADDED web-0"
        ],
        "pods are updated from the highest ordinal down, one at a time:\n{}",
        lines.join("\n")
    );
    assert_eq!(
        k.jsonpath(&["pvc", "data-web-0"], "{.metadata.name}"),
        "data-web-0",
        "updates keep the claims"
    );
}

/// 5. Partition: only ordinals >= partition get the new revision; a deleted pod comes back on its
///    side of the partition; lowering the partition completes the rollout (items 66, 67).
#[test]
fn partitioned_rolling_update() {
    let k = Berth::start();
    let before = start(&k, &Web::default());
    let rev1 = before["status"]["currentRevision"].as_str().unwrap().to_string();
    k.kubectl_ok(&[
        "patch",
        "sts",
        "web",
        "-p",
        r#"{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}"#,
    ]);
    k.kubectl_ok(&["set", "image", "sts/web", "app=nginx:1.26"]);
    let rev2 = wait_for_value("a new update revision", EVENTUALLY, || {
        let r = sts(&k)["status"]["updateRevision"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        (!r.is_empty() && r != rev1).then_some(r)
    });
    wait_for("web-2 at the new revision and Ready", EVENTUALLY, || {
        let p = pods(&k);
        p.len() == 3 && p[2].revision == rev2 && p[2].ready && !p[2].terminating
    });
    let canary = pods(&k);
    holds("web-0 and web-1 untouched", HOLD, || {
        let p = pods(&k);
        let revs: Vec<&str> = p.iter().map(|p| p.revision.as_str()).collect();
        let uids: Vec<&str> = p.iter().map(|p| p.uid.as_str()).collect();
        let want_uids: Vec<&str> = canary.iter().map(|p| p.uid.as_str()).collect();
        (revs == [rev1.as_str(), rev1.as_str(), rev2.as_str()] && uids == want_uids)
            .then_some(())
            .ok_or(format!("revisions {revs:?}, uids {uids:?}"))
    });
    assert_eq!(canary[0].image, "nginx:1.25");
    assert_eq!(canary[2].image, "nginx:1.26");
    wait_for("status with 1 updated replica", EVENTUALLY, || {
        let st = &sts(&k)["status"];
        st["updatedReplicas"] == 1
            && st["currentReplicas"] == 2
            && st["readyReplicas"] == 3
            && st["currentRevision"] == rev1.as_str()
            && st["updateRevision"] == rev2.as_str()
    });
    assert_eq!(
        rollout_status(&k),
        "partitioned roll out complete: 1 new pods have been updated..."
    );

    // A deleted pod below the partition comes back at the current (old) revision.
    delete_pod(&k, "web-0");
    wait_for("web-0 recreated", EVENTUALLY, || {
        let p = pods(&k);
        p.first()
            .is_some_and(|p0| p0.name == "web-0" && p0.uid != canary[0].uid && p0.ready)
    });
    let p0 = pod(&k, "web-0");
    assert_eq!(p0.revision, rev1, "below the partition: current revision");
    assert_eq!(p0.image, "nginx:1.25");

    // Lowering the partition to 0 finishes the rollout.
    k.kubectl_ok(&[
        "patch",
        "sts",
        "web",
        "-p",
        r#"{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}"#,
    ]);
    let s = wait_settled(&k, 3);
    assert_eq!(s["status"]["currentRevision"], rev2.as_str());
    assert!(pods(&k).iter().all(|p| p.image == "nginx:1.26"));
}

/// 6. OnDelete: a template change replaces nothing; a deleted pod returns at the update revision
///    (item 72); `kubectl rollout status` refuses OnDelete sets.
#[test]
fn on_delete_strategy() {
    let k = Berth::start();
    let before = start(
        &k,
        &Web {
            spec: "  updateStrategy: {type: OnDelete}\n",
            ..Web::default()
        },
    );
    let rev1 = before["status"]["currentRevision"].as_str().unwrap().to_string();
    let old = pods(&k);
    k.kubectl_ok(&["set", "image", "sts/web", "app=nginx:1.26"]);
    let rev2 = wait_for_value("a new update revision", EVENTUALLY, || {
        let s = sts(&k);
        let r = s["status"]["updateRevision"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        (s["status"]["observedGeneration"] == 2 && r != rev1).then_some(r)
    });
    holds("no pod is replaced", HOLD, || {
        let p = pods(&k);
        let same = p.len() == 3
            && p.iter()
                .zip(&old)
                .all(|(a, b)| a.uid == b.uid && a.revision == rev1);
        same.then_some(()).ok_or(format!("{:?}", names(&p)))
    });
    let st = sts(&k)["status"].clone();
    assert_eq!(st["updatedReplicas"].as_i64().unwrap_or(0), 0, "{st}");
    assert_eq!(st["currentRevision"], rev1.as_str());

    let out = k.kubectl_fails(&["rollout", "status", "sts/web", "--timeout=5s"]);
    assert_eq!(
        out.stderr.trim(),
        "error: rollout status is only available for RollingUpdate strategy type"
    );

    delete_pod(&k, "web-1");
    wait_for("web-1 recreated and Ready", EVENTUALLY, || {
        let p = pods(&k);
        p.len() == 3 && p[1].uid != old[1].uid && p[1].ready && !p[1].terminating
    });
    let p = pods(&k);
    assert_eq!(
        p[1].revision, rev2,
        "a deleted pod returns at the update revision"
    );
    assert_eq!(p[1].image, "nginx:1.26");
    assert_eq!(
        (p[0].uid.as_str(), p[0].image.as_str()),
        (old[0].uid.as_str(), "nginx:1.25")
    );
    assert_eq!(
        (p[2].uid.as_str(), p[2].image.as_str()),
        (old[2].uid.as_str(), "nginx:1.25")
    );
    wait_for("updatedReplicas 1", EVENTUALLY, || {
        let st = &sts(&k)["status"];
        st["updatedReplicas"] == 1 && st["currentReplicas"] == 2
    });
}

/// 7. `kubectl rollout history`, `undo` (reuses the old revision, item 57, 63) and `restart`
///    (item 64).
#[test]
fn rollout_history_undo_and_restart() {
    let k = Berth::start();
    let before = start(
        &k,
        &Web {
            replicas: 2,
            ..Web::default()
        },
    );
    let rev1 = before["status"]["currentRevision"].as_str().unwrap().to_string();

    // The ControllerRevision behind revision 1 (items 55, 56).
    let cr = k.get_json(&["controllerrevision", &rev1]);
    assert_eq!(cr["revision"], 1);
    assert_eq!(
        cr["metadata"]["labels"]["app"], "web",
        "template labels are copied"
    );
    let hash = cr["metadata"]["labels"]["controller.kubernetes.io/hash"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(format!("web-{hash}"), rev1);
    let refs = &cr["metadata"]["ownerReferences"];
    assert_eq!(refs.as_array().map(Vec::len), Some(1), "{refs}");
    assert_eq!(refs[0]["kind"], "StatefulSet");
    assert_eq!(refs[0]["name"], "web");
    assert_eq!(refs[0]["uid"], before["metadata"]["uid"]);
    assert_eq!(refs[0]["controller"], true);
    assert_eq!(refs[0]["blockOwnerDeletion"], true);
    assert_eq!(cr["data"]["spec"]["template"]["$patch"], "replace");
    assert_eq!(
        cr["data"]["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.25"
    );

    let history = |k: &Berth| {
        let out = k.kubectl_ok(&["rollout", "history", "sts/web"]);
        let t = table(&out);
        assert_eq!(t[0], ["statefulset.apps/web"], "{out}");
        assert_eq!(t[1], ["REVISION", "CHANGE-CAUSE"], "{out}");
        t[2..].iter().map(|r| r.join(" ")).collect::<Vec<_>>()
    };
    assert_eq!(history(&k), ["1 <none>"]);
    let out = k.kubectl_fails(&["rollout", "undo", "sts/web"]);
    assert!(
        out.stderr.contains("no last revision to roll back to"),
        "{}",
        out.stderr
    );

    k.kubectl_ok(&["set", "image", "sts/web", "app=nginx:1.26"]);
    rollout_status(&k);
    let s = wait_settled(&k, 2);
    let rev2 = s["status"]["updateRevision"].as_str().unwrap().to_string();
    assert_ne!(rev1, rev2);
    assert_eq!(history(&k), ["1 <none>", "2 <none>"]);
    let out = k.kubectl_ok(&["rollout", "history", "sts/web", "--revision=1"]);
    assert!(out.contains("Image:\tnginx:1.25"), "{out}");

    // Undo goes back to revision 1's template; the old ControllerRevision is reused and renumbered.
    assert_eq!(
        k.kubectl_ok(&["rollout", "undo", "sts/web"]),
        "statefulset.apps/web rolled back\n"
    );
    assert_eq!(
        k.jsonpath(&["sts", "web"], "{.spec.template.spec.containers[0].image}"),
        "nginx:1.25"
    );
    assert_eq!(
        rollout_status(&k),
        "partitioned roll out complete: 2 new pods have been updated..."
    );
    let s = wait_settled(&k, 2);
    assert_eq!(
        s["status"]["updateRevision"],
        rev1.as_str(),
        "rolling back reuses the prior revision"
    );
    assert!(
        pods(&k)
            .iter()
            .all(|p| p.image == "nginx:1.25" && p.revision == rev1)
    );
    assert_eq!(history(&k), ["2 <none>", "3 <none>"]);
    assert_eq!(k.jsonpath(&["controllerrevision", &rev1], "{.revision}"), "3");

    // Restart stamps the template and replaces every pod.
    let old = pods(&k);
    assert_eq!(
        k.kubectl_ok(&["rollout", "restart", "sts/web"]),
        "statefulset.apps/web restarted\n"
    );
    let set = sts(&k);
    let stamp = &set["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"];
    assert!(
        stamp.is_string(),
        "restartedAt annotation: {}",
        set["spec"]["template"]
    );
    rollout_status(&k);
    let s = wait_settled(&k, 2);
    let rev4 = s["status"]["updateRevision"].as_str().unwrap().to_string();
    assert!(rev4 != rev1 && rev4 != rev2, "restart makes a new revision");
    for (o, n) in old.iter().zip(pods(&k)) {
        assert_ne!(o.uid, n.uid, "{} was replaced", n.name);
        assert_eq!(
            n.json["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
            *stamp
        );
    }
    assert_eq!(history(&k), ["2 <none>", "3 <none>", "4 <none>"]);
}

/// 8a. `whenScaled: Delete`: scaling down deletes the condemned pods' claims (through the pod
///     owner reference and the garbage collector); `whenDeleted: Retain` keeps the rest (items 91, 93).
#[test]
fn retention_when_scaled_delete() {
    let k = Berth::start();
    start(
        &k,
        &Web {
            spec: "  persistentVolumeClaimRetentionPolicy: {whenScaled: Delete, whenDeleted: Retain}\n",
            ..Web::default()
        },
    );
    assert_eq!(claims(&k), ["data-web-0", "data-web-1", "data-web-2"]);
    k.kubectl_ok(&["scale", "sts", "web", "--replicas=1"]);
    wait_pods(&k, &["web-0"]);
    wait_for("claims of web-1 and web-2 deleted", EVENTUALLY, || {
        claims(&k) == ["data-web-0"]
    });
    assert!(
        k.get_json(&["pvc", "data-web-0"])["metadata"]["ownerReferences"].is_null(),
        "an in-range claim has no owner under whenDeleted: Retain"
    );

    // whenDeleted: Retain keeps the last claim when the set goes.
    k.kubectl_ok(&["delete", "sts", "web"]);
    wait_pods(&k, &[]);
    holds("data-web-0 retained", Duration::from_millis(1000), || {
        let c = claims(&k);
        (c == ["data-web-0"])
            .then_some(())
            .ok_or(format!("claims are {c:?}"))
    });
}

/// 8b. `whenDeleted: Delete`: claims are owned by the set and deleted with it; the default
///     `Retain` keeps them on scale-down (items 91, 92).
#[test]
fn retention_when_deleted_delete() {
    let k = Berth::start();
    let s = start(
        &k,
        &Web {
            replicas: 2,
            spec: "  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete}\n",
            ..Web::default()
        },
    );
    assert_eq!(
        s["spec"]["persistentVolumeClaimRetentionPolicy"],
        serde_json::json!({"whenDeleted": "Delete", "whenScaled": "Retain"})
    );
    let uid = s["metadata"]["uid"].as_str().unwrap().to_string();
    wait_for("claims owned by the set", EVENTUALLY, || {
        ["data-web-0", "data-web-1"].iter().all(|c| {
            let refs = &k.get_json(&["pvc", c])["metadata"]["ownerReferences"];
            refs.as_array().is_some_and(|r| {
                r.len() == 1
                    && r[0]["kind"] == "StatefulSet"
                    && r[0]["name"] == "web"
                    && r[0]["uid"] == uid.as_str()
                    && r[0]["controller"] == true
            })
        })
    });

    // whenScaled: Retain (defaulted) keeps data-web-1 on scale-down.
    k.kubectl_ok(&["scale", "sts", "web", "--replicas=1"]);
    wait_pods(&k, &["web-0"]);
    holds(
        "data-web-1 retained on scale-down",
        Duration::from_millis(1000),
        || {
            let c = claims(&k);
            (c == ["data-web-0", "data-web-1"])
                .then_some(())
                .ok_or(format!("claims are {c:?}"))
        },
    );

    k.kubectl_ok(&["delete", "sts", "web"]);
    wait_for("all claims deleted with the set", EVENTUALLY, || {
        claims(&k).is_empty()
    });
    wait_pods(&k, &[]);
}

/// 9. `ordinals.start: 5` numbers pods, claims and pod-index labels from 5 (items 28, 100).
#[test]
fn start_ordinal() {
    let k = Berth::start();
    assert_eq!(
        k.apply_ok(
            &Web {
                replicas: 2,
                spec: "  ordinals: {start: 5}\n",
                ..Web::default()
            }
            .yaml()
        ),
        "statefulset.apps/web created\n"
    );
    let ps = wait_pods(&k, &["web-5", "web-6"]);
    for (p, idx) in ps.iter().zip(["5", "6"]) {
        assert_eq!(p.json["metadata"]["labels"]["apps.kubernetes.io/pod-index"], idx);
        assert_eq!(
            p.json["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"],
            p.name.as_str()
        );
        assert_eq!(p.json["spec"]["hostname"], p.name.as_str());
    }
    assert_eq!(claims(&k), ["data-web-5", "data-web-6"]);
    wait_settled(&k, 2);
}

/// 10. A deleted pod comes back under the same name with a new uid and the same claim; deleting a
///     healthy pod while a later one is unready does not deadlock (item 53); a Failed pod that the
///     set adopts is deleted and recreated (item 52).
#[test]
fn deleted_and_failed_pods_are_replaced() {
    let k = Berth::start();
    start(&k, &Web::default());
    let old = pods(&k);
    let claim_uid = k.jsonpath(&["pvc", "data-web-1"], "{.metadata.uid}");
    delete_pod(&k, "web-1");
    wait_for("web-1 back with a new uid", EVENTUALLY, || {
        let p = pods(&k);
        p.len() == 3 && p[1].uid != old[1].uid && p[1].ready && !p[1].terminating
    });
    let p1 = pod(&k, "web-1");
    assert_eq!(
        p1.json["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "data-web-1"
    );
    assert_eq!(k.jsonpath(&["pvc", "data-web-1"], "{.metadata.uid}"), claim_uid);
    assert_eq!(pod(&k, "web-0").uid, old[0].uid);
    assert_eq!(pod(&k, "web-2").uid, old[2].uid);

    // web-2 unready; deleting the healthy web-0 still recreates it.
    k.kubectl_ok(&[
        "annotate",
        "pod",
        "web-2",
        &format!("{READY}=false"),
        "--overwrite",
    ]);
    wait_for("web-2 unready", EVENTUALLY, || !pod(&k, "web-2").ready);
    delete_pod(&k, "web-0");
    wait_for("web-0 recreated although web-2 is unready", EVENTUALLY, || {
        let p = pods(&k);
        p.first()
            .is_some_and(|p0| p0.name == "web-0" && p0.uid != old[0].uid && p0.ready)
    });
}

/// 10b. A Failed pod at an in-range ordinal (an adopted orphan that ran to failure) is deleted and
///      recreated with a new uid (items 52, 103).
#[test]
fn failed_pod_is_replaced() {
    let k = Berth::start();
    // An orphan named like ordinal 1 with the set's labels, which fails at once.
    k.apply_ok(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: web-1
  labels: {app: web}
  annotations: {sim.berth.dev/exit-code: "1"}
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: nginx:1.25
"#,
    );
    wait_for("the orphan web-1 Failed", EVENTUALLY, || {
        k.jsonpath(&["pod", "web-1"], "{.status.phase}") == "Failed"
    });
    let failed_uid = k.jsonpath(&["pod", "web-1"], "{.metadata.uid}");
    start(
        &k,
        &Web {
            replicas: 2,
            ..Web::default()
        },
    );
    let p1 = pod(&k, "web-1");
    assert_ne!(p1.uid, failed_uid, "the Failed pod was replaced");
    assert_eq!(p1.json["spec"]["restartPolicy"], "Always");
    assert_eq!(p1.json["metadata"]["ownerReferences"][0]["name"], "web");
    assert!(
        events(&k, "SuccessfulDelete")
            .contains(&"delete Pod web-1 in StatefulSet web successful".to_string()),
        "{:?}",
        events(&k, "SuccessfulDelete")
    );
}

fn owner_uids(v: &Value) -> Vec<String> {
    v["metadata"]["ownerReferences"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|o| o["uid"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn revisions(k: &Berth) -> Vec<Value> {
    k.get_json(&["controllerrevisions", "-l", "app=web"])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// 11a. Background cascade: pods and ControllerRevisions go, claims stay (item 106).
#[test]
fn delete_cascade_background() {
    let k = Berth::start();
    start(&k, &Web::default());
    assert!(!revisions(&k).is_empty());
    assert_eq!(
        k.kubectl_ok(&["delete", "sts", "web"]),
        "statefulset.apps \"web\" deleted\n"
    );
    wait_pods(&k, &[]);
    wait_for("controllerrevisions deleted", EVENTUALLY, || {
        revisions(&k).is_empty()
    });
    assert_eq!(claims(&k), ["data-web-0", "data-web-1", "data-web-2"]);
}

/// 11b. Orphan cascade: pods and revisions stay without owner references; a new set with the same
///      name and selector adopts them without recreating any pod (items 61, 103, 107).
#[test]
fn delete_cascade_orphan_and_readopt() {
    let k = Berth::start();
    let web = Web::default();
    let s = start(&k, &web);
    let old_uid = s["metadata"]["uid"].as_str().unwrap().to_string();
    let rev = s["status"]["currentRevision"].as_str().unwrap().to_string();
    let old = pods(&k);
    assert_eq!(
        k.kubectl_ok(&["delete", "sts", "web", "--cascade=orphan"]),
        "statefulset.apps \"web\" deleted\n"
    );
    assert!(k.is_gone(&["sts", "web"]));
    wait_for("owner references removed", EVENTUALLY, || {
        pods(&k).iter().all(|p| owner_uids(&p.json).is_empty())
            && revisions(&k).iter().all(|r| owner_uids(r).is_empty())
    });
    let orphans = pods(&k);
    assert_eq!(
        orphans.iter().map(|p| &p.uid).collect::<Vec<_>>(),
        old.iter().map(|p| &p.uid).collect::<Vec<_>>(),
        "orphaned pods keep running"
    );
    assert_eq!(revisions(&k).len(), 1);

    // A new set with the same name and selector adopts the pods and the revision.
    assert_eq!(k.apply_ok(&web.yaml()), "statefulset.apps/web created\n");
    let new_uid = k.jsonpath(&["sts", "web"], "{.metadata.uid}");
    assert_ne!(new_uid, old_uid);
    wait_for("pods adopted", EVENTUALLY, || {
        pods(&k).iter().all(|p| owner_uids(&p.json) == [new_uid.clone()])
    });
    let s = wait_settled(&k, 3);
    assert_eq!(
        s["status"]["currentRevision"],
        rev.as_str(),
        "the same revision is adopted"
    );
    holds("no pod recreated", HOLD, || {
        let uids: Vec<String> = pods(&k).into_iter().map(|p| p.uid).collect();
        let want: Vec<String> = old.iter().map(|p| p.uid.clone()).collect();
        (uids == want)
            .then_some(())
            .ok_or(format!("uids {uids:?}, want {want:?}"))
    });
    let p = pod(&k, "web-0").json;
    assert_eq!(p["metadata"]["ownerReferences"][0]["controller"], true);
    assert_eq!(p["metadata"]["ownerReferences"][0]["kind"], "StatefulSet");

    // The orphaned ControllerRevision is adopted too (item 61), so the history survives.
    wait_for("the orphaned ControllerRevision adopted", EVENTUALLY, || {
        let r = revisions(&k);
        !r.is_empty() && r.iter().all(|r| owner_uids(r) == [new_uid.clone()])
    });
    let t = table(&k.kubectl_ok(&["rollout", "history", "sts/web"]));
    assert_eq!(
        t[1..],
        [strings(&["REVISION", "CHANGE-CAUSE"]), strings(&["1", "<none>"])]
    );
}

/// 12a. Berth improvement (k/k#67250): a bad revision whose pod never becomes Ready no longer
///      wedges an OrderedReady rollout — reverting the template replaces the broken pod without
///      any manual deletion. (Kubernetes stays stuck until someone deletes web-2 by hand.)
#[test]
fn stuck_rollout_recovers_after_revert() {
    let k = Berth::start();
    let before = start(&k, &Web::default());
    let good = before["status"]["currentRevision"].as_str().unwrap().to_string();
    let old = pods(&k);

    // The "bad" revision: its pods never become Ready.
    k.kubectl_ok(&[
        "patch",
        "sts",
        "web",
        "-p",
        r#"{"spec":{"template":{"metadata":{"annotations":{"sim.berth.dev/ready":"false"}}}}}"#,
    ]);
    let bad = wait_for_value("web-2 replaced at the bad revision", EVENTUALLY, || {
        let p = pods(&k);
        (p.len() == 3 && p[2].uid != old[2].uid && !p[2].terminating && p[2].revision != good)
            .then(|| p[2].clone())
    });
    holds("the rollout stuck at web-2", HOLD, || {
        let p = pods(&k);
        let ok = p.len() == 3
            && p[0].uid == old[0].uid
            && p[1].uid == old[1].uid
            && p[2].uid == bad.uid
            && !p[2].ready;
        ok.then_some(()).ok_or(format!(
            "{:?}",
            p.iter().map(|p| (&p.name, &p.uid, p.ready)).collect::<Vec<_>>()
        ))
    });
    let out = k.kubectl_fails(&["rollout", "status", "sts/web", "--timeout=1s"]);
    assert!(
        out.stdout.contains("Waiting for 1 pods to be ready..."),
        "{out:?}"
    );

    // Revert: no pod is deleted by hand.
    assert_eq!(
        k.kubectl_ok(&["rollout", "undo", "sts/web"]),
        "statefulset.apps/web rolled back\n"
    );
    let s = wait_settled(&k, 3);
    assert_eq!(s["status"]["updateRevision"], good.as_str());
    let p = pods(&k);
    assert_ne!(p[2].uid, bad.uid, "the broken web-2 was replaced");
    assert_eq!(p[2].revision, good);
    assert_eq!(p[0].uid, old[0].uid, "web-0 never restarted");
    assert_eq!(p[1].uid, old[1].uid, "web-1 never restarted");
    assert_eq!(
        rollout_status(&k),
        "partitioned roll out complete: 3 new pods have been updated..."
    );
}

/// 12b. Berth improvement: raising `volumeClaimTemplates[*]…storage` is accepted (Kubernetes
///      forbids any claim template change); lowering it, or any other claim template change, is
///      rejected.
#[test]
fn claim_template_storage_can_grow_not_shrink() {
    let k = Berth::start();
    let web = Web {
        replicas: 1,
        ..Web::default()
    };
    let before = start(&k, &web);
    let rev = before["status"]["updateRevision"].clone();
    let pod_uid = pod(&k, "web-0").uid;
    let grown = Web {
        replicas: 1,
        storage: "2Gi",
        ..Web::default()
    };
    assert_eq!(k.apply_ok(&grown.yaml()), "statefulset.apps/web configured\n");
    assert_eq!(
        k.jsonpath(
            &["sts", "web"],
            "{.spec.volumeClaimTemplates[0].spec.resources.requests.storage}"
        ),
        "2Gi"
    );

    // Equal quantities in another spelling are no change at all.
    let same = Web {
        replicas: 1,
        storage: "2048Mi",
        ..Web::default()
    };
    let out = k.apply_yaml(&same.yaml());
    assert!(out.success(), "{out:?}");
    let storage = |k: &Berth| {
        k.jsonpath(
            &["sts", "web"],
            "{.spec.volumeClaimTemplates[0].spec.resources.requests.storage}",
        )
    };
    let stored = storage(&k);

    let shrunk = Web {
        replicas: 1,
        storage: "1Gi",
        ..Web::default()
    };
    let out = k.apply_yaml(&shrunk.yaml());
    assert!(!out.success(), "shrinking must fail: {out:?}");
    assert!(
        out.stderr.contains(
            "spec.volumeClaimTemplates[0].spec.resources.requests.storage: Forbidden: field can not be less than previous value"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(r#"The StatefulSet "web" is invalid"#),
        "{}",
        out.stderr
    );

    // Other claim template fields stay immutable, with Kubernetes' message.
    let yaml = grown.yaml().replace("[ReadWriteOnce]", "[ReadWriteMany]");
    let out = k.apply_yaml(&yaml);
    assert!(!out.success(), "changing accessModes must fail: {out:?}");
    assert!(
        out.stderr.contains(
            "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(storage(&k), stored, "rejected updates change nothing");

    // Claim templates are not part of the revision: no new revision, no pod replaced (item 55).
    let s = wait_settled(&k, 1);
    assert_eq!(s["status"]["updateRevision"], rev);
    assert_eq!(pod(&k, "web-0").uid, pod_uid);
}

/// 13. `kubectl describe sts` shows the controller's events and the set's summary (item 42).
#[test]
fn describe_shows_controller_events() {
    let k = Berth::start();
    start(
        &k,
        &Web {
            replicas: 2,
            ..Web::default()
        },
    );
    let out = wait_for_value("describe with both creation events", EVENTUALLY, || {
        let out = k.kubectl_ok(&["describe", "sts", "web"]);
        (out.contains("create Pod web-1 in StatefulSet web successful")).then_some(out)
    });
    let has_line = |parts: &[&str]| out.lines().any(|l| parts.iter().all(|p| l.contains(p)));
    for want in [
        &[
            "Normal",
            "SuccessfulCreate",
            "statefulset-controller",
            "create Claim data-web-0 Pod web-0 in StatefulSet web success",
        ][..],
        &[
            "Normal",
            "SuccessfulCreate",
            "statefulset-controller",
            "create Pod web-0 in StatefulSet web successful",
        ],
        &[
            "Normal",
            "SuccessfulCreate",
            "statefulset-controller",
            "create Claim data-web-1 Pod web-1 in StatefulSet web success",
        ],
        &[
            "Normal",
            "SuccessfulCreate",
            "statefulset-controller",
            "create Pod web-1 in StatefulSet web successful",
        ],
        &["Replicas:", "2 desired | 2 total"],
        &["Update Strategy:", "RollingUpdate"],
        &["Pods Status:", "2 Running / 0 Waiting / 0 Succeeded / 0 Failed"],
        &["Selector:", "app=web"],
        &["Capacity:", "1Gi"],
    ] {
        assert!(has_line(want), "no line with {want:?} in:\n{out}");
    }
}

fn growth_manifest(set: &str, class: &str, storage: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: {set}}}
spec:
  replicas: 1
  serviceName: {set}
  selector: {{matchLabels: {{app: {set}}}}}
  template:
    metadata: {{labels: {{app: {set}}}}}
    spec:
      containers: [{{name: c, image: busybox}}]
  volumeClaimTemplates:
  - metadata: {{name: data}}
    spec: {{storageClassName: {class}, accessModes: [ReadWriteOnce], resources: {{requests: {{storage: {storage}}}}}}}
"
    )
}

/// Berth improvement (1), end to end: raising `storage` in a claim template raises the request
/// of the set's existing bound claims whose StorageClass allows expansion, and leaves the others.
/// The claims are bound by hand, as an external provisioner would bind them (Berth's own
/// provisioner comes with the storage work).
#[test]
fn claim_template_growth_expands_bound_claims_of_expandable_classes() {
    let k = Berth::start();
    let classes = "apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: growable}
provisioner: berth.dev/local
parameters: {driver: dir}
volumeBindingMode: Immediate
allowVolumeExpansion: true
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fixed}
provisioner: berth.dev/local
parameters: {driver: dir}
volumeBindingMode: Immediate
";
    let out = k.apply_yaml(classes);
    assert!(out.success(), "{out:?}");
    for (set, class) in [("grow", "growable"), ("keep", "fixed")] {
        let out = k.apply_yaml(&growth_manifest(set, class, "1Gi"));
        assert!(out.success(), "{out:?}");
        let claim = format!("data-{set}-0");
        wait_for(&format!("claim {claim} Bound"), Duration::from_secs(30), || {
            k.kubectl(&["get", "pvc", &claim, "-o", "jsonpath={.status.phase}"])
                .stdout
                == "Bound"
        });
    }
    for (set, class) in [("grow", "growable"), ("keep", "fixed")] {
        let out = k.apply_yaml(&growth_manifest(set, class, "2Gi"));
        assert!(out.success(), "{out:?}");
    }
    let request = |claim: &str| {
        k.kubectl_ok(&[
            "get",
            "pvc",
            claim,
            "-o",
            "jsonpath={.spec.resources.requests.storage}",
        ])
    };
    wait_for("data-grow-0 requests 2Gi", Duration::from_secs(20), || {
        request("data-grow-0") == "2Gi"
    });
    let updated = k.kubectl_ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.kind=StatefulSet,involvedObject.name=grow,reason=SuccessfulUpdate",
        "-o",
        "jsonpath={.items[*].message}",
    ]);
    assert!(
        updated.contains("update Claim data-grow-0 Pod grow-0 in StatefulSet grow success"),
        "{updated:?}"
    );
    holds(
        "data-keep-0 keeps 1Gi",
        Duration::from_secs(2),
        || match request("data-keep-0").as_str() {
            "1Gi" => Ok(()),
            other => Err(format!("data-keep-0 requests {other}")),
        },
    );
}
