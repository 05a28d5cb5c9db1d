//! WAL append throughput: one record per batch of a size typical of a
//! remote-write request (a few KiB to tens of KiB), without fsync, and the
//! cost of append + group-commit fsync.
//!
//! `cargo bench -p argus-wal --bench append`

use argus_wal::{FsyncPolicy, Wal, WalOptions};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("wal_append");
    for size in [256usize, 4096, 32768] {
        let dir = tempfile::tempdir().expect("tempdir");
        let wal = Wal::open(
            dir.path(),
            WalOptions {
                fsync: FsyncPolicy::Never,
                ..Default::default()
            },
        )
        .expect("open");
        let rec: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(format!("no_fsync/{size}B"), |b| {
            b.iter(|| black_box(wal.append(&[black_box(&rec)]).expect("append")))
        });
        wal.close().expect("close");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let wal = Wal::open(dir.path(), WalOptions::default()).expect("open");
    let rec = vec![7u8; 32768];
    g.throughput(Throughput::Bytes(rec.len() as u64));
    g.sample_size(20);
    g.bench_function("fsync_always/32768B", |b| {
        b.iter(|| {
            let seq = wal.append(&[&rec]).expect("append");
            wal.sync(seq).expect("sync");
        })
    });
    wal.close().expect("close");
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
