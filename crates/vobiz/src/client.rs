//! The Vobiz Partner API client: authenticated GET requests with bounded retries.
//!
//! didbill only reads from the API, so the client only knows GET. The partner's
//! credentials come from the environment only and the token lives in [`Token`],
//! whose `Debug` and `Display` print `***`; it is sent as a header marked sensitive
//! and scrubbed from anything the server echoes back into an error. TLS is rustls
//! with the system's trust store and certificate checks that cannot be turned off;
//! plain `http://` is accepted only for loopback hosts (the fake server).
//! Redirects are not followed: a redirect would carry the token to another URL.
//! Bodies are read up to a limit (16 MiB by default): a longer answer fails the
//! request without being held in memory.
//!
//! One semaphore bounds the requests in flight (`[api] concurrency`); a request
//! holds its permit while it is on the wire, not while it waits to retry.

use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, LOCATION, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::retry::{parse_retry_after, RetryPolicy};
use crate::settings::ApiSettings;

/// Environment variable holding the partner auth id.
pub const AUTH_ID_ENV: &str = "VOBIZ_AUTH_ID";
/// Environment variable holding the partner auth token.
pub const AUTH_TOKEN_ENV: &str = "VOBIZ_AUTH_TOKEN";
/// Environment variable overriding `[api] base_url`.
pub const API_BASE_ENV: &str = "VOBIZ_API_BASE";

/// How much of an unusable body an error message quotes.
const BODY_START_CHARS: usize = 200;

/// The partner's secret token; it prints as `***` whatever the formatter.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The partner credentials sent with every request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    auth_id: String,
    token: Token,
}

impl Credentials {
    /// Credentials from their two values (surrounding whitespace is dropped).
    pub fn new(auth_id: &str, token: &str) -> Result<Credentials> {
        let (auth_id, token) = (auth_id.trim(), token.trim());
        if auth_id.is_empty() || token.is_empty() {
            return Err(Error::Usage(format!(
                "{AUTH_ID_ENV} and {AUTH_TOKEN_ENV} must both be set to the partner credentials"
            )));
        }
        // Header values must be visible ASCII; the token itself is never quoted.
        let visible = |s: &str| s.bytes().all(|b| b.is_ascii_graphic());
        if !visible(auth_id) {
            return Err(Error::Usage(format!(
                "{AUTH_ID_ENV} contains characters that cannot be sent in an HTTP header"
            )));
        }
        if !visible(token) {
            return Err(Error::Usage(format!(
                "{AUTH_TOKEN_ENV} contains characters that cannot be sent in an HTTP header"
            )));
        }
        Ok(Credentials {
            auth_id: auth_id.to_owned(),
            token: Token(token.to_owned()),
        })
    }

    /// The partner auth id (not secret).
    pub fn auth_id(&self) -> &str {
        &self.auth_id
    }
}

