use super::*;

#[test]
fn histogram_sorts_count_prefixed_strings_as_go_does() {
    let d = Diagnosis {
        num_all_nodes: 12,
        statuses: [
            vec![Status::unschedulable("Insufficient cpu"); 10],
            vec![Status::unresolvable("node(s) were unschedulable"); 2],
        ]
        .concat(),
        ..Diagnosis::default()
    };
    // "10 …" sorts before "2 …" as strings.
    assert_eq!(
        histogram(&d),
        vec!["10 Insufficient cpu", "2 node(s) were unschedulable"]
    );
}

#[test]
fn one_node_with_several_reasons_counts_each() {
    let d = Diagnosis {
        num_all_nodes: 1,
        statuses: vec![Status {
            code: crate::filter::Code::Unschedulable,
            reasons: vec!["Insufficient cpu".into(), "Insufficient memory".into()],
        }],
        ..Diagnosis::default()
    };
    assert_eq!(
        fit_error(&d),
        "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory."
    );
}

#[test]
fn prefilter_message_replaces_the_histogram() {
    let d = Diagnosis {
        num_all_nodes: 3,
        prefilter_msg: Some("pod has unbound immediate PersistentVolumeClaims".into()),
        statuses: vec![Status::unschedulable("ignored")],
        postfilter_msg: Some(preemption(3, vec![])),
        ..Diagnosis::default()
    };
    assert_eq!(
        fit_error(&d),
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. \
         preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.."
    );
}

#[test]
fn preemption_counts_tried_nodes_and_the_rest_as_not_helpful() {
    assert_eq!(
        preemption(
            3,
            vec![Status::unresolvable(NO_VICTIMS), Status::unresolvable(NO_VICTIMS)]
        ),
        "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, \
         2 No preemption victims found for incoming pod."
    );
}

#[test]
fn no_reasons_at_all_leave_the_bare_prefix() {
    let d = Diagnosis {
        num_all_nodes: 0,
        ..Diagnosis::default()
    };
    assert_eq!(fit_error(&d), "0/0 nodes are available:");
}
