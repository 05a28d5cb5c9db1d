//! The traces storage engine (`argus-traces`): spans of the shared model
//! (`argus_model::traces`) through the shared WAL (`argus-wal`, records in
//! [`walrec`]) into memory, then into immutable columnar segments managed
//! by the shared lifecycle (`argus-segments`).
//!
//! Built in steps (issue 12): the WAL records and the in-memory head
//! ([`head`]: spans by trace id, retried spans stored once) first; segments,
//! trace lookup and search follow.

pub mod head;
pub mod segment;
#[cfg(test)]
mod testutil;
pub mod walrec;
