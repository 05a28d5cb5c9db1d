//! Handler tests over a `MemLogs` store.
