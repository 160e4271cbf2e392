//! Dispatching a shared pod informer to per-node views.

use super::*;
use std::time::Duration;

fn pod(name: &str, node: Option<&str>, rv: &str) -> Pod {
    let mut p = Pod::default();
    p.metadata.name = Some(name.into());
    p.metadata.namespace = Some("default".into());
    p.metadata.uid = Some(format!("uid-{name}"));
    p.metadata.resource_version = Some(rv.into());
    p.spec = Some(k8s_openapi::api::core::v1::PodSpec {
        node_name: node.map(str::to_string),
        ..Default::default()
    });
    p
}

fn names(view: &NodePods) -> Vec<String> {
    let mut names: Vec<String> = view
        .state()
        .iter()
        .map(|p| p.metadata.name.clone().unwrap_or_default())
        .collect();
    names.sort();
    names
}

/// Waits (a bounded time) until `view` satisfies `done`.
async fn until(view: &NodePods, done: impl Fn(&NodePods) -> bool) {
    let mut changes = view.changes();
    let wait = async {
        while !done(view) {
            changes.next().await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(5), wait).await.is_err() {
        panic!("the view never got there: {:?}", names(view));
    }
}

#[tokio::test]
async fn pods_reach_the_view_of_their_node_and_views_complete_after_the_first_list() {
    let informer = Informer::<Pod>::detached();
    let hub = NodePodsHub::dispatching(informer.clone());
    let one = hub.node("node-1");
    assert!(!one.is_complete(), "nothing is listed yet");
    informer.apply(watcher::Event::Init);
    for p in [
        pod("a", Some("node-1"), "1"),
        pod("b", Some("node-2"), "2"),
        pod("pending", None, "3"),
    ] {
        informer.apply(watcher::Event::InitApply(p));
    }
    informer.apply(watcher::Event::InitDone);
    until(&one, NodePods::is_complete).await;
    assert_eq!(names(&one), ["a"]);
    let two = hub.node("node-2");
    assert!(
        two.is_complete(),
        "a view asked for after the first list starts complete"
    );
    assert_eq!(names(&two), ["b"]);

    informer.apply(watcher::Event::Apply(pod("pending", Some("node-2"), "4")));
    until(&two, |v| v.state().len() == 2).await;
    assert_eq!(names(&two), ["b", "pending"]);
    assert_eq!(names(&one), ["a"], "other nodes are untouched");

    informer.apply(watcher::Event::Delete(pod("a", Some("node-1"), "5")));
    until(&one, |v| v.state().is_empty()).await;
}

#[tokio::test]
async fn a_view_shares_the_informers_object() {
    let informer = Informer::<Pod>::detached();
    let hub = NodePodsHub::dispatching(informer.clone());
    informer.apply(watcher::Event::Init);
    informer.apply(watcher::Event::InitApply(pod("a", Some("node-1"), "1")));
    informer.apply(watcher::Event::InitDone);
    let view = hub.node("node-1");
    until(&view, |v| v.is_complete() && v.state().len() == 1).await;
    let cached = informer.store().state();
    assert!(
        Arc::ptr_eq(&view.state()[0], &cached[0]),
        "the pod is held once for the process"
    );
}
