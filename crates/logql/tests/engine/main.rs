//! The engine over a fixed corpus in `MemLogs`, with expected results
//! written out by hand (from Loki's documented and observed behaviour):
//! log queries, metric queries, and the response JSON.

mod common;
mod logs;
mod metric;
mod responses;
