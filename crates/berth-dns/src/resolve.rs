//! The pure resolver: one question against a [`Snapshot`], answered as CoreDNS's
//! `kubernetes` plugin (`plugin/kubernetes/{handler,kubernetes,parse}.go` and
//! `plugin/backend_lookup.go`) answers it with its default options plus `pods insecure`.
//!
//! - `<svc>.<ns>.svc.<zone>`: A/AAAA → the cluster IPs; headless → the ready endpoints'
//!   IPs; `ExternalName` → a CNAME.
//! - `<host>.<svc>.<ns>.svc.<zone>`: the endpoint whose hostname (or dashed IP) is `<host>`.
//! - `_<port>._<proto>.<svc>.<ns>.svc.<zone>` SRV (and SRV on the bare service name, for
//!   every port), with the targets' addresses in the additional section.
//! - `<a-b-c-d>.<ns>.pod.<zone>` → `a.b.c.d` when the namespace exists.
//! - `dns-version.<zone>` TXT → `1.1.0`.
//! - A name that does not exist is NXDOMAIN, an existing one without records of the type
//!   asked is NODATA (NOERROR, empty answer); both carry the zone's SOA in the authority
//!   section and are authoritative.
//! - Names outside the zone are REFUSED: Berth runs no upstream resolver, and REFUSED is
//!   what a DNS server answers for a zone it does not serve (CoreDNS does the same when no
//!   server block matches), telling stub resolvers to try their next nameserver at once
//!   instead of caching a failure as SERVFAIL would invite.
//!
//! Deviation: an `ExternalName` pointing outside the zone is answered with the CNAME alone
//! (CoreDNS would chase it through its upstream, which Berth does not have).

use crate::snapshot::{EndpointAddress, ServiceKind, Snapshot};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, AAAA, CNAME, NS, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::collections::HashSet;
use std::net::IpAddr;

/// `DNSSchemaVersion` of the Kubernetes DNS specification implemented.
pub const DNS_SCHEMA_VERSION: &str = "1.1.0";
/// TTL of the `dns-version` TXT record.
const DNS_VERSION_TTL: u32 = 28800;
/// How many CNAMEs inside the zone are followed.
const MAX_CNAME_CHAIN: usize = 7;

/// One question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The name asked, as asked (case kept).
    pub name: Name,
    /// The type asked.
    pub qtype: RecordType,
}

/// The answer to one question.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// NOERROR, NXDOMAIN, REFUSED, ...
    pub rcode: ResponseCode,
    /// Whether the `AA` bit is set (always, inside the zone).
    pub authoritative: bool,
    /// The answer section.
    pub answers: Vec<Record>,
    /// The authority section (the SOA on NXDOMAIN and NODATA, NS records).
    pub authority: Vec<Record>,
    /// The additional section (SRV targets' addresses).
    pub additionals: Vec<Record>,
}

impl Response {
    fn new(rcode: ResponseCode, authoritative: bool) -> Response {
        Response {
            rcode,
            authoritative,
            answers: Vec::new(),
            authority: Vec::new(),
            additionals: Vec::new(),
        }
    }

    /// REFUSED, not authoritative.
    pub fn refused() -> Response {
        Response::new(ResponseCode::Refused, false)
    }

    /// SERVFAIL, e.g. before the caches have synced.
    pub fn server_failure() -> Response {
        Response::new(ResponseCode::ServFail, false)
    }
}

/// A name that does not exist (`errNoItems`, `errInvalidRequest`, `errNsNotExposed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NameError;

/// What a target offers (`msg.Service`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Ip(IpAddr),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    host: Host,
    port: i32,
    /// The domain name of the target (`msg.Domain(key)`), without trailing dot.
    domain: String,
}

/// The parsed name (`recordRequest`).
#[derive(Debug, Default, PartialEq, Eq)]
struct Request {
    port: String,
    protocol: String,
    endpoint: String,
    service: String,
    namespace: String,
    pod_or_svc: String,
}