/// Checks an API base URL: `https://`, or plain `http://` to a loopback host only.
pub fn parse_base_url(text: &str) -> Result<Url> {
    let text = text.trim().trim_end_matches('/');
    if !text.contains("://") {
        // `127.0.0.1:8787/api` parses as a relative URL or as scheme `127.0.0.1`:
        // either way, what is missing is the scheme.
        let host = match text.strip_prefix('[') {
            Some(v6) => v6.split(']').next(),
            None => text.split(['/', ':']).next(),
        }
        .unwrap_or_default();
        let scheme = if is_loopback(host) { "http" } else { "https" };
        return Err(Error::Usage(format!(
            "API base URL {text:?} has no scheme: write {scheme}://{text}"
        )));
    }
    let url = Url::parse(text)
        .map_err(|e| Error::Usage(format!("API base URL {text:?} is not a URL: {e}")))?;
    if url.cannot_be_a_base()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(Error::Usage(format!(
            "API base URL {text:?} must be a plain https:// URL without user, query or fragment"
        )));
    }
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(host) => Ok(url),
        "http" => Err(Error::Usage(format!(
            "refusing plain http:// to {host}: the token would cross the network unencrypted; \
             use https:// (plain http is allowed only to localhost, 127.0.0.1 or [::1])"
        ))),
        other => Err(Error::Usage(format!(
            "API base URL {text:?} has scheme {other}:, expected https://"
        ))),
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Why a request finally failed. The text never holds the token.
#[derive(Debug)]
pub enum ApiError {
    /// The API answered with a status that is not retried (401, 403, 404, 422, …).
    Refused {
        /// The HTTP status.
        status: StatusCode,
        /// The request, `GET /path?query`.
        request: String,
        /// The server's `message` (or the start of its body), scrubbed.
        detail: String,
    },
    /// Every attempt failed with a retryable problem, or waiting longer was not allowed.
    GaveUp {
        /// The request, `GET /path?query`.
        request: String,
        /// Attempts made.
        attempts: u32,
        /// The last problem seen.
        last: String,
        /// The base URL, when the last attempt could not connect to it (the address
        /// may be mistyped, so the message names it and where it is set).
        unreachable: Option<String>,
    },
    /// The body was not JSON of the documented shape, twice.
    BadBody {
        /// The request, `GET /path?query`.
        request: String,
        /// What was wrong with it.
        problem: String,
        /// The first characters of the body, escaped and scrubbed.
        body_start: String,
    },
    /// Paging through a listing went wrong (a repeated page, no end in sight).
    Paging {
        /// The listing, `GET /path`.
        listing: String,
        /// What happened.
        problem: String,
    },
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Refused {
                status,
                request,
                detail,
            } => {
                let said = if detail.is_empty() {
                    String::new()
                } else {
                    format!(" (the API said: {detail})")
                };
                let hint = match status.as_u16() {
                    401 => format!(
                        "the credentials were refused; check {AUTH_ID_ENV} / {AUTH_TOKEN_ENV}"
                    ),
                    403 => "these credentials may not read this; use the partner's own credentials"
                        .into(),
                    404 => format!(
                        "not found; check the base URL (--api-base, {API_BASE_ENV} or [api] base_url)"
                    ),
                    422 => "the API rejected the request as invalid".into(),
                    300..=399 => "redirects are not followed; set the base URL to the final address"
                        .into(),
                    _ => "unexpected answer".into(),
                };
                write!(f, "{request}: HTTP {status}: {hint}{said}")
            }
            ApiError::GaveUp {
                request,
                attempts,
                last,
                unreachable,
            } => {
                write!(f, "{request}: gave up after {attempts} attempt(s); last: {last}")?;
                if let Some(base) = unreachable {
                    write!(
                        f,
                        "; cannot reach {base}: check the address (--api-base, {API_BASE_ENV} \
                         or [api] base_url) and the network"
                    )?;
                }
                Ok(())
            }
            ApiError::BadBody {
                request,
                problem,
                body_start,
            } => write!(
                f,
                "{request}: the answer is not what the API documents ({problem}); the body starts {body_start}"
            ),
            ApiError::Paging { listing, problem } => write!(f, "{listing}: {problem}"),
        }
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Error {
        Error::Api(e.to_string())
    }
}

/// What one attempt produced.
enum Attempt {
    /// A 2xx body.
    Body(Vec<u8>),
    /// A problem worth another attempt, with the server's `Retry-After` if any.
    /// `unreachable` when no connection could be made at all.
    Retry {
        problem: String,
        retry_after: Option<std::time::Duration>,
        unreachable: bool,
    },
    /// A status that is final.
    Refused { status: StatusCode, body: Vec<u8> },
    /// A 2xx body longer than the limit: final, and never read whole.
    TooLarge { body_start: Vec<u8> },
}

/// How far reading a body got.
enum Body {
    /// All of it.
    Complete(Vec<u8>),
    /// The first `limit` bytes of a longer body.
    Truncated(Vec<u8>),
}

