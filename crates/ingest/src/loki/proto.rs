//! The Loki push protobuf messages (`package logproto`), written by hand
//! after `pkg/push/push.proto` of grafana/loki (Apache-2.0). Field numbers
//! and types are normative; gogoproto options are not part of the wire
//! format and are left out. `PushRequest.format` (2) and
//! `EntryAdapter.parsed` (4) are Loki-internal and skipped as unknown fields.

/// `logproto.PushRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PushRequest {
    #[prost(message, repeated, tag = "1")]
    pub streams: Vec<StreamAdapter>,
}

/// `logproto.StreamAdapter`: a label set in Prometheus notation and its entries.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamAdapter {
    /// `{name="value", ...}`, parsed by [`super::parse_labels`].
    #[prost(string, tag = "1")]
    pub labels: String,
    #[prost(message, repeated, tag = "2")]
    pub entries: Vec<EntryAdapter>,
    /// The sender's hash of the labels; not used by receivers.
    #[prost(uint64, tag = "3")]
    pub hash: u64,
}

/// `logproto.EntryAdapter`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EntryAdapter {
    #[prost(message, optional, tag = "1")]
    pub timestamp: Option<Timestamp>,
    #[prost(string, tag = "2")]
    pub line: String,
    #[prost(message, repeated, tag = "3")]
    pub structured_metadata: Vec<LabelPairAdapter>,
}

/// `logproto.LabelPairAdapter`.
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub struct LabelPairAdapter {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// 0..=999_999_999.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl Timestamp {
    /// Nanoseconds since the epoch, or `None` when `nanos` is outside
    /// `0..1e9` or the result does not fit an `i64` (years ~1677..2262).
    pub fn to_nanos(self) -> Option<i64> {
        if !(0..1_000_000_000).contains(&self.nanos) {
            return None;
        }
        let ns = i128::from(self.seconds) * 1_000_000_000 + i128::from(self.nanos);
        i64::try_from(ns).ok()
    }

    /// The timestamp of `ns` nanoseconds since the epoch (nanos kept non-negative).
    pub fn from_nanos(ns: i64) -> Self {
        Timestamp {
            seconds: ns.div_euclid(1_000_000_000),
            nanos: ns.rem_euclid(1_000_000_000) as i32,
        }
    }
}
