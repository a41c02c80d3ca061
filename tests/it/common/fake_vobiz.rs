//! A fake Vobiz Partner API that serves a snapshot folder on localhost, for the
//! integration tests, the README's end-to-end demo (`cargo run --example
//! fake_vobiz`) and the fetch benchmark.
//!
//! It answers like the documented API under `/api/v1/partner`: `GET /accounts`
//! (`search` on id, name and company), `GET /accounts/{id}/numbers` (404 for an id
//! that is not an account, `search` on the E.164 number), `GET /numbers` (all
//! items), `GET /accounts/{id}/cdrs` (the rows of the snapshot's `cdrs/<id>.json`
//! whose UTC start date is within `start_date`..`end_date`, in the CDR envelope
//! with `pagination`; none when the snapshot has no such file; optionally 403);
//! `page` is 1-based, `per_page` defaults to 20 and above 100 is a 422; every
//! request needs the configured `X-Auth-ID` / `X-Auth-Token` (else 401). Switches
//! add latency to every request and answer a seeded fraction of requests with 429
//! or 503 (optionally with `Retry-After`). It counts requests and the most that
//! were in flight at once.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::value::RawValue;
use vobiz::cdr::CdrPage;
use vobiz::dto::{AccountsPage, NumberRecord, NumbersPage};

/// Where the fake mounts the API, as the real base URL does.
pub const BASE_PATH: &str = "/api/v1/partner";
/// The partner auth id the fake expects unless told otherwise.
pub const DEMO_AUTH_ID: &str = "MA_PARTNER_DEMO";
/// The partner token the fake expects unless told otherwise.
pub const DEMO_TOKEN: &str = "demo-token-not-secret";

struct Account {
    raw: Box<RawValue>,
    id: String,
    search_text: String,
}

struct Number {
    raw: Box<RawValue>,
    account_id: Option<String>,
    e164: String,
}

/// A call record and the UTC date it started (none when unreadable).
struct Cdr {
    raw: Box<RawValue>,
    day: Option<NaiveDate>,
}

/// A fake API over one snapshot, configured builder-style, then [`FakeVobiz::start`]ed.
pub struct FakeVobiz {
    accounts: Vec<Account>,
    numbers: Vec<Number>,
    /// Positions in `numbers` of each account's numbers; every account has an entry.
    by_account: HashMap<String, Vec<usize>>,
    /// Each account's call records, from `cdrs/<id>.json`.
    cdrs: HashMap<String, Vec<Cdr>>,
    cdrs_forbidden: bool,
    auth_id: String,
    token: String,
    latency: Duration,
    fail_rate: f64,
    fail_status: StatusCode,
    retry_after: Option<u64>,
    seed: u64,
    /// Requests answered before every connection is cut (`None`: all of them).
    reset_after: Option<u64>,
}

#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    injected: AtomicU64,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

struct State {
    fake: FakeVobiz,
    rng: Mutex<fastrand::Rng>,
    stats: Arc<Stats>,
}

/// A fake server running on a background thread until the process ends.
pub struct Running {
    addr: SocketAddr,
    stats: Arc<Stats>,
}

