//! `[api]`: where the Vobiz Partner API is and how hard to drive it.

use serde::Deserialize;
use vobiz::settings::ApiSettings;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileApi {
    base_url: String,
    concurrency: usize,
    per_page: u32,
}

impl Default for FileApi {
    fn default() -> Self {
        FileApi {
            base_url: "https://api.vobiz.ai/api/v1/partner".into(),
            concurrency: 8,
            per_page: 100,
        }
    }
}

/// Vobiz API settings (credentials come from the environment only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiConfig {
    /// Base URL of the Partner API.
    pub base_url: String,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Page size, at most 100.
    pub per_page: u32,
}

impl ApiConfig {
    /// Settings for fetching from this API, with didbill's defaults for retries,
    /// timeouts and limits.
    pub fn settings(&self) -> ApiSettings {
        ApiSettings::new(&self.base_url, self.concurrency, self.per_page)
    }
}

impl FileApi {
    /// Checks the URL scheme, the page size and the concurrency.
    pub(super) fn validate(self) -> Result<ApiConfig, String> {
        if !(1..=100).contains(&self.per_page) {
            return Err(format!(
                "api.per_page {} must be between 1 and 100",
                self.per_page
            ));
        }
        if !(1..=64).contains(&self.concurrency) {
            return Err(format!(
                "api.concurrency {} must be between 1 and 64",
                self.concurrency
            ));
        }
        if !(self.base_url.starts_with("https://") || self.base_url.starts_with("http://")) {
            return Err(format!(
                "api.base_url {:?} must be an https:// URL",
                self.base_url
            ));
        }
        Ok(ApiConfig {
            base_url: self.base_url.trim_end_matches('/').to_owned(),
            concurrency: self.concurrency,
            per_page: self.per_page,
        })
    }
}