/// Answers one question.
pub fn resolve(snap: &Snapshot, q: &Query) -> Response {
    let Ok(zone) = Name::from_ascii(format!("{}.", snap.zone)) else {
        return Response::server_failure();
    };
    let mut qname = q.name.clone();
    qname.set_fqdn(true);
    if !zone.zone_of(&qname) {
        return Response::refused();
    }
    // The zone as the query spelled it (CoreDNS keeps the case of the question).
    let zone_label_count = usize::from(zone.num_labels());
    let asked_zone = Name::from_labels(
        qname
            .iter()
            .skip(usize::from(qname.num_labels()) - zone_label_count)
            .map(<[u8]>::to_vec),
    )
    .map(|mut n| {
        n.set_fqdn(true);
        n
    })
    .unwrap_or_else(|_| zone.clone());
    let lower = qname.to_lowercase().to_ascii();
    let lower = lower.trim_end_matches('.');
    let ctx = Ctx {
        snap,
        zone: snap.zone.to_ascii_lowercase(),
        asked_zone,
    };
    let result: Result<(Vec<Record>, Vec<Record>), NameError> = match q.qtype {
        RecordType::AXFR | RecordType::IXFR => return Response::refused(),
        RecordType::A | RecordType::AAAA => ctx.address(&qname, lower, q.qtype, 0).map(|r| (r, Vec::new())),
        RecordType::TXT => ctx.txt(&qname, lower).map(|r| (r, Vec::new())),
        RecordType::CNAME => ctx.cname(&qname, lower).map(|r| (r, Vec::new())),
        RecordType::SRV => ctx.srv(&qname, lower),
        RecordType::SOA => Ok((
            if lower == ctx.zone {
                vec![ctx.soa()]
            } else {
                Vec::new()
            },
            Vec::new(),
        )),
        RecordType::NS if lower == ctx.zone => Ok((vec![ctx.ns(&qname)], Vec::new())),
        // Any other type: a fake A lookup tells NODATA from NXDOMAIN.
        _ => ctx
            .address(&qname, lower, RecordType::A, 0)
            .map(|_| (Vec::new(), Vec::new())),
    };
    match result {
        Err(NameError) => {
            let mut r = Response::new(ResponseCode::NXDomain, true);
            r.authority.push(ctx.soa());
            r
        }
        Ok((answers, _)) if answers.is_empty() => {
            let mut r = Response::new(ResponseCode::NoError, true);
            r.authority.push(ctx.soa());
            r
        }
        Ok((answers, additionals)) => {
            let mut r = Response::new(ResponseCode::NoError, true);
            r.answers = answers;
            r.additionals = additionals;
            r
        }
    }
}

struct Ctx<'a> {
    snap: &'a Snapshot,
    /// The zone, lower case, no trailing dot.
    zone: String,
    /// The zone as spelled in the question, fully qualified.
    asked_zone: Name,
}

fn fqdn(domain: &str) -> Option<Name> {
    let mut n = Name::from_ascii(domain).ok()?;
    n.set_fqdn(true);
    Some(n)
}