impl FakeVobiz {
    /// Loads `DIR/accounts.json` and `DIR/numbers.json` (a didbill snapshot).
    pub fn from_dir(dir: &Path) -> Result<FakeVobiz, String> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
        };
        let accounts: AccountsPage<Box<RawValue>> = serde_json::from_slice(&read("accounts.json")?)
            .map_err(|e| format!("accounts.json: {e}"))?;
        let numbers: NumbersPage<Box<RawValue>> = serde_json::from_slice(&read("numbers.json")?)
            .map_err(|e| format!("numbers.json: {e}"))?;
        let accounts = accounts
            .accounts
            .into_iter()
            .map(|raw| {
                let record = vobiz::snapshot::parse_account(raw.get())?;
                let id = record.auth_id.clone().unwrap_or_default();
                let search_text = [Some(&id), record.name.as_ref(), record.company.as_ref()]
                    .into_iter()
                    .flatten()
                    .map(|s| s.to_lowercase())
                    .collect::<Vec<_>>()
                    .join("\n");
                Ok(Account {
                    raw,
                    id,
                    search_text,
                })
            })
            .collect::<Result<Vec<Account>, String>>()?;
        let numbers: Vec<Number> = numbers
            .items
            .into_iter()
            .map(|raw| {
                let record = NumberRecord::from_json(raw.get());
                Number {
                    account_id: record.account_id.as_str().map(str::to_owned),
                    e164: record.e164.as_str().unwrap_or_default().to_owned(),
                    raw,
                }
            })
            .collect();
        let mut by_account: HashMap<String, Vec<usize>> = accounts
            .iter()
            .map(|a| (a.id.clone(), Vec::new()))
            .collect();
        for (i, n) in numbers.iter().enumerate() {
            if let Some(list) = n.account_id.as_ref().and_then(|id| by_account.get_mut(id)) {
                list.push(i);
            }
        }
        let mut cdrs = HashMap::new();
        for account in &accounts {
            let path = dir.join("cdrs").join(format!("{}.json", account.id));
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let page: CdrPage<Box<RawValue>> =
                serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            let rows = page
                .data
                .into_iter()
                .map(|raw| {
                    let record = vobiz::cdr::CdrRecord::from_json(raw.get());
                    let day = record
                        .start_time
                        .as_str()
                        .and_then(didbill::inventory::parse_datetime)
                        .map(|t| t.date_naive());
                    Cdr { raw, day }
                })
                .collect();
            cdrs.insert(account.id.clone(), rows);
        }
        Ok(FakeVobiz {
            accounts,
            numbers,
            by_account,
            cdrs,
            cdrs_forbidden: false,
            auth_id: DEMO_AUTH_ID.into(),
            token: DEMO_TOKEN.into(),
            latency: Duration::ZERO,
            fail_rate: 0.0,
            fail_status: StatusCode::SERVICE_UNAVAILABLE,
            retry_after: None,
            seed: 1,
            reset_after: None,
        })
    }

    /// The credentials every request must carry.
    pub fn credentials(mut self, auth_id: &str, token: &str) -> FakeVobiz {
        self.auth_id = auth_id.into();
        self.token = token.into();
        self
    }

    /// A delay before every answer.
    pub fn latency(mut self, latency: Duration) -> FakeVobiz {
        self.latency = latency;
        self
    }

    /// Answers a fraction `rate` (0 to 1) of requests with `status` (429 or 503),
    /// with `Retry-After: retry_after` seconds when given.
    pub fn failures(
        mut self,
        rate: f64,
        status: StatusCode,
        retry_after: Option<u64>,
    ) -> FakeVobiz {
        self.fail_rate = rate;
        self.fail_status = status;
        self.retry_after = retry_after;
        self
    }

    /// Answers every CDR request with 403, as for a partner not allowed to read them.
    pub fn forbid_cdrs(mut self) -> FakeVobiz {
        self.cdrs_forbidden = true;
        self
    }

    /// The seed of the injected failures (the same seed fails the same requests).
    pub fn seed(mut self, seed: u64) -> FakeVobiz {
        self.seed = seed;
        self
    }

    /// Answers the first `n` requests, then cuts every connection without an
    /// answer (the upstream dying mid-pagination).
    pub fn reset_after(mut self, n: u64) -> FakeVobiz {
        self.reset_after = Some(n);
        self
    }

    /// Serves on `127.0.0.1:port` (0: any free port) from a background thread.
    pub fn start(self, port: u16) -> Result<Running, String> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("cannot listen: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let stats = Arc::new(Stats::default());
        let state = Arc::new(State {
            rng: Mutex::new(fastrand::Rng::with_seed(self.seed)),
            fake: self,
            stats: Arc::clone(&stats),
        });
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the fake server");
            runtime.block_on(serve(listener, state));
        });
        Ok(Running { addr, stats })
    }
}

