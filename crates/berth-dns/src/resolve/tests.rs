//! The resolver against a fixed snapshot: every name form, NXDOMAIN vs NODATA, SRV weights
//! and additionals, CNAMEs, TTLs and the SOA.

use super::*;
use crate::snapshot::{EndpointGroup, Port, ServiceEntry};
use std::net::{Ipv4Addr, Ipv6Addr};

fn port(name: &str, port: i32, protocol: &str) -> Port {
    Port {
        name: name.to_string(),
        port,
        protocol: protocol.to_string(),
    }
}

fn addr(ip: &str, hostname: &str) -> EndpointAddress {
    EndpointAddress {
        ip: ip.parse().expect("ip"),
        hostname: hostname.to_string(),
    }
}

fn key(ns: &str, name: &str) -> (String, String) {
    (ns.to_string(), name.to_string())
}

/// default: `web` (ClusterIP 10.96.0.10, ports http/80 TCP and dns/53 UDP),
/// `db` (headless, web-like StatefulSet pods db-0, db-1 plus an IP-only endpoint),
/// `empty` (headless, no endpoints), `ext` (ExternalName db.example.com),
/// `alias` (ExternalName web.default.svc.cluster.local), `v6` (ClusterIP fd00::10).
fn snap() -> Snapshot {
    let mut s = Snapshot::empty();
    s.serial = 1234;
    s.namespaces = ["default".to_string(), "kube-system".to_string()].into();
    s.services.insert(
        key("default", "web"),
        ServiceEntry {
            kind: ServiceKind::ClusterIp(vec!["10.96.0.10".parse().expect("ip")]),
            ports: vec![port("http", 80, "TCP"), port("dns", 53, "UDP")],
        },
    );
    s.services.insert(
        key("default", "db"),
        ServiceEntry {
            kind: ServiceKind::Headless,
            ports: vec![port("pg", 5432, "TCP")],
        },
    );
    s.endpoints.insert(
        key("default", "db"),
        vec![EndpointGroup {
            ports: vec![port("pg", 5432, "TCP")],
            addresses: vec![
                addr("10.244.0.5", "db-0"),
                addr("10.244.0.6", "db-1"),
                addr("10.244.0.7", ""),
            ],
        }],
    );
    s.services.insert(
        key("default", "empty"),
        ServiceEntry {
            kind: ServiceKind::Headless,
            ports: vec![],
        },
    );
    s.endpoints.insert(
        key("default", "empty"),
        vec![EndpointGroup {
            ports: vec![port("", -1, "")],
            addresses: vec![],
        }],
    );
    s.services.insert(
        key("default", "noports"),
        ServiceEntry {
            kind: ServiceKind::Headless,
            ports: vec![],
        },
    );
    s.endpoints.insert(
        key("default", "noports"),
        vec![EndpointGroup {
            ports: vec![port("", -1, "")],
            addresses: vec![addr("10.244.1.1", "")],
        }],
    );
    s.services.insert(
        key("default", "ext"),
        ServiceEntry {
            kind: ServiceKind::ExternalName("db.example.com".to_string()),
            ports: vec![],
        },
    );
    s.services.insert(
        key("default", "alias"),
        ServiceEntry {
            kind: ServiceKind::ExternalName("web.default.svc.cluster.local".to_string()),
            ports: vec![],
        },
    );
    s.services.insert(
        key("default", "v6"),
        ServiceEntry {
            kind: ServiceKind::ClusterIp(vec!["fd00::10".parse().expect("ip")]),
            ports: vec![port("http", 80, "TCP")],
        },
    );
    s
}

fn ask(name: &str, qtype: RecordType) -> Response {
    resolve(
        &snap(),
        &Query {
            name: Name::from_ascii(name).expect("name"),
            qtype,
        },
    )
}

