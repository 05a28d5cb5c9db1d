//! Fetching a target: Prometheus's `targetScraper` (`scrape/scrape.go`).
//! Same request headers (Accept, `X-Prometheus-Scrape-Timeout-Seconds`,
//! `User-Agent`), one deadline for the request and the body, only `200 OK`
//! accepted, and a body of `body_size_limit` bytes or more fails the scrape.
//! Argus asks for `Accept-Encoding: identity` (it has no gzip decoder), as
//! Prometheus does with `enable_compression: false`.

use std::time::Duration;

use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, USER_AGENT,
};

use crate::config::ScrapeConfig;
use crate::process::ScrapeOutcome;
use argus_model::format_seconds;

/// `User-Agent` of scrape requests.
pub const USER_AGENT_VALUE: &str = concat!("Argus/", env!("CARGO_PKG_VERSION"));

/// Builds the job's HTTP client (TLS, redirects; no proxy from the
/// environment, like Prometheus's default).
pub(crate) fn build_client(cfg: &ScrapeConfig) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .redirect(if cfg.follow_redirects {
            reqwest::redirect::Policy::limited(10)
        } else {
            reqwest::redirect::Policy::none()
        });
    if let Some(tls) = &cfg.tls_config {
        b = b.danger_accept_invalid_certs(tls.insecure_skip_verify);
        if let Some(ca) = &tls.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| format!("unable to read CA cert {}: {e}", ca.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("unable to use specified CA cert {}: {e}", ca.display()))?;
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
            let mut pem = std::fs::read(cert)
                .map_err(|e| format!("unable to read {}: {e}", cert.display()))?;
            pem.push(b'\n');
            pem.extend(
                std::fs::read(key).map_err(|e| format!("unable to read {}: {e}", key.display()))?,
            );
            let id = reqwest::Identity::from_pem(&pem)
                .map_err(|e| format!("invalid client certificate: {e}"))?;
            b = b.identity(id);
        }
    }
    b.build()
        .map_err(|e| format!("error creating HTTP client: {e}"))
}

/// Fetches one target.
#[derive(Clone)]
pub(crate) struct HttpScraper {
    pub client: reqwest::Client,
    pub url: String,
    pub accept: String,
    pub timeout: Duration,
    /// 0 = no limit.
    pub body_size_limit: u64,
    pub config: std::sync::Arc<ScrapeConfig>,
}

fn read_secret_file(p: &std::path::Path) -> Result<String, String> {
    std::fs::read_to_string(p)
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("unable to read {}: {e}", p.display()))
}

impl HttpScraper {
    fn headers(&self) -> Result<HeaderMap, String> {
        let mut h = HeaderMap::new();
        let val =
            |s: &str| HeaderValue::from_str(s).map_err(|e| format!("invalid header value: {e}"));
        h.insert(ACCEPT, val(&self.accept)?);
        h.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        h.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        h.insert(
            "X-Prometheus-Scrape-Timeout-Seconds",
            val(&format_seconds(self.timeout))?,
        );
        let c = &self.config;
        let auth = if let Some(b) = &c.basic_auth {
            let password = match (&b.password, &b.password_file) {
                (Some(p), _) => p.clone(),
                (None, Some(f)) => read_secret_file(f)?,
                (None, None) => String::new(),
            };
            Some(format!(
                "Basic {}",
                base64(format!("{}:{password}", b.username).as_bytes())
            ))
        } else if let Some(a) = &c.authorization {
            let cred = match (&a.credentials, &a.credentials_file) {
                (Some(s), _) => s.clone(),
                (None, Some(f)) => read_secret_file(f)?,
                (None, None) => String::new(),
            };
            Some(format!("{} {cred}", a.kind))
        } else if let Some(t) = &c.bearer_token {
            Some(format!("Bearer {t}"))
        } else if let Some(f) = &c.bearer_token_file {
            Some(format!("Bearer {}", read_secret_file(f)?))
        } else {
            None
        };
        if let Some(a) = auth {
            let mut v = val(&a)?;
            v.set_sensitive(true);
            h.insert(AUTHORIZATION, v);
        }
        Ok(h)
    }

    /// Performs the request and reads the body within `timeout`.
    pub(crate) async fn scrape(&self) -> ScrapeOutcome {
        let failed = |error: String| ScrapeOutcome::Failed {
            error,
            body_size_exceeded: false,
        };
        let headers = match self.headers() {
            Ok(h) => h,
            Err(e) => return failed(e),
        };
        let req = self.client.get(&self.url).headers(headers);
        match tokio::time::timeout(self.timeout, self.fetch(req)).await {
            Ok(o) => o,
            Err(_) => failed(format!("Get {:?}: context deadline exceeded", self.url)),
        }
    }

    async fn fetch(&self, req: reqwest::RequestBuilder) -> ScrapeOutcome {
        let failed = |error: String| ScrapeOutcome::Failed {
            error,
            body_size_exceeded: false,
        };
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return failed(format!("Get {:?}: {}", self.url, error_chain(&e))),
        };
        if resp.status() != reqwest::StatusCode::OK {
            return failed(format!("server returned HTTP status {}", resp.status()));
        }
        if resp
            .headers()
            .get(CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"))
        {
            return failed(
                "gzip-encoded response not supported (requested Accept-Encoding: identity)".into(),
            );
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let limit = if self.body_size_limit == 0 {
            u64::MAX
        } else {
            self.body_size_limit
        };
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    body.extend_from_slice(&chunk);
                    // Like Prometheus's LimitReader check: reaching the limit fails.
                    if body.len() as u64 >= limit {
                        return ScrapeOutcome::Failed {
                            error: "body size limit exceeded".into(),
                            body_size_exceeded: true,
                        };
                    }
                }
                Ok(None) => break,
                Err(e) => return failed(error_chain(&e)),
            }
        }
        ScrapeOutcome::Body {
            bytes: body,
            content_type,
        }
    }
}

/// An error and its causes, `: `-separated.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// Standard base64 with padding (for basic auth).
fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn headers() {
        let mut cfg = ScrapeConfig::new("j");
        cfg.bearer_token = Some("tok".into());
        let s = HttpScraper {
            client: reqwest::Client::new(),
            url: "http://x:1/metrics".into(),
            accept: argus_ingest::textparse::SCRAPE_ACCEPT_HEADER.into(),
            timeout: Duration::from_millis(1500),
            body_size_limit: 0,
            config: std::sync::Arc::new(cfg),
        };
        let h = s.headers().unwrap();
        assert_eq!(h["x-prometheus-scrape-timeout-seconds"], "1.5");
        assert_eq!(h["accept-encoding"], "identity");
        assert_eq!(h["authorization"], "Bearer tok");
        assert!(h["user-agent"].to_str().unwrap().starts_with("Argus/"));
    }
}
