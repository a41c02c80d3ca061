//! Handing messages to the mail server with lettre: the transport built from
//! `[smtp]`, a check that the server answers and takes the login before anything is
//! marked, and the retries of one message.

use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::outbox::{Outcome, State};
use crate::config::{Security, SmtpConfig};
use crate::error::{Error, Result};
use crate::source::SMTP_PASSWORD_ENV;

/// Times one message is handed over before a transient failure counts as final.
pub const MAX_TRIES: u32 = 4;

/// The wait before the first retry; it doubles after each.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// How long a connection, command or reply may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The mail server connection pool.
pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Where the server is, for messages.
fn server(config: &SmtpConfig, host: &str) -> String {
    format!("mail server {host}:{}", config.port)
}

/// The transport of `config`, logging in with `password` when a username is set.
pub fn transport(config: &SmtpConfig, host: &str, password: Option<&str>) -> Result<Transport> {
    let tls = || -> Result<TlsParameters> {
        let mut params = TlsParameters::builder(host.to_owned());
        if let Some(file) = &config.ca_file {
            let pem = std::fs::read(file)
                .map_err(|e| Error::io(format!("reading smtp.ca_file {}", file.display()), e))?;
            let cert = Certificate::from_pem(&pem).map_err(|e| {
                Error::input(file, format!("smtp.ca_file is not a PEM certificate: {e}"))
            })?;
            params = params.add_root_certificate(cert);
        }
        params
            .build_rustls()
            .map_err(|e| Error::Smtp(format!("TLS for {host}: {e}")))
    };
    let security = match config.security {
        Security::Plain => Tls::None,
        Security::Starttls => Tls::Required(tls()?),
        Security::Tls => Tls::Wrapper(tls()?),
    };
    let mut builder = Transport::builder_dangerous(host)
        .port(config.port)
        .tls(security)
        .timeout(Some(TIMEOUT))
        .pool_config(PoolConfig::new().max_size(config.concurrency as u32));
    if let Some(user) = &config.username {
        let password = password.ok_or_else(|| {
            Error::Usage(format!(
                "smtp.username is {user:?} but {SMTP_PASSWORD_ENV} is not set; export the \
                 password in {SMTP_PASSWORD_ENV} (it is never read from a flag or a file)"
            ))
        })?;
        builder = builder.credentials(Credentials::new(user.clone(), password.to_owned()));
    }
    Ok(builder.build())
}

/// Connects, greets and logs in once, so that a wrong password or an unreachable
/// server stops `send` before any document is marked.
pub async fn check(transport: &Transport, config: &SmtpConfig, host: &str) -> Result<()> {
    match transport.test_connection().await {
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::Smtp(format!(
            "{} does not answer; check [smtp] host and port",
            server(config, host)
        ))),
        Err(e) => Err(Error::Smtp(format!(
            "{}: {e}; check [smtp] host, port, security, username and ca_file, and {SMTP_PASSWORD_ENV}; \
             nothing was sent",
            server(config, host)
        ))),
    }
}

/// Hands `message` over, retrying transient failures (4xx replies, dropped
/// connections, timeouts) with a doubling wait; a 2xx is accepted, a 5xx is final.
pub async fn deliver(transport: &Transport, message: &Message) -> Outcome {
    let mut wait = FIRST_BACKOFF;
    let mut tries = 0;
    loop {
        tries += 1;
        match transport.send(message.clone()).await {
            Ok(reply) => {
                return Outcome {
                    state: State::Accepted,
                    tries,
                    reply_code: reply.code().to_string().parse().ok(),
                    reply_text: reply.message().collect::<Vec<_>>().join(" "),
                }
            }
            Err(e) if e.is_permanent() || tries >= MAX_TRIES => {
                return Outcome {
                    state: State::Failed,
                    tries,
                    reply_code: e.status().and_then(|c| c.to_string().parse().ok()),
                    reply_text: e.to_string(),
                }
            }
            Err(e) => {
                tracing::info!("transient failure, retrying in {wait:?}: {e}");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
    }
}
