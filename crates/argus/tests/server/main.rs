//! The integration target: every test here starts the real `argus serve`.

mod harness;

mod api;
mod blocks;
mod crash;
mod exemplars;
mod faults;
mod histograms;
mod hostile;
mod layout;
mod logs_clients;
mod logs_crash;
mod otlp;
mod otlp_grpc;
mod prometheus;
mod promqltest;
mod query;
mod query_limits;
mod s3_faults;
mod scrape;
mod traces_clients;
mod traces_crash;
mod traces_links;
mod ui;
