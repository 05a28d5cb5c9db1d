//! The `argus` binary: wiring only. Configuration in [`config`], the
//! server's start-up and shutdown sequence in [`serve`].

mod config;
mod serve;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc malloc: ingest allocates many small label
/// strings, where glibc's malloc spent over half the CPU and kept freed
/// memory (see BENCHMARKS.md). Its arenas are committed on demand, set at
/// compile time in `.cargo/config.toml`.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "argus",
    version,
    about = "Argus: metrics, logs and traces in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// YAML configuration file (see argus.example.yaml).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Address to listen on [default: 127.0.0.1:9009].
        #[arg(long)]
        listen: Option<String>,
        /// Directory for the WAL, local blocks and caches [default: ./data].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Address of the OTLP/gRPC receiver; "" turns it off [default: 127.0.0.1:4317].
        #[arg(long)]
        otlp_grpc_listen: Option<String>,
    },
    /// Check a configuration file and print what it resolves to.
    CheckConfig { file: PathBuf },
    /// Run Prometheus PromQL test scripts (`load`/`eval` …) against the engine.
    Promqltest {
        /// Test script files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            config,
            listen,
            data_dir,
            otlp_grpc_listen,
        } => {
            let cfg = config::Config::load(
                config.as_deref(),
                config::Overrides {
                    listen,
                    data_dir,
                    otlp_grpc_listen,
                },
            )?;
            serve::run(cfg)
        }
        Command::Promqltest { files } => {
            let (mut passed, mut failed) = (0, 0);
            let mut failures = Vec::new();
            for f in &files {
                let r = argus_promql::promqltest::run_file(f);
                println!("{}: {} passed, {} failed", f.display(), r.passed, r.failed);
                passed += r.passed;
                failed += r.failed;
                failures.extend(
                    r.failures
                        .into_iter()
                        .map(|x| format!("{}: {x}", f.display())),
                );
            }
            for x in &failures {
                println!("\n{x}");
            }
            println!("\n{passed} passed, {failed} failed");
            if failed > 0 {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::CheckConfig { file } => {
            let cfg = config::Config::load(Some(&file), config::Overrides::default())?;
            for w in &cfg.warnings {
                eprintln!("warning: {w}");
            }
            println!("{cfg:#?}");
            println!(
                "\n# Limits per signal, as applied (overrides merged over the defaults):\n{}",
                cfg.limits_yaml()?
            );
            Ok(())
        }
    }
}
