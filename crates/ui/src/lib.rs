//! Argus's web UI: the files under `assets/` (plain ES modules, CSS,
//! HTML; no build step), embedded at build time. The HTTP layer serves
//! them at `/ui/static/<path>` and `index.html` for `/` and every other
//! `/ui/…` page, whose routing happens in the browser.

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// Path below `assets/`, with `/` separators (e.g. `js/app.js`).
    pub path: &'static str,
    pub bytes: &'static [u8],
    /// A strong ETag of the bytes, quotes included.
    pub etag: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The page every UI route answers with.
pub const INDEX: &str = "index.html";

/// The embedded asset at `path` (below `assets/`).
pub fn asset(path: &str) -> Option<&'static Asset> {
    ASSETS
        .binary_search_by(|a| a.path.cmp(path))
        .ok()
        .map(|i| &ASSETS[i])
}

/// The `Content-Type` of an asset, by its extension.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A strong ETag of `bytes` (quotes included): FNV-1a, 64 bits, as the
/// embedded assets' (build.rs).
pub fn etag(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

/// Whether `path` (below `assets/`) is safe to join to a directory: no
/// `..`, no absolute path, no backslash, no empty segment.
pub fn is_clean_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_app_are_embedded_and_sorted() {
        assert!(asset(INDEX).is_some_and(|a| !a.bytes.is_empty()));
        assert!(asset("js/app.js").is_some());
        assert!(asset("nope.js").is_none());
        assert!(ASSETS.windows(2).all(|w| w[0].path < w[1].path));
        assert!(ASSETS.iter().all(|a| a.etag == etag(a.bytes)));
    }

    #[test]
    fn types_and_paths() {
        assert_eq!(content_type("js/app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("x"), "application/octet-stream");
        assert!(is_clean_path("js/app.js"));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "js/../../x",
            "a//b",
            "a\\b",
            "./a",
        ] {
            assert!(!is_clean_path(bad), "{bad}");
        }
    }
}
