//! The gRPC surface: one tonic server (OTLP/gRPC, default port 4317) that
//! every gRPC service registers on. It serves `Export` of
//! `opentelemetry.proto.collector.{metrics,logs,trace}.v1.{Metrics,Logs,Trace}Service`,
//! one generic service each (`Export`).
//!
//! Semantics are those of OTLP/HTTP at `/v1/metrics`, `/v1/logs` and
//! `/v1/traces`: the body is decoded by
//! `argus_ingest::otlp` (so the service takes the raw message, see
//! [`RawCodec`]), the tenant is the `x-scope-orgid` metadata, the same
//! limits apply and what was not stored is a partial success. Errors map to
//! gRPC codes as the OTLP spec asks ([`status_of`]).

use crate::logs_write::{decode_otlp_logs_grpc, ingest_otlp_logs};
use crate::tenant::tenant_of;
use crate::traces_write::ingest_otlp_traces;
use crate::write::ingest_otlp;
use crate::{ApiError, AppState};
use argus_ingest::otlp;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::{http, Bytes};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::service::{Routes, RoutesBuilder};
use tonic::{Code, Status};

/// How long a client told `RESOURCE_EXHAUSTED` (a tenant's limit) should
/// wait before retrying, sent as `google.rpc.RetryInfo`.
const RETRY_DELAY_SECS: i64 = 1;

/// The gRPC server: services are added to one router, served on one port.
pub struct GrpcServer {
    state: Arc<AppState>,
    routes: RoutesBuilder,
}

impl std::fmt::Debug for GrpcServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcServer").finish_non_exhaustive()
    }
}

impl GrpcServer {
    /// The server with all of Argus's gRPC services (OTLP metrics, logs,
    /// traces).
    pub fn new(state: Arc<AppState>) -> Self {
        let mut server = GrpcServer {
            state: state.clone(),
            routes: RoutesBuilder::default(),
        };
        server.add_service(OtlpService::<Metrics>::new(state.clone()));
        server.add_service(OtlpService::<Logs>::new(state.clone()));
        server.add_service(OtlpService::<Traces>::new(state));
        server
    }

    /// Registers a service; its
    /// requests are counted in `argus_grpc_request_duration_seconds`.
    pub fn add_service<S>(&mut self, svc: S) -> &mut Self
    where
        S: tonic::codegen::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.routes.add_service(svc);
        self
    }

    /// The services as one router, with the request metrics around them.
    pub fn into_routes(self) -> Routes {
        let router = self
            .routes
            .routes()
            .into_axum_router()
            .layer(axum::middleware::from_fn_with_state(self.state, track));
        Routes::from(router)
    }

    /// Serves on `listener` until `shutdown` completes (then finishes the
    /// requests in flight).
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), tonic::transport::Error> {
        let incoming =
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
        tonic::transport::Server::builder()
            .add_routes(self.into_routes())
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await
    }
}

/// The gRPC status for an error ([`ApiError::grpc_code`]); a tenant's limit
/// carries `RetryInfo` (the OTLP spec's "recoverable" form: a retry later can
/// succeed).
pub fn status_of(e: &ApiError) -> Status {
    let msg = e.to_string();
    match e {
        ApiError::Limited(_) => Status::with_details(
            Code::ResourceExhausted,
            msg.clone(),
            retry_info_details(Code::ResourceExhausted, &msg, RETRY_DELAY_SECS),
        ),
        _ => Status::new(e.grpc_code(), msg),
    }
}

/// `google.rpc.Status`: the OTLP/HTTP error body and gRPC's
/// `grpc-status-details-bin` trailer.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<ProtoAny>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ProtoAny {
    #[prost(string, tag = "1")]
    pub type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `google.rpc.Status` with one `google.rpc.RetryInfo` detail, encoded for