impl Running {
    /// The base URL to give didbill (`--api-base` / `VOBIZ_API_BASE`).
    pub fn base_url(&self) -> String {
        format!("http://{}{BASE_PATH}", self.addr)
    }

    /// Requests received so far.
    pub fn requests(&self) -> u64 {
        self.stats.requests.load(Ordering::SeqCst)
    }

    /// Requests answered with an injected 429/503 so far.
    pub fn injected(&self) -> u64 {
        self.stats.injected.load(Ordering::SeqCst)
    }

    /// The most requests that were being answered at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.stats.max_in_flight.load(Ordering::SeqCst)
    }
}

async fn serve(listener: std::net::TcpListener, state: Arc<State>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        if state.dead() {
            // A reset (RST), not an orderly close.
            let _ = stream.set_zero_linger();
            drop(stream);
            continue;
        }
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let state = Arc::clone(&state);
                async move {
                    if state.dead() {
                        // An error from the service drops the connection unanswered.
                        return Err(Cut);
                    }
                    Ok(state.handle(request).await)
                }
            });
            // A client hanging up mid-answer is not the fake's problem.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

fn json(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    json(
        status,
        serde_json::json!({"error": code, "message": message, "status_code": status.as_u16()})
            .to_string(),
    )
}

/// Decodes `%XX` escapes and `+` of a query value.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The records of page `page` (1-based) of `per_page`, as JSON array content.
fn page_of<'a>(records: impl Iterator<Item = &'a RawValue>, page: u64, per_page: u64) -> String {
    let skip = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    records
        .skip(skip)
        .take(per_page as usize)
        .map(RawValue::get)
        .collect::<Vec<_>>()
        .join(",")
}

/// Why the fake cut a connection.
#[derive(Debug)]
struct Cut;

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection cut by the fake server")
    }
}

impl std::error::Error for Cut {}

