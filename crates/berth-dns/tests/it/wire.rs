//! Real UDP and TCP round trips against `serve_snapshot`, plus SERVFAIL before the first
//! snapshot exists.

use berth_dns::snapshot::{EndpointAddress, EndpointGroup, Port, ServiceEntry, ServiceKind};
use berth_dns::{SharedSnapshot, Snapshot, serve_snapshot};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

fn snapshot() -> Snapshot {
    let mut s = Snapshot::empty();
    s.namespaces = ["default".to_string()].into();
    s.services.insert(
        ("default".to_string(), "web".to_string()),
        ServiceEntry {
            kind: ServiceKind::Headless,
            ports: vec![Port {
                name: "http".to_string(),
                port: 80,
                protocol: "TCP".to_string(),
            }],
        },
    );
    s.endpoints.insert(
        ("default".to_string(), "web".to_string()),
        vec![EndpointGroup {
            ports: vec![Port {
                name: "http".to_string(),
                port: 80,
                protocol: "TCP".to_string(),
            }],
            addresses: (0..3)
                .map(|i| EndpointAddress {
                    ip: format!("10.244.0.{}", i + 2).parse().unwrap(),
                    hostname: format!("web-{i}"),
                })
                .collect(),
        }],
    );
    s
}

/// Starts a server on loopback; returns its UDP and TCP addresses.
async fn start(shared: SharedSnapshot) -> (SocketAddr, SocketAddr) {
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addrs = (udp.local_addr().unwrap(), tcp.local_addr().unwrap());
    tokio::spawn(serve_snapshot(udp, tcp, shared));
    addrs
}

fn question(id: u16, name: &str, qtype: RecordType) -> Vec<u8> {
    let mut m = Message::new();
    m.set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
    m.to_vec().unwrap()
}

async fn udp_ask(server: SocketAddr, name: &str, qtype: RecordType) -> Message {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.send_to(&question(7, name, qtype), server).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), sock.recv_from(&mut buf))
        .await
        .expect("answer within 5s")
        .unwrap();
    let m = Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(m.id(), 7);
    m
}

fn a_ips(m: &Message) -> Vec<Ipv4Addr> {
    m.answers()
        .iter()
        .filter_map(|r| match r.data() {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn udp_answers_headless_service_endpoint_and_missing_names() {
    let (udp, _) = start(Arc::new(RwLock::new(Some(Arc::new(snapshot()))))).await;
    let m = udp_ask(udp, "web.default.svc.cluster.local.", RecordType::A).await;
    assert_eq!(m.response_code(), ResponseCode::NoError);
    assert!(m.authoritative());
    assert_eq!(m.message_type(), MessageType::Response);
    assert_eq!(
        a_ips(&m),
        [
            Ipv4Addr::new(10, 244, 0, 2),
            Ipv4Addr::new(10, 244, 0, 3),
            Ipv4Addr::new(10, 244, 0, 4)
        ]
    );
    let m = udp_ask(udp, "web-1.web.default.svc.cluster.local.", RecordType::A).await;
    assert_eq!(a_ips(&m), [Ipv4Addr::new(10, 244, 0, 3)]);
    assert_eq!(m.answers()[0].ttl(), 5);

    let m = udp_ask(udp, "nope.default.svc.cluster.local.", RecordType::A).await;
    assert_eq!(m.response_code(), ResponseCode::NXDomain);
    assert!(matches!(m.name_servers()[0].data(), RData::SOA(_)));

    let m = udp_ask(udp, "web.default.svc.cluster.local.", RecordType::AAAA).await;
    assert_eq!(m.response_code(), ResponseCode::NoError);
    assert!(m.answers().is_empty());
    assert!(matches!(m.name_servers()[0].data(), RData::SOA(_)));

    let m = udp_ask(udp, "example.com.", RecordType::A).await;
    assert_eq!(m.response_code(), ResponseCode::Refused);
}

#[tokio::test]
async fn tcp_answers_srv_with_additional_addresses() {
    let (_, tcp) = start(Arc::new(RwLock::new(Some(Arc::new(snapshot()))))).await;
    let mut stream = TcpStream::connect(tcp).await.unwrap();
    let q = question(9, "_http._tcp.web.default.svc.cluster.local.", RecordType::SRV);
    let len = u16::try_from(q.len()).unwrap();
    stream.write_all(&len.to_be_bytes()).await.unwrap();
    stream.write_all(&q).await.unwrap();
    let mut len = [0u8; 2];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut len))
        .await
        .expect("answer within 5s")
        .unwrap();
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut buf).await.unwrap();
    let m = Message::from_vec(&buf).unwrap();
    assert_eq!(m.id(), 9);
    let targets: Vec<String> = m
        .answers()
        .iter()
        .filter_map(|r| match r.data() {
            RData::SRV(s) => Some(format!("{}:{}", s.target(), s.port())),
            _ => None,
        })
        .collect();
    assert_eq!(
        targets,
        [
            "web-0.web.default.svc.cluster.local.:80",
            "web-1.web.default.svc.cluster.local.:80",
            "web-2.web.default.svc.cluster.local.:80"
        ]
    );
    assert_eq!(m.additionals().len(), 3);
}

#[tokio::test]
async fn servfail_until_the_first_snapshot_then_answers() {
    let shared: SharedSnapshot = Arc::new(RwLock::new(None));
    let (udp, _) = start(shared.clone()).await;
    let m = udp_ask(udp, "web.default.svc.cluster.local.", RecordType::A).await;
    assert_eq!(m.response_code(), ResponseCode::ServFail);
    *shared.write().unwrap() = Some(Arc::new(snapshot()));
    let m = udp_ask(udp, "web.default.svc.cluster.local.", RecordType::A).await;
    assert_eq!(m.response_code(), ResponseCode::NoError);
    assert_eq!(a_ips(&m).len(), 3);
}