/// the `grpc-status-details-bin` trailer.
fn retry_info_details(code: Code, message: &str, delay_secs: i64) -> Bytes {
    #[derive(Clone, PartialEq, prost::Message)]
    struct Duration {
        #[prost(int64, tag = "1")]
        seconds: i64,
        #[prost(int32, tag = "2")]
        nanos: i32,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    struct RetryInfo {
        #[prost(message, optional, tag = "1")]
        retry_delay: Option<Duration>,
    }
    let retry = RetryInfo {
        retry_delay: Some(Duration {
            seconds: delay_secs,
            nanos: 0,
        }),
    };
    let status = RpcStatus {
        code: code as i32,
        message: message.to_string(),
        details: vec![ProtoAny {
            type_url: "type.googleapis.com/google.rpc.RetryInfo".into(),
            value: prost::Message::encode_to_vec(&retry),
        }],
    };
    Bytes::from(prost::Message::encode_to_vec(&status))
}

/// Counts requests by method and gRPC code, as [`crate::metrics::track`]
/// does for HTTP. tonic answers `OUT_OF_RANGE` for a message over the size
/// limit, which OTLP clients retry; it becomes `RESOURCE_EXHAUSTED` (not
/// retryable without `RetryInfo`, as gRPC-Go answers), as an oversized
/// OTLP/HTTP body is a 413.
async fn track(State(s): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let method = req
        .extensions()
        .get::<MatchedPath>()
        .map(|_| req.uri().path().to_string());
    let start = Instant::now();
    let mut resp = next.run(req).await;
    // A unary answer carries its status in the headers when it is an
    // error (trailers-only); a success has it in the trailers.
    let mut code = resp
        .headers()
        .get(Status::GRPC_STATUS)
        .map(|v| Code::from_bytes(v.as_bytes()))
        .unwrap_or(Code::Ok);
    if code == Code::OutOfRange {
        code = Code::ResourceExhausted;
        resp.headers_mut()
            .insert(Status::GRPC_STATUS, (code as i32).into());
    }
    // Methods a service does not have are not labels of their own.
    let method = match (method, code) {
        (Some(m), c) if c != Code::Unimplemented => m,
        _ => "other".to_string(),
    };
    s.grpc_metrics
        .observe(&method, code_name(code), start.elapsed().as_secs_f64());
    resp
}

/// The status code's name in the gRPC spec (`OK`, `INVALID_ARGUMENT`, …).
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// A codec that hands the service the raw message bytes, so the service
/// decodes with `argus_ingest` (invalid bytes are `INVALID_ARGUMENT`;
/// tonic's prost codec would answer `INTERNAL`), and encodes `M` replies.
#[derive(Debug)]
pub struct RawCodec<M>(PhantomData<M>);

impl<M> Default for RawCodec<M> {
    fn default() -> Self {
        RawCodec(PhantomData)
    }
}

impl<M: prost::Message + Send + 'static> Codec for RawCodec<M> {
    type Encode = M;
    type Decode = Bytes;
    type Encoder = RawCodec<M>;
    type Decoder = RawCodec<M>;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec::default()
    }
}

impl<M: prost::Message> Encoder for RawCodec<M> {
    type Item = M;
    type Error = Status;

    fn encode(&mut self, item: M, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|e| Status::internal(format!("encoding the reply: {e}")))
    }
}

impl<M> Decoder for RawCodec<M> {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        use bytes::Buf;
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// One OTLP collector service: its name, its reply, and what `Export` does
/// with the raw request ([`OtlpService`] is the rest).
trait Export: Send + Sync + 'static {
    /// The gRPC service name (`opentelemetry.proto.collector.….v1.…Service`).
    const NAME: &'static str;
    type Response: prost::Message + Default + Send + 'static;
    fn export(
        s: Arc<AppState>,
        req: tonic::Request<Bytes>,
    ) -> BoxFuture<Result<Self::Response, ApiError>>;
}

/// An OTLP collector service whose only method is `Export` ([`Export`]).
struct OtlpService<E> {
    state: Arc<AppState>,
    export: PhantomData<fn() -> E>,
}

impl<E> Clone for OtlpService<E> {
    fn clone(&self) -> Self {
        OtlpService {
            state: self.state.clone(),
            export: PhantomData,
        }
    }
}

impl<E> OtlpService<E> {
    fn new(state: Arc<AppState>) -> Self {
        OtlpService {
            state,
            export: PhantomData,
        }
    }
}

impl<E: Export> NamedService for OtlpService<E> {
    const NAME: &'static str = E::NAME;
}

impl<E: Export> tonic::codegen::Service<http::Request<tonic::body::Body>> for OtlpService<E> {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        let state = self.state.clone();
        Box::pin(async move {
            let path = req.uri().path();
            if path
                .strip_prefix('/')
                .and_then(|p| p.strip_suffix("/Export"))
                != Some(E::NAME)
            {
                return Ok(Status::unimplemented("no such method").into_http());
            }
            let limit = state.config.max_decompressed_bytes;
            let mut grpc = Grpc::new(RawCodec::<E::Response>::default())
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(limit);
            Ok(grpc.unary(ExportCall::<E>(state, PhantomData), req).await)
        })
    }
}

struct ExportCall<E>(Arc<AppState>, PhantomData<fn() -> E>);

impl<E: Export> UnaryService<Bytes> for ExportCall<E> {
    type Response = E::Response;
    type Future = BoxFuture<Result<tonic::Response<E::Response>, Status>>;

