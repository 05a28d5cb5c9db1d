//! The traces storage engine (`argus-traces`): spans of the shared model
//! (`argus_model::traces`) through the shared WAL (`argus-wal`, records in
//! [`walrec`]) into memory, then into immutable columnar segments managed
//! by the shared lifecycle (`argus-segments`).
//!
//! Built in steps (issue 12): the WAL records first; the in-memory head,
//! segments, trace lookup and search follow.

pub mod walrec;