impl State {
    /// Whether the server has answered all it will (see [`FakeVobiz::reset_after`]);
    /// counts the request asking.
    fn dead(&self) -> bool {
        self.fake
            .reset_after
            .is_some_and(|n| self.stats.requests.load(Ordering::SeqCst) >= n)
    }

    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let stats = &self.stats;
        stats.requests.fetch_add(1, Ordering::SeqCst);
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.fake.latency).await;
        let response = self.answer(&request);
        stats.in_flight.fetch_sub(1, Ordering::SeqCst);
        response
    }

    fn answer(&self, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        let fake = &self.fake;
        if request.method() != hyper::Method::GET {
            return error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "GET only",
            );
        }
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
        };
        if header("x-auth-id") != fake.auth_id || header("x-auth-token") != fake.token {
            return error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Invalid or missing X-Auth-ID / X-Auth-Token",
            );
        }
        if fake.fail_rate > 0.0 && self.rng.lock().expect("rng").f64() < fake.fail_rate {
            self.stats.injected.fetch_add(1, Ordering::SeqCst);
            let mut response = error(fake.fail_status, "injected", "injected failure");
            if let Some(seconds) = fake.retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", seconds.to_string().parse().expect("digits"));
            }
            return response;
        }
        let Some(path) = request.uri().path().strip_prefix(BASE_PATH) else {
            return error(StatusCode::NOT_FOUND, "not_found", "Not found");
        };
        let mut page = 1u64;
        let mut per_page = 20u64;
        let mut search = String::new();
        let (mut start_date, mut end_date) = (None, None);
        for pair in request.uri().query().unwrap_or_default().split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(value);
            let number = || value.parse::<u64>().ok().filter(|n| *n >= 1);
            match key {
                "page" => match number() {
                    Some(n) => page = n,
                    None => {
                        return error(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "validation_error",
                            "page must be a positive integer",
                        )
                    }
                },
                "per_page" => match number().filter(|n| *n <= 100) {
                    Some(n) => per_page = n,
                    None => {
                        return error(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "validation_error",
                            "per_page must be between 1 and 100",
                        )
                    }
                },
                "search" => search = value,
                "start_date" | "end_date" => {
                    let Ok(day) = NaiveDate::parse_from_str(&value, "%Y-%m-%d") else {
                        return error(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "validation_error",
                            "dates are YYYY-MM-DD",
                        );
                    };
                    if key == "start_date" {
                        start_date = Some(day);
                    } else {
                        end_date = Some(day);
                    }
                }
                _ => {}
            }
        }
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match segments.as_slice() {
            ["accounts"] => {
                let needle = search.to_lowercase();
                let matching: Vec<&Account> = fake
                    .accounts
                    .iter()
                    .filter(|a| a.search_text.contains(&needle))
                    .collect();
                let shown = page_of(matching.iter().map(|a| &*a.raw), page, per_page);
                json(
                    StatusCode::OK,
                    format!(
                        r#"{{"accounts":[{shown}],"total":{},"page":{page},"size":{per_page}}}"#,
                        matching.len()
                    ),
                )
            }
            ["accounts", id, "numbers"] => {
                let id = decode(id);
                let Some(positions) = fake.by_account.get(&id) else {
                    return error(StatusCode::NOT_FOUND, "not_found", "Account not found");
                };
                let matching: Vec<&Number> = positions
                    .iter()
                    .map(|&i| &fake.numbers[i])
                    .filter(|n| n.e164.contains(&search))
                    .collect();
                self.numbers_page(&matching, page, per_page, Some(&id))
            }
            ["numbers"] => {
                let all: Vec<&Number> = fake.numbers.iter().collect();
                self.numbers_page(&all, page, per_page, None)
            }
            ["accounts", id, "cdrs"] => {
                let id = decode(id);
                if !fake.by_account.contains_key(&id) {
                    return error(StatusCode::NOT_FOUND, "not_found", "Account not found");
                }
                if fake.cdrs_forbidden {
                    return error(
                        StatusCode::FORBIDDEN,
                        "forbidden",
                        "Partner is not allowed to view CDRs",
                    );
                }
                let in_range = |c: &&Cdr| match (start_date, end_date, c.day) {
                    (Some(from), Some(to), Some(day)) => from <= day && day <= to,
                    (Some(_), Some(_), None) => false,
                    _ => true,
                };
                let matching: Vec<&Cdr> = fake
                    .cdrs
                    .get(&id)
                    .map(|rows| rows.iter().filter(in_range).collect())
                    .unwrap_or_default();
                let total = matching.len() as u64;
                let pages = total.div_ceil(per_page);
                let shown = page_of(matching.iter().map(|c| &*c.raw), page, per_page);
                let count = total
                    .saturating_sub((page - 1).saturating_mul(per_page))
                    .min(per_page);
                let id = serde_json::Value::from(id);
                json(
                    StatusCode::OK,
                    format!(
                        r#"{{"success":true,"account_id":{id},"account_auth_id":{id},"count":{count},"data":[{shown}],"pagination":{{"page":{page},"per_page":{per_page},"total":{total},"pages":{pages},"has_next":{},"has_prev":{}}},"summary":{{"totalCalls":{total}}}}}"#,
                        page < pages,
                        page > 1
                    ),
                )
            }
            _ => error(StatusCode::NOT_FOUND, "not_found", "Not found"),
        }
    }

    fn numbers_page(
        &self,
        matching: &[&Number],
        page: u64,
        per_page: u64,
        account: Option<&str>,
    ) -> Response<Full<Bytes>> {
        let shown = page_of(matching.iter().map(|n| &*n.raw), page, per_page);
        let account = account
            .map(|id| format!(r#","account_auth_id":{}"#, serde_json::Value::from(id)))
            .unwrap_or_default();
        json(
            StatusCode::OK,
            format!(
                r#"{{"items":[{shown}],"page":{page},"per_page":{per_page},"total":{}{account}}}"#,
                matching.len()
            ),
        )
    }
}
