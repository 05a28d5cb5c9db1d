//! Embeds every file under `assets/` into the binary: writes
//! `$OUT_DIR/assets.rs`, a sorted table of `(path, bytes, etag)` whose bytes
//! are `include_bytes!` of the file, so `cargo build` needs no JS toolchain
//! and rebuilds when an asset changes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// FNV-1a, 64 bits: a stable ETag for an asset's bytes.
fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut entries: Vec<(String, PathBuf)> = files
        .into_iter()
        .filter_map(|p| {
            let rel = p.strip_prefix(&root).ok()?.to_str()?.replace('\\', "/");
            Some((rel, p))
        })
        .collect();
    entries.sort();
    let mut code = String::from(
        "/// Every embedded asset, sorted by path.\npub static ASSETS: &[Asset] = &[\n",
    );
    for (rel, path) in &entries {
        println!("cargo:rerun-if-changed={}", path.display());
        let bytes = std::fs::read(path).expect("reading an asset");
        let _ = writeln!(
            code,
            "    Asset {{ path: {rel:?}, bytes: include_bytes!({:?}), etag: \"\\\"{:016x}\\\"\" }},",
            path.display().to_string(),
            fnv(&bytes)
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("assets.rs");
    std::fs::write(out, code).expect("writing assets.rs");
}