impl Ctx<'_> {
    fn ttl(&self) -> u32 {
        self.snap.ttl
    }

    /// The zone's SOA (`plugin.SOA`).
    fn soa(&self) -> Record {
        let mname = fqdn(&format!("ns.dns.{}", self.zone)).unwrap_or_else(Name::root);
        let rname = fqdn(&format!("hostmaster.{}", self.zone)).unwrap_or_else(Name::root);
        Record::from_rdata(
            self.asked_zone.clone(),
            self.ttl().min(300),
            RData::SOA(SOA::new(
                mname,
                rname,
                self.snap.serial,
                7200,
                1800,
                86400,
                self.ttl(),
            )),
        )
    }

    fn ns(&self, qname: &Name) -> Record {
        let ns = fqdn(&format!("ns.dns.{}", self.zone)).unwrap_or_else(Name::root);
        Record::from_rdata(qname.clone(), self.ttl(), RData::NS(NS(ns)))
    }

    /// `parseRequest`.
    fn parse(&self, lower: &str) -> Result<Request, NameError> {
        let base = lower
            .strip_suffix(&self.zone)
            .map(|b| b.trim_end_matches('.'))
            .unwrap_or("");
        let mut r = Request::default();
        if base.is_empty() || base == "svc" || base == "pod" {
            return Ok(r);
        }
        let mut segs: Vec<&str> = base.split('.').collect();
        let Some(kind) = segs.pop() else {
            return Ok(r);
        };
        if kind != "svc" && kind != "pod" {
            return Err(NameError);
        }
        r.pod_or_svc = kind.to_string();
        let Some(ns) = segs.pop() else {
            return Ok(r);
        };
        r.namespace = ns.to_string();
        let Some(service) = segs.pop() else {
            return Ok(r);
        };
        r.service = service.to_string();
        match segs.as_slice() {
            [] => {}
            [endpoint] => r.endpoint = endpoint.to_string(),
            [port, protocol] => {
                r.port = strip_underscore(port).to_string();
                r.protocol = strip_underscore(protocol).to_string();
            }
            _ => return Err(NameError),
        }
        Ok(r)
    }

    /// `Records`: the targets a name stands for.
    fn records(&self, lower: &str) -> Result<Vec<Target>, NameError> {
        // `isDefaultNS`: the DNS server's own name exists (Berth does not know its address).
        if lower == format!("ns.dns.{}", self.zone) {
            return Ok(Vec::new());
        }
        let r = self.parse(lower)?;
        if r.pod_or_svc.is_empty() {
            return Ok(Vec::new());
        }
        if !self.snap.namespaces.contains(&r.namespace) {
            return Err(NameError);
        }
        if r.pod_or_svc == "pod" {
            return self.find_pod(&r);
        }
        self.find_services(&r)
    }

    /// `findPods` in `pods insecure` mode: the IP is in the name.
    fn find_pod(&self, r: &Request) -> Result<Vec<Target>, NameError> {
        if r.service.is_empty() {
            return Ok(Vec::new());
        }
        let name = &r.service;
        let ip = if name.matches('-').count() == 3 && !name.contains("--") {
            name.replace('-', ".")
        } else {
            name.replace('-', ":")
        };
        let ip: IpAddr = ip.parse().map_err(|_| NameError)?;
        Ok(vec![Target {
            host: Host::Ip(ip),
            port: 0,
            domain: format!("{}.{}.pod.{}", name, r.namespace, self.zone),
        }])
    }

    /// `findServices`.
    fn find_services(&self, r: &Request) -> Result<Vec<Target>, NameError> {
        if r.service.is_empty() {
            return Ok(Vec::new());
        }
        let key = (r.namespace.clone(), r.service.clone());
        let Some(svc) = self.snap.services.get(&key) else {
            return Err(NameError);
        };
        let svc_domain = format!("{}.{}.svc.{}", r.service, r.namespace, self.zone);
        let mut found = false;
        let mut out = Vec::new();
        match &svc.kind {
            ServiceKind::ExternalName(target) => {
                if r.endpoint.is_empty()
                    && r.port.is_empty()
                    && r.protocol.is_empty()
                    && target.parse::<IpAddr>().is_err()
                {
                    out.push(Target {
                        host: Host::Name(target.clone()),
                        port: 0,
                        domain: svc_domain,
                    });
                    found = true;
                }
            }
            kind if *kind == ServiceKind::Headless || !r.endpoint.is_empty() => {
                for group in self.snap.endpoints.get(&key).into_iter().flatten() {
                    for addr in &group.addresses {
                        let host = endpoint_hostname(addr);
                        if !r.endpoint.is_empty() && !r.endpoint.eq_ignore_ascii_case(&host) {
                            continue;
                        }
                        for p in &group.ports {
                            if !port_matches(r, &p.name, &p.protocol) {
                                continue;
                            }
                            found = true;
                            out.push(Target {
                                host: Host::Ip(addr.ip),
                                port: p.port,
                                domain: format!("{host}.{svc_domain}"),
                            });
                        }
                    }
                }
            }
            ServiceKind::ClusterIp(ips) => {
                for p in &svc.ports {
                    if !port_matches(r, &p.name, &p.protocol) {
                        continue;
                    }
                    found = true;
                    for ip in ips {
                        out.push(Target {
                            host: Host::Ip(*ip),
                            port: p.port,
                            domain: svc_domain.clone(),
                        });
                    }
                }
            }
            ServiceKind::Headless => {}
        }
        if found { Ok(out) } else { Err(NameError) }
    }

    /// `plugin.A` / `plugin.AAAA`.
    fn address(
        &self,
        qname: &Name,
        lower: &str,
        qtype: RecordType,
        depth: usize,
    ) -> Result<Vec<Record>, NameError> {
        let targets = self.records(lower)?;
        let mut seen: HashSet<IpAddr> = HashSet::new();
        let mut out = Vec::new();
        for t in targets {
            match t.host {
                Host::Ip(ip @ IpAddr::V4(v4)) if qtype == RecordType::A => {
                    if seen.insert(ip) {
                        out.push(Record::from_rdata(qname.clone(), self.ttl(), RData::A(A(v4))));
                    }
                }
                Host::Ip(ip @ IpAddr::V6(v6)) if qtype == RecordType::AAAA => {
                    if seen.insert(ip) {
                        out.push(Record::from_rdata(
                            qname.clone(),
                            self.ttl(),
                            RData::AAAA(AAAA(v6)),
                        ));
                    }
                }
                Host::Ip(_) => {}
                Host::Name(target) => {
                    let target_lower = target.trim_end_matches('.').to_ascii_lowercase();
                    if target_lower == lower || depth >= MAX_CNAME_CHAIN {
                        continue;
                    }
                    let Some(target_name) = fqdn(&target) else {
                        continue;
                    };
                    let cname = Record::from_rdata(
                        qname.clone(),
                        self.ttl(),
                        RData::CNAME(CNAME(target_name.clone())),
                    );
                    let in_zone =
                        target_lower == self.zone || target_lower.ends_with(&format!(".{}", self.zone));
                    if in_zone {
                        if let Ok(next) = self.address(&target_name, &target_lower, qtype, depth + 1)
                            && !next.is_empty()
                        {
                            out.push(cname);
                            out.extend(next);
                        }
                    } else {
                        out.push(cname);
                    }
                }
            }
        }
        Ok(out)
    }

    /// `plugin.CNAME`: the CNAME of an `ExternalName` service.
    fn cname(&self, qname: &Name, lower: &str) -> Result<Vec<Record>, NameError> {
        Ok(self
            .records(lower)?
            .into_iter()
            .filter_map(|t| match t.host {
                Host::Name(target) => fqdn(&target)
                    .map(|n| Record::from_rdata(qname.clone(), self.ttl(), RData::CNAME(CNAME(n)))),
                Host::Ip(_) => None,
            })
            .collect())
    }

    /// `Services` for TXT: `dns-version`, else NODATA for existing names.
    fn txt(&self, qname: &Name, lower: &str) -> Result<Vec<Record>, NameError> {
        if lower == format!("dns-version.{}", self.zone) {
            return Ok(vec![Record::from_rdata(
                qname.clone(),
                DNS_VERSION_TTL,
                RData::TXT(TXT::new(vec![DNS_SCHEMA_VERSION.to_string()])),
            )]);
        }
        match self.records(lower) {
            Ok(t) if !t.is_empty() => Ok(Vec::new()),
            _ => Err(NameError),
        }
    }

    /// `plugin.SRV`: one record per (target, port), weights split evenly, and the targets'
    /// addresses as additional records. `ExternalName` services have no SRV records.
    fn srv(&self, qname: &Name, lower: &str) -> Result<(Vec<Record>, Vec<Record>), NameError> {
        let targets: Vec<Target> = self
            .records(lower)?
            .into_iter()
            .filter(|t| matches!(t.host, Host::Ip(_)))
            .collect();
        let total = 100 * targets.len().max(1);
        let weight = ((100.0 / total as f64) * 100.0).floor().max(1.0) as u16;
        let mut seen_srv: HashSet<(String, i32)> = HashSet::new();
        let mut seen_addr: HashSet<(String, IpAddr)> = HashSet::new();
        let (mut records, mut extra) = (Vec::new(), Vec::new());
        for t in targets {
            let Host::Ip(ip) = t.host else { continue };
            if t.port == -1 {
                continue;
            }
            let Some(target) = fqdn(&t.domain) else { continue };
            if seen_srv.insert((t.domain.clone(), t.port)) {
                let port = u16::try_from(t.port).unwrap_or(0);
                records.push(Record::from_rdata(
                    qname.clone(),
                    self.ttl(),
                    RData::SRV(SRV::new(0, weight, port, target.clone())),
                ));
            }
            if seen_addr.insert((t.domain.clone(), ip)) {
                let rdata = match ip {
                    IpAddr::V4(v4) => RData::A(A(v4)),
                    IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
                };
                extra.push(Record::from_rdata(target, self.ttl(), rdata));
            }
        }
        Ok((records, extra))
    }
}

fn strip_underscore(s: &str) -> &str {
    s.strip_prefix('_').unwrap_or(s)
}

/// `matchPortAndProtocol`: an empty request part matches anything.
fn port_matches(r: &Request, name: &str, protocol: &str) -> bool {
    (r.port.is_empty() || r.port.eq_ignore_ascii_case(name))
        && (r.protocol.is_empty() || r.protocol.eq_ignore_ascii_case(protocol))
}

/// `endpointHostname`: the endpoint's hostname, else its IP with dashes.
pub fn endpoint_hostname(addr: &EndpointAddress) -> String {
    if !addr.hostname.is_empty() {
        return addr.hostname.clone();
    }
    match addr.ip {
        IpAddr::V4(v4) => v4.to_string().replace('.', "-"),
        IpAddr::V6(v6) => {
            let dashed = v6.to_string().replace(':', "-");
            if dashed.ends_with('-') {
                format!("{dashed}0")
            } else {
                dashed
            }
        }
    }
}

#[cfg(test)]
mod tests;