fn a_ips(r: &Response) -> Vec<Ipv4Addr> {
    r.answers
        .iter()
        .filter_map(|rec| match rec.data() {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect()
}

fn is_nxdomain(r: &Response) -> bool {
    r.rcode == ResponseCode::NXDomain && r.answers.is_empty() && r.authoritative && has_soa(r)
}

fn is_nodata(r: &Response) -> bool {
    r.rcode == ResponseCode::NoError && r.answers.is_empty() && r.authoritative && has_soa(r)
}

fn has_soa(r: &Response) -> bool {
    r.authority.len() == 1 && matches!(r.authority[0].data(), RData::SOA(_))
}

#[test]
fn cluster_ip_service_a_record_with_ttl_5() {
    let r = ask("web.default.svc.cluster.local.", RecordType::A);
    assert_eq!(r.rcode, ResponseCode::NoError);
    assert!(r.authoritative);
    assert_eq!(a_ips(&r), [Ipv4Addr::new(10, 96, 0, 10)]);
    assert_eq!(r.answers[0].ttl(), 5);
    assert_eq!(r.answers[0].name().to_ascii(), "web.default.svc.cluster.local.");
    assert!(r.authority.is_empty());
}

#[test]
fn names_are_case_insensitive_and_keep_the_question_case() {
    let r = ask("WEB.Default.svc.Cluster.Local.", RecordType::A);
    assert_eq!(a_ips(&r), [Ipv4Addr::new(10, 96, 0, 10)]);
    assert_eq!(r.answers[0].name().to_ascii(), "WEB.Default.svc.Cluster.Local.");
}

#[test]
fn aaaa_of_an_ipv4_only_service_is_nodata() {
    assert!(is_nodata(&ask(
        "web.default.svc.cluster.local.",
        RecordType::AAAA
    )));
    let r = ask("v6.default.svc.cluster.local.", RecordType::AAAA);
    let ips: Vec<Ipv6Addr> = r
        .answers
        .iter()
        .filter_map(|rec| match rec.data() {
            RData::AAAA(a) => Some(a.0),
            _ => None,
        })
        .collect();
    assert_eq!(ips, ["fd00::10".parse::<Ipv6Addr>().expect("ip")]);
    assert!(is_nodata(&ask("v6.default.svc.cluster.local.", RecordType::A)));
}

#[test]
fn missing_services_and_namespaces_are_nxdomain() {
    assert!(is_nxdomain(&ask(
        "nope.default.svc.cluster.local.",
        RecordType::A
    )));
    assert!(is_nxdomain(&ask("web.nope.svc.cluster.local.", RecordType::A)));
    assert!(is_nxdomain(&ask("foo.cluster.local.", RecordType::A)));
    assert!(is_nxdomain(&ask(
        "a.b.c.web.default.svc.cluster.local.",
        RecordType::A
    )));
    // NXDOMAIN for other types of a missing name too (the fake A lookup).
    assert!(is_nxdomain(&ask(
        "nope.default.svc.cluster.local.",
        RecordType::MX
    )));
    assert!(is_nxdomain(&ask(
        "nope.default.svc.cluster.local.",
        RecordType::TXT
    )));
}

#[test]
fn existing_names_without_records_of_the_type_are_nodata() {
    assert!(is_nodata(&ask("web.default.svc.cluster.local.", RecordType::MX)));
    assert!(is_nodata(&ask("web.default.svc.cluster.local.", RecordType::TXT)));
    assert!(is_nodata(&ask(
        "web.default.svc.cluster.local.",
        RecordType::CNAME
    )));
    assert!(is_nodata(&ask("default.svc.cluster.local.", RecordType::A)));
    assert!(is_nodata(&ask("svc.cluster.local.", RecordType::A)));
    assert!(is_nodata(&ask("cluster.local.", RecordType::A)));
    assert!(is_nodata(&ask("default.pod.cluster.local.", RecordType::A)));
    // SOA of a name below the apex: NODATA, as CoreDNS answers it.
    assert!(is_nodata(&ask("web.default.svc.cluster.local.", RecordType::SOA)));
}

#[test]
fn headless_services_answer_with_their_ready_endpoints() {
    let r = ask("db.default.svc.cluster.local.", RecordType::A);
    assert_eq!(
        a_ips(&r),
        [
            Ipv4Addr::new(10, 244, 0, 5),
            Ipv4Addr::new(10, 244, 0, 6),
            Ipv4Addr::new(10, 244, 0, 7)
        ]
    );
    // Headless without ports still answers (CoreDNS's port -1 sentinel).
    assert_eq!(
        a_ips(&ask("noports.default.svc.cluster.local.", RecordType::A)),
        [Ipv4Addr::new(10, 244, 1, 1)]
    );
    // Headless with no ready endpoint: NXDOMAIN, as CoreDNS answers it.
    assert!(is_nxdomain(&ask(
        "empty.default.svc.cluster.local.",
        RecordType::A
    )));
}

#[test]
fn endpoint_hostnames_and_dashed_ips_resolve() {
    assert_eq!(
        a_ips(&ask("db-1.db.default.svc.cluster.local.", RecordType::A)),
        [Ipv4Addr::new(10, 244, 0, 6)]
    );
    assert_eq!(
        a_ips(&ask("10-244-0-7.db.default.svc.cluster.local.", RecordType::A)),
        [Ipv4Addr::new(10, 244, 0, 7)]
    );
    assert!(is_nxdomain(&ask(
        "db-9.db.default.svc.cluster.local.",
        RecordType::A
    )));
    // An endpoint query on a ClusterIP service looks at its endpoints (none here).
    assert!(is_nxdomain(&ask(
        "web-0.web.default.svc.cluster.local.",
        RecordType::A
    )));
}

#[test]
fn srv_for_a_named_port_of_a_cluster_ip_service() {
    let r = ask("_http._tcp.web.default.svc.cluster.local.", RecordType::SRV);
    assert_eq!(r.rcode, ResponseCode::NoError);
    assert_eq!(r.answers.len(), 1);
    let RData::SRV(srv) = r.answers[0].data() else {
        panic!("srv expected: {r:?}")
    };
    assert_eq!((srv.priority(), srv.weight(), srv.port()), (0, 100, 80));
    assert_eq!(srv.target().to_ascii(), "web.default.svc.cluster.local.");
    assert_eq!(r.additionals.len(), 1);
    assert_eq!(
        r.additionals[0].name().to_ascii(),
        "web.default.svc.cluster.local."
    );
    assert!(matches!(r.additionals[0].data(), RData::A(a) if a.0 == Ipv4Addr::new(10, 96, 0, 10)));
    // Wrong protocol or port name: NXDOMAIN.
    assert!(is_nxdomain(&ask(
        "_http._udp.web.default.svc.cluster.local.",
        RecordType::SRV
    )));
    assert!(is_nxdomain(&ask(
        "_nope._tcp.web.default.svc.cluster.local.",
        RecordType::SRV
    )));
    // The bare service name lists every port, weights split evenly.
    let r = ask("web.default.svc.cluster.local.", RecordType::SRV);
    let ports: Vec<(u16, u16)> = r
        .answers
        .iter()
        .filter_map(|rec| match rec.data() {
            RData::SRV(s) => Some((s.port(), s.weight())),
            _ => None,
        })
        .collect();
    assert_eq!(ports, [(80, 50), (53, 50)]);
    assert_eq!(r.additionals.len(), 1);
}

#[test]
fn srv_of_a_headless_service_targets_each_endpoint() {
    let r = ask("_pg._tcp.db.default.svc.cluster.local.", RecordType::SRV);
    let targets: Vec<(String, u16, u16)> = r
        .answers
        .iter()
        .filter_map(|rec| match rec.data() {
            RData::SRV(s) => Some((s.target().to_ascii(), s.port(), s.weight())),
            _ => None,
        })
        .collect();
    assert_eq!(
        targets,
        [
            ("db-0.db.default.svc.cluster.local.".to_string(), 5432, 33),
            ("db-1.db.default.svc.cluster.local.".to_string(), 5432, 33),
            ("10-244-0-7.db.default.svc.cluster.local.".to_string(), 5432, 33),
        ]
    );
    let extra: Vec<String> = r.additionals.iter().map(|a| a.name().to_ascii()).collect();
    assert_eq!(extra.len(), 3);
    assert_eq!(extra[0], "db-0.db.default.svc.cluster.local.");
    // No SRV for a service without ports (only the sentinel): NODATA.
    assert!(is_nodata(&ask(
        "noports.default.svc.cluster.local.",
        RecordType::SRV
    )));
}

#[test]
fn pod_names_carry_their_ip() {
    assert_eq!(
        a_ips(&ask("10-244-0-5.default.pod.cluster.local.", RecordType::A)),
        [Ipv4Addr::new(10, 244, 0, 5)]
    );
    assert!(is_nxdomain(&ask(
        "10-244-0-5.nope.pod.cluster.local.",
        RecordType::A
    )));
    assert!(is_nxdomain(&ask(
        "not-an-ip.default.pod.cluster.local.",
        RecordType::A
    )));
    assert!(is_nodata(&ask(
        "10-244-0-5.default.pod.cluster.local.",
        RecordType::AAAA
    )));
    let r = ask("fd00--1.default.pod.cluster.local.", RecordType::AAAA);
    assert!(
        matches!(r.answers[0].data(), RData::AAAA(a) if a.0 == "fd00::1".parse::<Ipv6Addr>().expect("ip"))
    );
}

#[test]
fn external_name_services_are_cnames() {
    let r = ask("ext.default.svc.cluster.local.", RecordType::A);
    assert_eq!(r.rcode, ResponseCode::NoError);
    assert_eq!(r.answers.len(), 1);
    assert!(matches!(r.answers[0].data(), RData::CNAME(c) if c.0.to_ascii() == "db.example.com."));
    let r = ask("ext.default.svc.cluster.local.", RecordType::CNAME);
    assert!(matches!(r.answers[0].data(), RData::CNAME(c) if c.0.to_ascii() == "db.example.com."));
    // A CNAME into the zone is followed.
    let r = ask("alias.default.svc.cluster.local.", RecordType::A);
    assert_eq!(r.answers.len(), 2);
    assert!(matches!(r.answers[0].data(), RData::CNAME(_)));
    assert_eq!(r.answers[1].name().to_ascii(), "web.default.svc.cluster.local.");
    assert_eq!(a_ips(&r), [Ipv4Addr::new(10, 96, 0, 10)]);
    // ExternalName services have no SRV records and no endpoints.
    assert!(is_nxdomain(&ask(
        "_http._tcp.ext.default.svc.cluster.local.",
        RecordType::SRV
    )));
    assert!(is_nodata(&ask("ext.default.svc.cluster.local.", RecordType::SRV)));
}

#[test]
fn apex_soa_ns_and_dns_version() {
    let r = ask("cluster.local.", RecordType::SOA);
    assert_eq!(r.answers.len(), 1);
    let RData::SOA(soa) = r.answers[0].data() else {
        panic!("soa expected")
    };
    assert_eq!(soa.mname().to_ascii(), "ns.dns.cluster.local.");
    assert_eq!(soa.rname().to_ascii(), "hostmaster.cluster.local.");
    assert_eq!(
        (
            soa.serial(),
            soa.refresh(),
            soa.retry(),
            soa.expire(),
            soa.minimum()
        ),
        (1234, 7200, 1800, 86400, 5)
    );
    assert_eq!(r.answers[0].ttl(), 5);
    let r = ask("cluster.local.", RecordType::NS);
    assert!(matches!(r.answers[0].data(), RData::NS(ns) if ns.0.to_ascii() == "ns.dns.cluster.local."));
    let r = ask("dns-version.cluster.local.", RecordType::TXT);
    assert!(matches!(r.answers[0].data(), RData::TXT(t) if t.to_string() == "1.1.0"));
    assert_eq!(r.answers[0].ttl(), 28800);
}

#[test]
fn names_outside_the_zone_are_refused() {
    for name in [
        "example.com.",
        "local.",
        "cluster.local.example.",
        "1.0.0.10.in-addr.arpa.",
    ] {
        let r = ask(name, RecordType::A);
        assert_eq!(r.rcode, ResponseCode::Refused, "{name}");
        assert!(!r.authoritative && r.answers.is_empty() && r.authority.is_empty());
    }
    assert_eq!(
        ask("cluster.local.", RecordType::AXFR).rcode,
        ResponseCode::Refused
    );
}

#[test]
fn endpoint_hostname_dashes_ipv6() {
    assert_eq!(endpoint_hostname(&addr("fd00::", "")), "fd00--0");
    assert_eq!(endpoint_hostname(&addr("fd00::1", "")), "fd00--1");
    assert_eq!(endpoint_hostname(&addr("fd00::1", "h")), "h");
}