/// Reads at most `limit` bytes of a body, chunk by chunk, so an endless or huge
/// answer costs no more memory than the limit (the declared length is checked
/// first, but not trusted).
async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> std::result::Result<Body, reqwest::Error> {
    let declared = response.content_length().unwrap_or(0);
    // Declared too long: only the first chunk is read, to quote its start.
    let too_long = declared > limit as u64;
    let mut body = Vec::with_capacity(if too_long { 0 } else { declared as usize });
    while let Some(chunk) = response.chunk().await? {
        let room = limit - body.len();
        if too_long || chunk.len() > room {
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            return Ok(Body::Truncated(body));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(if too_long {
        Body::Truncated(body)
    } else {
        Body::Complete(body)
    })
}

/// An authenticated Vobiz API client; share it behind an `Arc`.
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Token,
    permits: Semaphore,
    retry: RetryPolicy,
    max_body_bytes: usize,
    requests: AtomicU64,
    retries: AtomicU64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `settings.base_url` sending `credentials` with every request.
    pub fn new(settings: &ApiSettings, credentials: &Credentials) -> Result<Client> {
        let base = parse_base_url(&settings.base_url)?;
        let header = |value: &str| {
            HeaderValue::from_str(value)
                .map_err(|_| Error::Usage("a credential cannot be sent as an HTTP header".into()))
        };
        let mut token = header(&credentials.token.0)?;
        token.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert("x-auth-id", header(&credentials.auth_id)?);
        headers.insert("x-auth-token", token);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        // The process-wide rustls provider; an error only says one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .tls_backend_rustls()
            .default_headers(headers)
            .user_agent(concat!("didbill/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Api(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Client {
            http,
            base,
            token: credentials.token.clone(),
            permits: Semaphore::new(settings.concurrency.max(1)),
            retry: settings.retry.clone(),
            max_body_bytes: settings.max_body_bytes,
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        })
    }

    /// Requests sent and retries made so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.retries.load(Ordering::Relaxed),
        )
    }

    /// GETs the path made of `segments` (each percent-encoded) under the base URL
    /// and reads the body with `parse`, retrying as the policy allows: 429, 5xx
    /// gateway errors, timeouts and connection errors with backoff; a body `parse`
    /// rejects once more; everything else not at all.
    pub async fn get<T>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
        parse: impl Fn(&[u8]) -> std::result::Result<T, String>,
    ) -> std::result::Result<T, ApiError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("base URLs are checked to be hierarchical")
            .pop_if_empty()
            .extend(segments);
        let request = describe_request(segments, query);
        let mut waited = std::time::Duration::ZERO;
        let mut body_retried = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (problem, retry_after, unreachable) =
                match self.attempt(&url, query, &request, attempt).await {
                    Attempt::Body(body) => match parse(&body) {
                        Ok(value) => return Ok(value),
                        Err(problem) if !body_retried && attempt < self.retry.max_attempts => {
                            body_retried = true;
                            (problem, None, false)
                        }
                        Err(problem) => {
                            return Err(ApiError::BadBody {
                                request,
                                problem: self.scrub(&problem),
                                body_start: self.body_start(&body),
                            })
                        }
                    },
                    Attempt::Retry {
                        problem,
                        retry_after,
                        unreachable,
                    } => (problem, retry_after, unreachable),
                    Attempt::Refused { status, body } => {
                        return Err(ApiError::Refused {
                            status,
                            request,
                            detail: self.server_message(&body),
                        })
                    }
                    Attempt::TooLarge { body_start } => {
                        return Err(ApiError::BadBody {
                            request,
                            problem: format!(
                                "the body is larger than {} bytes, far more than a page of records",
                                self.max_body_bytes
                            ),
                            body_start: self.body_start(&body_start),
                        })
                    }
                };
            let unreachable = unreachable.then(|| self.base.to_string());
            if attempt >= self.retry.max_attempts {
                return Err(ApiError::GaveUp {
                    request,
                    attempts: attempt,
                    last: problem,
                    unreachable,
                });
            }
            let delay = self.retry.delay(attempt, retry_after);
            if waited + delay > self.retry.max_total_wait {
                return Err(ApiError::GaveUp {
                    request,
                    attempts: attempt,
                    last: format!(
                        "{problem}; waiting {delay:?} more would exceed the retry budget of {:?}",
                        self.retry.max_total_wait
                    ),
                    unreachable,
                });
            }
            self.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%request, attempt, %problem, delay_ms = delay.as_millis() as u64, "retrying");
            tokio::time::sleep(delay).await;
            waited += delay;
        }
    }

    /// One request on the wire, holding a concurrency permit until its body is read.
    async fn attempt(
        &self,
        url: &Url,
        query: &[(&str, String)],
        request: &str,
        attempt: u32,
    ) -> Attempt {
        let _permit = self.permits.acquire().await.expect("never closed");
        self.requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let outcome = self.send(url, query).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &outcome {
            Attempt::Body(_) => tracing::debug!(%request, attempt, elapsed_ms, "ok"),
            Attempt::Retry { problem, .. } => {
                tracing::debug!(%request, attempt, elapsed_ms, %problem, "retryable failure")
            }
            Attempt::Refused { status, .. } => {
                tracing::debug!(%request, attempt, elapsed_ms, %status, "refused")
            }
            Attempt::TooLarge { .. } => {
                tracing::debug!(%request, attempt, elapsed_ms, "body too large")
            }
        }
        outcome
    }

    async fn send(&self, url: &Url, query: &[(&str, String)]) -> Attempt {
        let response = match self.http.get(url.clone()).query(query).send().await {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Retry {
                    unreachable: e.is_connect(),
                    problem: transport_problem(e),
                    retry_after: None,
                }
            }
        };
        let status = response.status();
        if status.is_success() {
            return match read_body(response, self.max_body_bytes).await {
                Ok(Body::Complete(body)) => Attempt::Body(body),
                Ok(Body::Truncated(body_start)) => Attempt::TooLarge { body_start },
                Err(e) => Attempt::Retry {
                    problem: transport_problem(e),
                    retry_after: None,
                    unreachable: false,
                },
            };
        }
        if matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504) {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            return Attempt::Retry {
                problem: format!("HTTP {status}"),
                retry_after,
                unreachable: false,
            };
        }
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|l| format!("redirected to {l}").into_bytes());
        // An error body is only quoted: its start is enough.
        let body = match location {
            Some(l) => l,
            None => match read_body(response, BODY_START_CHARS * 4).await {
                Ok(Body::Complete(b) | Body::Truncated(b)) => b,
                Err(_) => Vec::new(),
            },
        };
        Attempt::Refused { status, body }
    }

    /// Replaces every occurrence of the token (a server might echo request headers).
    fn scrub(&self, text: &str) -> String {
        text.replace(self.token.0.as_str(), "***")
    }

    /// The first characters of a body, scrubbed, then escaped for one line.
    fn body_start(&self, body: &[u8]) -> String {
        // Scrub a window longer than what is shown by the token's length, so a token
        // straddling the cut cannot leave a visible prefix behind.
        let window = &body[..body.len().min(BODY_START_CHARS * 4 + self.token.0.len())];
        let text = self.scrub(&String::from_utf8_lossy(window));
        let shown: String = text.chars().take(BODY_START_CHARS).collect();
        if body.is_empty() {
            "(empty)".into()
        } else if text.chars().count() > BODY_START_CHARS || window.len() < body.len() {
            format!("{shown:?}…")
        } else {
            format!("{shown:?}")
        }
    }

    /// The `message` (or `error`) of a documented error body, else the body's start.
    fn server_message(&self, body: &[u8]) -> String {
        #[derive(Deserialize)]
        struct ErrorBody {
            #[serde(default)]
            message: Option<String>,
            #[serde(default)]
            error: Option<String>,
        }
        if body.is_empty() {
            return String::new();
        }
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(ErrorBody {
                message: Some(m), ..
            })
            | Ok(ErrorBody { error: Some(m), .. }) => {
                let m: String = m.chars().take(BODY_START_CHARS).collect();
                format!("{:?}", self.scrub(&m))
            }
            _ => self.body_start(body),
        }
    }
}

