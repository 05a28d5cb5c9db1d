//! `argus serve`: listen at once (HTTP, and OTLP/gRPC unless turned off;
//! `/-/ready` answers 503 and gRPC `UNAVAILABLE`), open storage and replay
//! WALs, then mark ready, start scraping and the block lifecycle; on
//! SIGTERM/SIGINT stop accepting, stop scraping (writing staleness markers),
//! fsync the WALs and exit 0.

use crate::config::Config;
use anyhow::Context;
use argus_api::{ApiConfig, AppState};
use argus_model::{TenantId, TimeSeries};
use argus_scrape::{AppendError, AppendErrorKind};
use argus_tsdb::{Db, DbOptions};
use argus_write::WritePipeline;
use std::sync::Arc;
use tracing::{error, info};

/// Scraped samples go through the write pipeline, like pushed ones: the
/// same rate and label limits, the same counters.
struct PipelineSink(Arc<WritePipeline>);

impl argus_scrape::ScrapeSink for PipelineSink {
    fn append(&self, tenant: &TenantId, series: Vec<TimeSeries>) -> Result<(), AppendError> {
        let received = argus_write::sample_count(&series);
        let outcome = self.0.write(tenant, series).map_err(|e| {
            let kind = if e.is_rate_limited() {
                AppendErrorKind::RateLimited
            } else {
                AppendErrorKind::Storage
            };
            AppendError::new(kind, e.to_string())
        })?;
        match outcome.message(received) {
            None => Ok(()),
            Some(m) if outcome.limited() => Err(AppendError::new(AppendErrorKind::Limited, m)),
            Some(m) => Err(AppendError::new(AppendErrorKind::Rejected, m)),
        }
    }
}

/// `POST /flush`: every store with heads to flush, one after another.
#[derive(Debug)]
struct FlushAll(Vec<Arc<dyn argus_store::Flush>>);

