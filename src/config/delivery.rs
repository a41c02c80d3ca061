//! `[smtp]` and `[delivery]`: how `didbill send` reaches the mail server and whom
//! each customer's documents go to. The password is never a key: it comes from
//! `DIDBILL_SMTP_PASSWORD` only.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// How the connection to the mail server is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: accepted only to a loopback host (a local relay or test sink).
    Plain,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileSmtp {
    host: Option<String>,
    port: Option<u16>,
    security: Security,
    username: Option<String>,
    from: Option<String>,
    reply_to: Option<String>,
    bcc: Option<String>,
    max_per_minute: u32,
    concurrency: usize,
    ca_file: Option<PathBuf>,
}

impl Default for FileSmtp {
    fn default() -> Self {
        FileSmtp {
            host: None,
            port: None,
            security: Security::Starttls,
            username: None,
            from: None,
            reply_to: None,
            bcc: None,
            max_per_minute: 0,
            concurrency: 1,
            ca_file: None,
        }
    }
}

/// The mail server `didbill send` hands the documents to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpConfig {
    /// Host name or address; `None` when `[smtp]` is not configured.
    pub host: Option<String>,
    /// Port: `port`, else 587 (starttls), 465 (tls) or 25 (plain).
    pub port: u16,
    /// Transport security.
    pub security: Security,
    /// Login name; with it, the password comes from `DIDBILL_SMTP_PASSWORD`.
    pub username: Option<String>,
    /// The sender mailbox; the seller's email when not set.
    pub from: Option<String>,
    /// Where replies go.
    pub reply_to: Option<String>,
    /// An archive copy of every message.
    pub bcc: Option<String>,
    /// Messages handed over per minute at most (0: no limit).
    pub max_per_minute: u32,
    /// Connections sending at once.
    pub concurrency: usize,
    /// A PEM file of extra root certificates to trust for the server (a private
    /// CA); the system's roots stay trusted and verification is never turned off.
    pub ca_file: Option<PathBuf>,
}

/// Whether `host` is this machine, the only place a plain connection may go.
pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl FileSmtp {
    /// Checks the security against the host and the limits.
    pub(super) fn validate(self) -> Result<SmtpConfig, String> {
        if let Some(host) = &self.host {
            if host.trim().is_empty() {
                return Err(
                    "smtp.host is empty; name the mail server, e.g. \"smtp.example.com\"".into(),
                );
            }
            if self.security == Security::Plain && !is_loopback(host) {
                return Err(format!(
                    "smtp.security \"plain\" sends the password and invoices unencrypted and is \
                     only allowed to a loopback host, not {host:?}; use \"starttls\" or \"tls\""
                ));
            }
        }
        if !(1..=32).contains(&self.concurrency) {
            return Err(format!(
                "smtp.concurrency {} must be between 1 and 32",
                self.concurrency
            ));
        }
        let port = self.port.unwrap_or(match self.security {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::Plain => 25,
        });
        Ok(SmtpConfig {
            host: self.host,
            port,
            security: self.security,
            username: self.username,
            from: self.from,
            reply_to: self.reply_to,
            bcc: self.bcc,
            max_per_minute: self.max_per_minute,
            concurrency: self.concurrency,
            ca_file: self.ca_file,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileDelivery {
    customers: BTreeMap<String, Recipients>,
}

/// Recipients of one customer's documents in `[delivery.customers."MA_…"]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Recipients {
    /// Replace the account's email with these addresses.
    pub to: Vec<String>,
    /// Copies to these addresses as well.
    pub cc: Vec<String>,
}

/// Per-customer recipients, by customer id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryConfig {
    /// Recipients overridden or added per customer id.
    pub customers: BTreeMap<String, Recipients>,
}

impl FileDelivery {
    /// Checks that every key is a customer id.
    pub(super) fn validate(self) -> Result<DeliveryConfig, String> {
        if let Some(key) = self.customers.keys().find(|k| !k.starts_with("MA_")) {
            return Err(format!(
                "delivery.customers.{key:?}: the keys are customer ids (MA_...)"
            ));
        }
        Ok(DeliveryConfig {
            customers: self.customers,
        })
    }
}
