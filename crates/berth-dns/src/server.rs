//! The hickory request handler: answers every question from the current [`Snapshot`]
//! through [`resolve`], SERVFAIL while there is no snapshot yet (CoreDNS answers SERVFAIL
//! until its caches have synced).

use crate::resolve::{Query, Response, resolve};
use crate::snapshot::Snapshot;
use hickory_proto::op::{Header, MessageType, OpCode, ResponseCode};
use hickory_server::authority::MessageResponseBuilder;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use std::sync::{Arc, RwLock};

/// The snapshot the handler answers from; `None` until the first one is built.
pub type SharedSnapshot = Arc<RwLock<Option<Arc<Snapshot>>>>;

/// Answers DNS requests from a [`SharedSnapshot`].
#[derive(Debug, Clone)]
pub struct Handler {
    snapshot: SharedSnapshot,
}

impl Handler {
    /// A handler reading `snapshot`.
    pub fn new(snapshot: SharedSnapshot) -> Handler {
        Handler { snapshot }
    }

    fn current(&self) -> Option<Arc<Snapshot>> {
        self.snapshot.read().ok().and_then(|s| s.clone())
    }
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let builder = MessageResponseBuilder::from_message_request(request);
        let mut header = Header::response_from_request(request.header());
        let response = match (request.op_code(), request.message_type(), request.queries()) {
            (OpCode::Query, MessageType::Query, [q]) => {
                let query = Query {
                    name: q.original().name().clone(),
                    qtype: q.query_type(),
                };
                match self.current() {
                    Some(snap) => resolve(&snap, &query),
                    None => Response::server_failure(),
                }
            }
            (OpCode::Query, MessageType::Query, _) => {
                let mut r = Response::server_failure();
                r.rcode = ResponseCode::FormErr;
                r
            }
            _ => {
                let mut r = Response::server_failure();
                r.rcode = ResponseCode::NotImp;
                r
            }
        };
        header.set_response_code(response.rcode);
        header.set_authoritative(response.authoritative);
        header.set_recursion_available(false);
        let message = builder.build(
            header,
            response.answers.iter(),
            response.authority.iter(),
            std::iter::empty(),
            response.additionals.iter(),
        );
        match response_handle.send_response(message).await {
            Ok(info) => info,
            Err(e) => {
                tracing::debug!(error = %e, "sending a DNS response failed");
                let mut h = Header::response_from_request(request.header());
                h.set_response_code(ResponseCode::ServFail);
                h.into()
            }
        }
    }
}
