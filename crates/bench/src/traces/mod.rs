//! `bench/run traces` (issue 12, in steps): the trace generator first.

pub(crate) mod gen;