    fn call(&mut self, req: tonic::Request<Bytes>) -> Self::Future {
        let fut = E::export(self.0.clone(), req);
        Box::pin(async move {
            fut.await
                .map(tonic::Response::new)
                .map_err(|e| status_of(&e))
        })
    }
}

/// `opentelemetry.proto.collector.metrics.v1.MetricsService`.
struct Metrics;

impl Export for Metrics {
    const NAME: &'static str = "opentelemetry.proto.collector.metrics.v1.MetricsService";
    type Response = ExportMetricsServiceResponse;
    fn export(
        s: Arc<AppState>,
        req: tonic::Request<Bytes>,
    ) -> BoxFuture<Result<Self::Response, ApiError>> {
        Box::pin(async move { export_metrics(&s, req).await })
    }
}

/// `Export`: the same steps as `POST /v1/metrics` with a protobuf body.
async fn export_metrics(
    s: &AppState,
    req: tonic::Request<Bytes>,
) -> Result<ExportMetricsServiceResponse, ApiError> {
    s.reader()?;
    let (metadata, _, body) = req.into_parts();
    let tenant = tenant_of(s, &metadata.into_headers())?;
    s.pipeline()?.check_rate(&tenant)?;
    let opts = s.config.otlp.clone();
    let conv = tokio::task::spawn_blocking(move || {
        otlp::decode_request(&body, false).map(|req| otlp::convert(&req, &opts))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::BadData(e.to_string()))?;
    ingest_otlp(s, &tenant, conv).await
}

/// `opentelemetry.proto.collector.logs.v1.LogsService`.
struct Logs;

impl Export for Logs {
    const NAME: &'static str = "opentelemetry.proto.collector.logs.v1.LogsService";
    type Response = ExportLogsServiceResponse;
    fn export(
        s: Arc<AppState>,
        req: tonic::Request<Bytes>,
    ) -> BoxFuture<Result<Self::Response, ApiError>> {
        Box::pin(async move { export_logs(&s, req).await })
    }
}

/// `LogsService/Export`: the same steps as `POST /v1/logs` with a protobuf
/// body.
async fn export_logs(
    s: &AppState,
    req: tonic::Request<Bytes>,
) -> Result<ExportLogsServiceResponse, ApiError> {
    let pipeline = s.logs_pipeline()?;
    let (metadata, _, body) = req.into_parts();
    let tenant = tenant_of(s, &metadata.into_headers())?;
    pipeline.check_rate(&tenant)?;
    let streams = decode_otlp_logs_grpc(body).await?;
    ingest_otlp_logs(s, &tenant, streams).await
}

/// `opentelemetry.proto.collector.trace.v1.TraceService`.
struct Traces;

impl Export for Traces {
    const NAME: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
    type Response = ExportTraceServiceResponse;
    fn export(
        s: Arc<AppState>,
        req: tonic::Request<Bytes>,
    ) -> BoxFuture<Result<Self::Response, ApiError>> {
        Box::pin(async move {
            let pipeline = s.traces_pipeline()?;
            let (metadata, _, body) = req.into_parts();
            let tenant = tenant_of(&s, &metadata.into_headers())?;
            pipeline.check_rate(&tenant)?;
            ingest_otlp_traces(&s, &tenant, body, false).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_otlp_grpc_codes() {
        let code = |e: ApiError| status_of(&e).code();
        assert_eq!(code(ApiError::BadData("x".into())), Code::InvalidArgument);
        assert_eq!(code(ApiError::NotReady("x".into())), Code::Unavailable);
        assert_eq!(code(ApiError::Internal("x".into())), Code::Internal);
        assert_eq!(
            code(ApiError::Unauthorized("x".into())),
            Code::Unauthenticated
        );
        assert_eq!(
            code(ApiError::StorageFull("x".into())),
            Code::ResourceExhausted
        );
        assert!(status_of(&ApiError::StorageFull("x".into()))
            .details()
            .is_empty());
        let limited = status_of(&ApiError::Limited("rate".into()));
        assert_eq!(limited.code(), Code::ResourceExhausted);
        assert_eq!(limited.message(), "rate");
        // google.rpc.Status{code: 8, message: "rate", details: [Any{RetryInfo{1s}}]}
        let details = limited.details();
        assert_eq!(&details[..4], &[0x08, 8, 0x12, 4]);
        let text = String::from_utf8_lossy(details);
        assert!(text.contains("type.googleapis.com/google.rpc.RetryInfo"));
        assert!(details.ends_with(&[0x0a, 2, 0x08, 1]), "{details:?}");
    }
}