impl argus_store::Flush for FlushAll {
    fn flush(
        &self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(), argus_store::StorageError>> + Send + '_>,
    > {
        Box::pin(async move {
            for f in &self.0 {
                f.flush().await?;
            }
            Ok(())
        })
    }
}

/// Writes the generator's current series into each tenant's metrics.
async fn write_generated(
    p: &Arc<argus_write::spanmetrics::SpanMetricsProcessor>,
    sink: &Arc<WritePipeline>,
) {
    let (p, sink) = (p.clone(), sink.clone());
    let res = tokio::task::spawn_blocking(move || {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        for m in p.collect(now) {
            if let Err(e) = sink.write(&m.tenant, m.series) {
                tracing::warn!(tenant = %m.tenant, error = %e, "writing span metrics failed");
            }
        }
    })
    .await;
    if let Err(e) = res {
        tracing::warn!(error = %e, "span metrics task failed");
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("installing SIGTERM handler");
    tokio::select! {
        _ = term.recv() => info!(signal = "SIGTERM", "shutting down"),
        _ = tokio::signal::ctrl_c() => info!(signal = "SIGINT", "shutting down"),
    }
}

/// Opens storage, retrying while the object store is unreachable (the
/// server stays up and answers 503 on `/-/ready` meanwhile). Local errors
/// (a corrupt WAL that cannot be repaired, permissions) end start-up.
async fn open_with_retry(
    opts: DbOptions,
    storage: argus_objstore::ObjectStorage,
) -> Result<Db, argus_tsdb::DbError> {
    let mut delay = std::time::Duration::from_secs(1);
    loop {
        match Db::open(opts.clone(), storage.clone()).await {
            Err(argus_tsdb::DbError::Storage(e)) if !storage.is_local() => {
                tracing::warn!(error = %e, retry_in_s = delay.as_secs(), "object storage unavailable at start-up, retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(30));
            }
            r => return r,
        }
    }
}

pub(crate) fn run(cfg: Config) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ARGUS_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    for w in &cfg.warnings {
        tracing::warn!("{w}");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(serve(cfg))
}

async fn serve(cfg: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("creating data dir {}", cfg.data_dir.display()))?;
    let api_cfg = ApiConfig {
        default_tenant: cfg.default_tenant.clone(),
        require_tenant: cfg.require_tenant,
        max_request_bytes: cfg.max_request_bytes,
        max_decompressed_bytes: cfg.max_decompressed_bytes,
        otlp: Default::default(),
        engine: cfg.engine.clone(),
        max_concurrency: cfg.max_concurrency,
        max_concurrency_per_tenant: cfg.max_concurrency_per_tenant,
        retention: cfg.retention_text.clone(),
        ui_dir: std::env::var_os("ARGUS_UI_DIR").map(Into::into),
    };
    let state = Arc::new(AppState::new(api_cfg, env!("CARGO_PKG_VERSION")));
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    info!(address = %listener.local_addr()?, version = env!("CARGO_PKG_VERSION"), "listening");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let app = argus_api::router(state.clone());
    let mut http_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = http_stop.wait_for(|s| *s).await;
            })
            .await
    });
    // The gRPC server (OTLP/gRPC): every gRPC service is on this one port.
    let grpc_server = match cfg.otlp_grpc_listen {
        None => None,
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("otlp.grpc_listen: listening on {addr}"))?;
            info!(address = %listener.local_addr()?, "OTLP/gRPC listening");
            let grpc = argus_api::grpc::GrpcServer::new(state.clone());
            let mut grpc_stop = stop_rx.clone();
            Some(tokio::spawn(grpc.serve(listener, async move {
                let _ = grpc_stop.wait_for(|s| *s).await;
            })))
        }
    };

    let storage = argus_objstore::ObjectStorage::new(cfg.backend.clone(), cfg.cache_dir.clone())
        .context("object storage")?;
    let mut opts = DbOptions::new(cfg.data_dir.clone());
    opts.block_range_ms = cfg.block_range_ms;
    opts.compaction_ranges = vec![
        cfg.block_range_ms,
        cfg.block_range_ms * 3,
        cfg.block_range_ms * 12,
    ];
    opts.out_of_order_window_ms = cfg.ooo_window_ms;
    opts.retention_ms = cfg.retention_ms;
    opts.retention_bytes = cfg.retention_bytes;
    opts.max_exemplars = cfg.max_exemplars;
    opts.wal = cfg.wal.clone();
    let started = std::time::Instant::now();
    let logs_storage = storage.clone();
    let traces_storage = storage.clone();
    state.set_catalog(Arc::new(argus_segments::catalog::ObjectCatalog::new(
        storage.clone(),
        argus_model::paths::DataDir::new(cfg.data_dir.clone()),
    )));
    let open = tokio::select! {
        r = open_with_retry(opts, storage) => Some(r),
        _ = shutdown_signal() => None,
    };
    let Some(db) = open else {
        let _ = stop_tx.send(true);
        let _ = server.await;
        if let Some(g) = grpc_server {
            let _ = g.await;
        }
        return Ok(());
    };
    let db = Arc::new(db.context("opening storage")?);
    let pipeline = Arc::new(WritePipeline::new(db.clone(), cfg.limits.clone()));
    // Self-metrics: the API registered its own; the pipeline's and the
    // store's join them in the one registry `/metrics` encodes.
    state.register_metrics(|r| {
        pipeline.metrics().register(r);
        db.register_metrics(r);
    });
    // The logs store, on the same object store, its WALs beside the metrics
    // ones; open before `/-/ready` says ready.
    let logs = Arc::new(
        argus_logs::LogsDb::open(
            {
                let mut o = cfg.logs.logs_options(cfg.data_dir.clone(), cfg.wal.clone());
                // Top-level JSON members as columns, read as `| json` reads them.
                o.json_fields = Some(Arc::new(argus_logql::engine::JsonColumns));
                o
            },
            logs_storage,
        )
        .await
        .context("opening logs storage")?,
    );
    state.register_metrics(|r| logs.register_metrics(r));
    state.set_logs_reader(logs.clone());
    let logs_pipeline =
        argus_write::LogsPipeline::new(logs.clone(), cfg.limits.clone()).context("logs limits")?;
    state.set_logs_ready(Arc::new(logs_pipeline));
    // The traces store, the same way.
    let traces = Arc::new(
        argus_traces::TracesDb::open(
            cfg.traces
                .traces_options(cfg.data_dir.clone(), cfg.wal.clone()),
            traces_storage,
        )
        .await
        .context("opening traces storage")?,
    );
    state.register_metrics(|r| traces.register_metrics(r));
    let mut traces_pipeline = argus_write::TracesPipeline::new(traces.clone(), cfg.limits.clone());
    let generator = match &cfg.generator {
        Some(g) => {
            let p = Arc::new(
                argus_write::spanmetrics::SpanMetricsProcessor::new(g.processor.clone())
                    .context("metrics_generator")?,
            );
            traces_pipeline = traces_pipeline.with_generator(p.clone());
            Some((p, g.interval))
        }
        None => None,
    };
    state.set_traces_ready(Arc::new(traces_pipeline), traces.clone());
    // `POST /flush` flushes logs and traces.
    state.set_flush(Arc::new(FlushAll(vec![logs.clone(), traces.clone()])));
    state.set_ready(db.clone(), pipeline.clone());
    info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "storage open, ready"
    );

    let scrape = Arc::new(argus_scrape::ScrapeManager::start(
        cfg.scrape_configs.clone(),
        cfg.global.clone(),
        cfg.default_tenant.clone(),
        Arc::new(PipelineSink(pipeline.clone())),
    ));
    state.register_metrics(|r| scrape.register_metrics(r));
    let maint_db = db.clone();
    let interval = cfg.maintenance_interval;
    let mut maint_stop = stop_rx.clone();
    let maint_logs = logs.clone();
    let maint_traces = traces.clone();
    let maintenance = tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    maint_db.maintain().await;
                    maint_logs.maintain().await;
                    maint_traces.maintain().await;
                }
                _ = maint_stop.changed() => return,
            }
        }
    });
    // The span metrics and service graphs, written into each tenant's
    // metrics as Tempo's generator remote-writes them.
    let generating = generator.map(|(p, interval)| {
        let mut stop = stop_rx.clone();
        let sink = pipeline.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => write_generated(&p, &sink).await,
                    _ = stop.changed() => return,
                }
            }
        })
    });
    // Logs flush by size as well as age, checked every second, in a task of
    // their own: a long compaction or metrics maintenance does not hold
    // them back (and with them the memory the heads hold).
    let mut flush_stop = stop_rx.clone();
    let flush_logs = logs.clone();
    let flush_traces = traces.clone();
    let flushing = tokio::spawn(async move {
        let mut flush = tokio::time::interval(std::time::Duration::from_secs(1));
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = flush.tick() => {
                    flush_logs.flush_due().await;
                    flush_traces.flush_due().await;
                }
                _ = flush_stop.changed() => return,
            }
        }
    });

    shutdown_signal().await;
    let _ = stop_tx.send(true);
    if let Ok(scrape) = Arc::try_unwrap(scrape) {
        scrape.stop().await;
    }
    let _ = maintenance.await;
    let _ = flushing.await;
    if let Some(g) = generating {
        let _ = g.await;
    }
    match server.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => error!(error = %e, "http server failed"),
        Err(e) => error!(error = %e, "http server task failed"),
    }
    if let Some(g) = grpc_server {
        match g.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => error!(error = %e, "grpc server failed"),
            Err(e) => error!(error = %e, "grpc server task failed"),
        }
    }
    db.close().context("closing storage")?;
    info!("stopped");
    Ok(())
}