/// `GET /a/b?x=1&y=2` for messages and logs (the path relative to the base URL).
fn describe_request(segments: &[&str], query: &[(&str, String)]) -> String {
    let mut text = String::from("GET ");
    for s in segments {
        text.push('/');
        text.push_str(s);
    }
    for (i, (k, v)) in query.iter().enumerate() {
        text.push(if i == 0 { '?' } else { '&' });
        text.push_str(k);
        text.push('=');
        text.push_str(v);
    }
    text
}

/// A transport error with its causes, without the URL (the message names the request).
fn transport_problem(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "transport error"
    };
    let e = e.without_url();
    let mut text = format!("{kind}: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_never_prints() {
        let c = Credentials::new(" MA_P ", " s3cr3t-token\n").unwrap();
        assert_eq!(c.auth_id(), "MA_P");
        let shown = format!("{c:?} {} {:?} {:#?}", c.token, c.token, c);
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("***"));
        let err = Credentials::new("MA_P", "bad token")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("VOBIZ_AUTH_TOKEN") && !err.contains("bad token"),
            "{err}"
        );
        assert!(Credentials::new("", "x").is_err());
    }

    #[test]
    fn only_https_or_loopback_http_is_accepted() {
        for ok in [
            "https://api.vobiz.ai/api/v1/partner/",
            "http://127.0.0.1:8787/api/v1/partner",
            "http://localhost:9",
            "http://[::1]:8787",
            "http://127.3.2.1",
        ] {
            assert!(parse_base_url(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("http://api.vobiz.ai", "refusing plain http://"),
            ("http://10.0.0.1", "refusing plain http://"),
            ("http://localhost.example.com", "refusing plain http://"),
            ("ftp://api.vobiz.ai", "scheme ftp"),
            ("https://user:pw@api.vobiz.ai", "without user"),
            ("https://api.vobiz.ai?x=1", "without user, query"),
            ("api.vobiz.ai", "has no scheme: write https://api.vobiz.ai"),
            (
                "127.0.0.1:8787",
                "has no scheme: write http://127.0.0.1:8787",
            ),
            (
                "[::1]:8787/api",
                "has no scheme: write http://[::1]:8787/api",
            ),
            ("https://exa mple.com", "not a URL"),
        ] {
            let err = parse_base_url(bad).unwrap_err();
            assert!(
                matches!(err, Error::Usage(_)),
                "a usage error (exit 2): {err}"
            );
            assert!(err.to_string().contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn requests_are_described_relative_to_the_base() {
        assert_eq!(
            describe_request(
                &["accounts", "MA_1", "numbers"],
                &[("page", "2".into()), ("per_page", "100".into())]
            ),
            "GET /accounts/MA_1/numbers?page=2&per_page=100"
        );
    }
}
