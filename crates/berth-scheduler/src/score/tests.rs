use super::*;
use crate::testutil::{World, node_with, pod};
use serde_json::json;

#[test]
fn default_normalize_scales_by_the_maximum_and_reverses() {
    assert_eq!(default_normalize(&[0, 5, 10], false), vec![0, 50, 100]);
    assert_eq!(default_normalize(&[0, 5, 10], true), vec![100, 50, 0]);
    assert_eq!(default_normalize(&[0, 0], false), vec![0, 0]);
    assert_eq!(default_normalize(&[0, 0], true), vec![100, 100]);
}

#[test]
fn min_max_normalize_spans_zero_to_hundred() {
    assert_eq!(min_max_normalize(&[-4, 0, 10]), vec![0, 28, 100]);
    assert_eq!(min_max_normalize(&[3, 3]), vec![0, 0]);
}

#[test]
fn least_allocated_and_balance_follow_requests() {
    let n = node_with(
        "a",
        json!({}),
        json!({"status": {"allocatable": {"cpu": "4", "memory": "4Gi", "pods": "10"}}}),
    );
    let half = pod(
        "h",
        json!({}),
        json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "2", "memory": "2Gi"}}}]}),
    );
    let w = World::new(vec![n]).with("a", half);
    let p = pod(
        "p",
        json!({}),
        json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "1", "memory": "0"}}}]}),
    );
    let (la, ba) = w.snapshot(&p, |s| {
        (
            least_allocated(&pod_requests(&p, true), &s.nodes[0]),
            balanced_allocation(&pod_requests(&p, false), &s.nodes[0]),
        )
    });
    // cpu: (4-3)/4 = 25; memory: (4Gi-2Gi)/4Gi = 50 (an explicit 0 request stays 0) → 37.
    assert_eq!(la, 37);
    // fractions 0.75 and 0.5 → std 0.125 → 87.
    assert_eq!(ba, 87);
}

#[test]
fn pick_prefers_the_highest_total_then_the_first_name() {
    let w = World::new(vec![
        crate::testutil::node("a", json!({})),
        crate::testutil::node("b", json!({})),
    ]);
    let p = pod("p", json!({}), json!({}));
    w.snapshot(&p, |s| {
        let f: Vec<&NodeInfo<'_>> = s.nodes.iter().collect();
        assert_eq!(pick(&f, &[5, 7]), Some("b".to_string()));
        assert_eq!(pick(&f, &[7, 7]), Some("a".to_string()));
        assert_eq!(pick(&[], &[]), None);
    });
}
