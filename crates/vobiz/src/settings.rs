//! How to reach and page through the Vobiz API (credentials are separate:
//! `client::Credentials`).

use std::time::Duration;

use crate::retry::RetryPolicy;

/// The largest response body read by default: a page holds at most 100 records of
/// about 1 KB, so 16 MiB is far beyond any real answer, and a body that size is a
/// broken proxy or a hostile server, not data to hold in memory.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 << 20;

/// The API's largest page size (`per_page`); larger values are answered with 422.
pub const MAX_PER_PAGE: u32 = 100;

/// Which endpoint lists the numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FetchMode {
    /// `GET /accounts/{id}/numbers` for each customer (documented, default).
    #[default]
    PerCustomer,
    /// `GET /numbers`: all customers' numbers in one listing.
    Global,
}

/// How to reach and page through the API (credentials are separate: [`Credentials`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiSettings {
    /// Base URL, e.g. `https://api.vobiz.ai/api/v1/partner`.
    pub base_url: String,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Records per page (at most [`MAX_PER_PAGE`]).
    pub per_page: u32,
    /// Per-customer or global number listing.
    pub mode: FetchMode,
    /// Retries of failed requests.
    pub retry: RetryPolicy,
    /// Limit for establishing a connection.
    pub connect_timeout: Duration,
    /// Limit for one whole request, body included.
    pub request_timeout: Duration,
    /// Most pages one listing may take before it is considered runaway.
    pub max_pages: u64,
    /// Largest response body read; a longer one fails the request (see
    /// [`DEFAULT_MAX_BODY_BYTES`]).
    pub max_body_bytes: usize,
}

impl ApiSettings {
    /// Settings for `base_url` with `concurrency` requests in flight and pages of
    /// `per_page` records, with didbill's defaults for everything else.
    pub fn new(base_url: &str, concurrency: usize, per_page: u32) -> ApiSettings {
        ApiSettings {
            base_url: base_url.to_owned(),
            concurrency,
            per_page,
            mode: FetchMode::PerCustomer,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_pages: 10_000,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}
