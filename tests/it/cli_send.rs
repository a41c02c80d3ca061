//! `didbill send` against a real SMTP server on 127.0.0.1: an in-process sink that
//! speaks enough SMTP for lettre (EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, RSET,
//! NOOP, QUIT), records every message, and replies with scripted codes.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

use crate::common::{demo_config_text, demo_dir, Ran, Test};

const USER: &str = "billing";
pub(crate) const PASSWORD: &str = "smtp-CANARY-7c1e9b";

/// One message the sink took.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    auth: Option<(String, String)>,
    from: String,
    to: Vec<String>,
    /// The message as sent (after DATA, dots unstuffed).
    pub(crate) data: String,
    /// Whether it came over TLS (after STARTTLS).
    tls: bool,
}

#[derive(Default)]
struct Script {
    /// Replies to successive DATA ends, then `250`.
    data_replies: VecDeque<String>,
    /// RCPT of these addresses gets `550`.
    reject: Vec<String>,
}

/// A running sink; it stops with the test process.
pub(crate) struct Sink {
    /// Its port on 127.0.0.1.
    pub(crate) port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Script>>,
}

impl Sink {
    /// A sink taking the login `USER` / [`PASSWORD`].
    pub(crate) fn start() -> Sink {
        Sink::with_password(PASSWORD)
    }

    /// A sink taking any user with `password`.
    pub(crate) fn with_password(password: &str) -> Sink {
        Sink::serve(password, None)
    }

    /// A sink offering STARTTLS with [`test_tls_config`], and refusing mail without it.
    fn with_starttls() -> Sink {
        Sink::serve(
            PASSWORD,
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(test_tls_config()))),
        )
    }

    fn serve(password: &str, tls: Option<tokio_rustls::TlsAcceptor>) -> Sink {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let port = std_listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(Script::default()));
        let (r, s, p) = (received.clone(), script.clone(), password.to_owned());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
                loop {
                    let (socket, _) = listener.accept().await.unwrap();
                    let (r, s, p, tls) = (r.clone(), s.clone(), p.clone(), tls.clone());
                    tokio::spawn(async move {
                        let state = Session {
                            received: r,
                            script: s,
                            password: p,
                        };
                        let offer = tls.is_some();
                        let upgrade = session(BufReader::new(socket), &state, offer, false).await;
                        if let (Some(socket), Some(tls)) = (upgrade, tls) {
                            if let Ok(stream) = tls.accept(socket).await {
                                session(BufReader::new(stream), &state, false, true).await;
                            }
                        }
                    });
                }
            });
        });
        Sink {
            port,
            received,
            script,
        }
    }

    /// Every message taken so far.
    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn reply_to_data(&self, replies: &[&str]) {
        let mut script = self.script.lock().unwrap();
        script.data_replies = replies.iter().map(|r| r.to_string()).collect();
    }

    fn reject(&self, address: &str) {
        self.script.lock().unwrap().reject.push(address.into());
    }

    /// The message sent to `rcpt`.
    fn to(&self, rcpt: &str) -> Received {
        let all: Vec<Received> = self
            .received()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == rcpt))
            .collect();
        assert_eq!(all.len(), 1, "messages to {rcpt}: {all:?}");
        all.into_iter().next().unwrap()
    }
}

fn b64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
        .collect();
    let mut out = Vec::new();
    for chunk in clean.chunks(4) {
        let n = chunk
            .iter()
            .fold(0u32, |n, c| n << 6 | u32::from(value(*c)))
            << (6 * (4 - chunk.len()));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// What every connection of one sink shares.
struct Session {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Script>>,
    password: String,
}

async fn line<S: AsyncRead + Unpin>(lines: &mut BufReader<S>) -> Option<String> {
    let mut text = String::new();
    match lines.read_line(&mut text).await {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(text.trim_end_matches(['\r', '\n']).to_owned()),
    }
}

/// One SMTP session on `lines`. With `offer_tls` it offers STARTTLS, takes no mail
/// before it, and returns the stream to be upgraded when the client asks; `tls`
/// says the stream already is TLS (the greeting was sent before the upgrade).
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    mut lines: BufReader<S>,
    state: &Session,
    offer_tls: bool,
    tls: bool,
) -> Option<S> {
    macro_rules! reply {
        ($($t:tt)*) => {{
            let bytes = format!("{}\r\n", format!($($t)*)).into_bytes();
            if lines.get_mut().write_all(&bytes).await.is_err() {
                return None;
            }
        }};
    }
    let (received, script, password) = (&state.received, &state.script, &state.password);
    if !tls {
        reply!("220 sink.test ESMTP");
    }
    let mut auth = None;
    let mut from = String::new();
    let mut to = Vec::new();
    while let Some(command) = line(&mut lines).await {
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") && offer_tls {
            reply!("250-sink.test\r\n250-8BITMIME\r\n250 STARTTLS");
        } else if upper.starts_with("EHLO") {
            reply!("250-sink.test\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 SMTPUTF8");
        } else if upper == "STARTTLS" && offer_tls {
            reply!("220 2.0.0 Ready to start TLS");
            return Some(lines.into_inner());
        } else if offer_tls && !upper.starts_with("QUIT") {
            reply!("530 5.7.0 Must issue a STARTTLS command first");
        } else if let Some(arg) = upper.strip_prefix("AUTH PLAIN") {
            let encoded = if arg.trim().is_empty() {
                reply!("334 ");
                line(&mut lines).await.unwrap_or_default()
            } else {
                command[10..].trim().to_owned()
            };
            let decoded = String::from_utf8(b64_decode(&encoded)).unwrap();
            let parts: Vec<&str> = decoded.split('\0').collect();
            let (user, pass) = (parts[1].to_owned(), parts[2].to_owned());
            let ok = pass == *password;
            auth = Some((user, pass));
            if ok {
                reply!("235 2.7.0 Authentication successful");
            } else {
                reply!("535 5.7.8 Authentication credentials invalid");
            }
        } else if upper.starts_with("AUTH LOGIN") {
            reply!("334 VXNlcm5hbWU6");
            let user =
                String::from_utf8(b64_decode(&line(&mut lines).await.unwrap_or_default())).unwrap();
            reply!("334 UGFzc3dvcmQ6");
            let pass =
                String::from_utf8(b64_decode(&line(&mut lines).await.unwrap_or_default())).unwrap();
            let ok = pass == *password;
            auth = Some((user, pass));
            if ok {
                reply!("235 2.7.0 Authentication successful");
            } else {
                reply!("535 5.7.8 Authentication credentials invalid");
            }
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&command);
            to.clear();
            reply!("250 2.1.0 Ok");
        } else if upper.starts_with("RCPT TO:") {
            let rcpt = address(&command);
            if script.lock().unwrap().reject.contains(&rcpt) {
                reply!("550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown");
            } else {
                to.push(rcpt);
                reply!("250 2.1.5 Ok");
            }
        } else if upper == "DATA" {
            reply!("354 End data with <CR><LF>.<CR><LF>");
            let mut data = String::new();
            while let Some(l) = line(&mut lines).await {
                if l == "." {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
                data.push_str("\r\n");
            }
            let scripted = script.lock().unwrap().data_replies.pop_front();
            match scripted {
                Some(r) => reply!("{r}"),
                None => {
                    received.lock().unwrap().push(Received {
                        auth: auth.clone(),
                        from: from.clone(),
                        to: to.clone(),
                        data,
                        tls,
                    });
                    reply!(
                        "250 2.0.0 Ok: queued as Q{}",
                        received.lock().unwrap().len()
                    );
                }
            }
        } else if upper == "RSET" || upper == "NOOP" {
            reply!("250 2.0.0 Ok");
        } else if upper == "QUIT" {
            reply!("221 2.0.0 Bye");
            return None;
        } else {
            reply!("502 5.5.2 Error: command not recognized");
        }
    }
    None
}

/// The address between `<` and `>` of a MAIL or RCPT command.
fn address(command: &str) -> String {
    let start = command.find('<').unwrap() + 1;
    let end = command[start..].find('>').unwrap() + start;
    command[start..end].to_owned()
}

/// The demo configuration with `[smtp]` pointing at `port`.
pub(crate) fn config(port: u16, extra: &str) -> String {
    format!(
        "{}\n[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"plain\"\n\
         username = \"{USER}\"\nbcc = \"archive@example.com\"\nconcurrency = 2\n{extra}",
        demo_config_text()
    )
}

/// A TLS server's configuration with `fixtures/smtp_tls/server.pem` (signed by the
/// test CA `ca.pem`, whose key was discarded: no system trusts it).
pub(crate) fn test_tls_config() -> rustls::ServerConfig {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = crate::common::repo().join("fixtures/smtp_tls");
    let certs = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap()
}

/// A port on 127.0.0.1 nothing listens on: connecting there fails at once.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The demo month billed with `config`, ready to send.
fn billed(config: &str) -> Ran {
    Test::demo_configured(config).run().expect_code(0)
}

fn send(ran: Ran, extra: &[&str]) -> Ran {
    send_from(ran, demo_dir().to_str().unwrap(), extra)
}

fn send_from(ran: Ran, source: &str, extra: &[&str]) -> Ran {
    ran.then()
        .args([
            "send", "--period", "2026-11", "--config", "cfg.toml", "--source", source,
        ])
        .args(extra.iter().copied())
        .env("DIDBILL_SMTP_PASSWORD", PASSWORD)
        .run()
}

/// Header name → value of the message's top-level headers (folded lines joined).
fn headers(data: &str) -> BTreeMap<String, String> {
    let head = data.split("\r\n\r\n").next().unwrap();
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut last = String::new();
    for l in head.split("\r\n") {
        if l.starts_with([' ', '\t']) {
            out.get_mut(&last).unwrap().push_str(l);
        } else if let Some((k, v)) = l.split_once(':') {
            last = k.to_ascii_lowercase();
            out.insert(last.clone(), v.trim().to_owned());
        }
    }
    out
}

/// The base64 body of the MIME part whose headers contain `marker`.
fn part_body(data: &str, marker: &str) -> Vec<u8> {
    let at = data
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in\n{data}"));
    let rest = &data[at..];
    let body_start = rest.find("\r\n\r\n").unwrap() + 4;
    let body = &rest[body_start..];
    let end = body.find("\r\n--").unwrap();
    b64_decode(&body[..end])
}

#[test]
fn each_invoice_goes_once_with_its_pdf_and_a_rerun_sends_nothing() {
    let sink = Sink::start();
    let ran = send(billed(&config(sink.port, "")), &[]).expect_code(0);
    let out = ran.stdout();
    assert!(
        out.contains("11 sent, 0 not sent, 0 accepted before\n"),
        "{out}"
    );
    assert!(
        out.contains("sent DID/26-27/00001 to accounts@acme.example, archive@example.com: 250 2.0.0 Ok: queued as Q"),
        "{out}"
    );
    assert_eq!(sink.received().len(), 11);

    let m = sink.to("accounts@acme.example");
    assert_eq!(m.auth, Some((USER.to_owned(), PASSWORD.to_owned())));
    assert_eq!(m.from, "billing@example.com");
    assert_eq!(m.to, ["accounts@acme.example", "archive@example.com"]);
    let h = headers(&m.data);
    assert_eq!(h["message-id"], "<DID-26-27-00001.1@example.com>");
    assert_eq!(h["from"], "\"Demo Telecom Pvt Ltd\" <billing@example.com>");
    assert_eq!(
        h["to"],
        "\"Acme Solutions Pvt Ltd\" <accounts@acme.example>"
    );
    assert_eq!(
        h["subject"],
        "Invoice DID/26-27/00001 from Demo Telecom Pvt Ltd for November 2026"
    );
    assert!(
        !h.contains_key("bcc"),
        "the archive copy is not named: {h:?}"
    );
    assert!(h["content-type"].starts_with("multipart/mixed;"), "{h:?}");
    let raw = &m.data;
    for expected in [
        "Content-Type: text/plain; charset=utf-8\r\n",
        "Dear Acme Solutions Pvt Ltd,\r\n",
        "Please find attached our invoice DID/26-27/00001 dated 2026-12-01 for\r\nNovember 2026.\r\n",
        "Amount: INR 2301.57\r\n",
        "Due by: 2026-12-16\r\n",
        "GSTIN: 29ABCDE1234F1ZW\r\n",
        "Content-Disposition: attachment; filename=\"DID-26-27-00001.pdf\"\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n",
    ] {
        assert!(raw.contains(expected), "{expected:?} not in\n{raw}");
    }
    let pdf = part_body(raw, "filename=\"DID-26-27-00001.pdf\"");
    assert_eq!(pdf, ran.read_bytes("out/pdf/DID-26-27-00001.pdf"));

    // A second send finds every invoice accepted and hands nothing over.
    let again = send(ran, &[]).expect_code(0);
    assert_eq!(again.stdout(), "0 sent, 0 not sent, 11 accepted before\n");
    assert_eq!(sink.received().len(), 11);

    // --resend sends again under a new Message-ID and records it.
    let resent = send(again, &["--resend", "--customer", "MA_ACME0001"]).expect_code(0);
    assert!(
        resent
            .stdout()
            .contains("1 sent, 0 not sent, 0 accepted before"),
        "{}",
        resent.stdout()
    );
    let acme: Vec<Received> = sink
        .received()
        .into_iter()
        .filter(|m| m.to[0] == "accounts@acme.example")
        .collect();
    assert_eq!(acme.len(), 2);
    assert_eq!(
        headers(&acme[1].data)["message-id"],
        "<DID-26-27-00001.2@example.com>"
    );
    let status = send(resent, &["--status", "--customer", "MA_ACME0001"]).expect_code(0);
    let printed = status.stdout();
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[1].starts_with("DID/26-27/00001\t1\taccepted\t1\t250 2.0.0 Ok"),
        "{lines:?}"
    );
    assert!(
        lines[2].starts_with("DID/26-27/00001\t2 (resend)\taccepted\t1\t250"),
        "{lines:?}"
    );
}

#[test]
fn a_transient_refusal_is_retried_and_a_permanent_one_is_recorded_and_reported() {
    let sink = Sink::start();
    sink.reply_to_data(&["451 4.3.0 Try again later"]);
    sink.reject("finance@bharatlogistics.example");
    let ran = send(
        billed(&config(sink.port, "concurrency = 1\n").replace("concurrency = 2\n", "")),
        &[],
    )
    .expect_code(6);
    let out = ran.stdout();
    assert!(out.contains("sent DID/26-27/00001 to accounts@acme.example, archive@example.com: 250 2.0.0 Ok: queued as Q1 after 2 tries\n"), "{out}");
    assert!(
        out.contains("not sent DID/26-27/00002: not accepted: 550 "),
        "{out}"
    );
    assert!(out.contains("User unknown"), "{out}");
    assert!(
        out.contains("10 sent, 1 not sent, 0 accepted before\n"),
        "{out}"
    );
    assert!(
        ran.stderr().contains("1 document(s) not sent"),
        "{}",
        ran.stderr()
    );
    assert_eq!(sink.received().len(), 10);

    // `invoices list` shows where each invoice stands.
    let listed = ran
        .then()
        .args(["invoices", "list", "--format", "csv"])
        .run()
        .expect_code(0);
    let states: Vec<String> = listed
        .stdout()
        .lines()
        .skip(1)
        .map(|l| {
            let (number, rest) = l.split_once(',').unwrap();
            format!("{number} {}", rest.rsplit_once(',').unwrap().1)
        })
        .take(3)
        .collect();
    assert_eq!(
        states,
        [
            "DID/26-27/00001 accepted",
            "DID/26-27/00002 failed",
            "DID/26-27/00003 accepted"
        ]
    );
    assert!(
        listed.stdout().starts_with("invoice_number,")
            && listed
                .stdout()
                .lines()
                .next()
                .unwrap()
                .ends_with(",delivery"),
        "{}",
        listed.stdout()
    );

    // Once the address exists, the next send hands over only that invoice.
    sink.script.lock().unwrap().reject.clear();
    let again = send(listed, &[]).expect_code(0);
    assert_eq!(
        again.stdout(),
        "sent DID/26-27/00002 to finance@bharatlogistics.example, archive@example.com: 250 2.0.0 Ok: queued as Q11\n\
         1 sent, 0 not sent, 10 accepted before\n"
    );
    let m = sink.to("finance@bharatlogistics.example");
    assert_eq!(
        headers(&m.data)["message-id"],
        "<DID-26-27-00002.2@example.com>"
    );
}

#[test]
fn bad_addresses_and_header_injection_are_listed_and_the_others_go_out() {
    let sink = Sink::start();
    let ran = billed(&config(sink.port, ""));
    // The accounts as the API returns them at send time.
    let mut accounts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(demo_dir().join("accounts.json")).unwrap()).unwrap();
    for a in accounts["accounts"].as_array_mut().unwrap() {
        match a["auth_id"].as_str().unwrap() {
            "MA_ACME0001" => a["email"] = "accounts@acme.example\r\nBcc: thief@evil.example".into(),
            "MA_BHARAT02" => a["email"] = serde_json::Value::Null,
            "MA_CHENNAI3" => a["email"] = "not an address".into(),
            _ => {}
        }
    }
    let snap = ran.path("snap");
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::write(snap.join("accounts.json"), accounts.to_string()).unwrap();
    std::fs::copy(demo_dir().join("numbers.json"), snap.join("numbers.json")).unwrap();
    let sent = send_from(ran, "snap", &[]).expect_code(6);
    let out = sent.stdout();
    assert!(out.contains("not sent DID/26-27/00001: the account's email \"accounts@acme.example\\r\\nBcc: thief@evil.example\" holds a line break or control character"), "{out}");
    assert!(out.contains("not sent DID/26-27/00002: the account MA_BHARAT02 has no email; set it in Vobiz or add [delivery.customers.\"MA_BHARAT02\"] to = [\"…\"]\n"), "{out}");
    assert!(out.contains("not sent DID/26-27/00003: the account's email \"not an address\" is not a valid mailbox such as billing@example.com\n"), "{out}");
    assert!(
        out.contains("8 sent, 3 not sent, 0 accepted before\n"),
        "{out}"
    );
    assert_eq!(sink.received().len(), 8);
    assert!(sink
        .received()
        .iter()
        .all(|m| !m.data.contains("thief") && !m.to.iter().any(|t| t.contains("evil"))));
    // Nothing was recorded for the three, so a corrected source sends just them.
    let fixed = send(sent, &[]).expect_code(0);
    assert!(
        fixed
            .stdout()
            .ends_with("3 sent, 0 not sent, 8 accepted before\n"),
        "{}",
        fixed.stdout()
    );
}

#[test]
fn configured_recipients_replace_the_account_email_and_add_copies() {
    let sink = Sink::start();
    let extra = "[delivery.customers.\"MA_ACME0001\"]\nto = [\"ap@acme.example\"]\ncc = [\"cfo@acme.example\"]\n";
    let ran = send(
        billed(&config(sink.port, extra)),
        &["--customer", "MA_ACME0001"],
    )
    .expect_code(0);
    assert!(
        ran.stdout().starts_with(
            "sent DID/26-27/00001 to ap@acme.example, cfo@acme.example, archive@example.com: 250"
        ),
        "{}",
        ran.stdout()
    );
    let m = sink.to("ap@acme.example");
    assert_eq!(
        m.to,
        ["ap@acme.example", "cfo@acme.example", "archive@example.com"]
    );
    assert_eq!(headers(&m.data)["cc"], "cfo@acme.example");
}

#[test]
fn dry_run_and_eml_dir_connect_to_nothing_and_record_nothing() {
    // A port nothing listens on: connecting would fail the command.
    let closed = closed_port();
    let ran = billed(&config(closed, ""));
    let dry = send(ran, &["--dry-run", "--customer", "MA_ACME0001"]).expect_code(0);
    assert_eq!(
        dry.stdout(),
        format!(
            "would send DID/26-27/00001 to accounts@acme.example, archive@example.com: out/pdf/DID-26-27-00001.pdf ({} bytes), Message-ID <DID-26-27-00001.1@example.com>\n\
             1 would send, 0 not sent, 0 accepted before\n",
            dry.read_bytes("out/pdf/DID-26-27-00001.pdf").len()
        )
    );
    let eml = send(dry, &["--eml-dir", "mail"]).expect_code(0);
    assert!(eml.stdout().contains("wrote DID/26-27/00011 to zenith@example.in, archive@example.com: mail/DID-26-27-00011.eml\n"), "{}", eml.stdout());
    let file = String::from_utf8(eml.read_bytes("mail/DID-26-27-00001.eml")).unwrap();
    assert_eq!(
        headers(&file)["message-id"],
        "<DID-26-27-00001.1@example.com>"
    );
    assert_eq!(
        part_body(&file, "filename=\"DID-26-27-00001.pdf\""),
        eml.read_bytes("out/pdf/DID-26-27-00001.pdf")
    );
    let status = send(eml, &["--status"]).expect_code(0);
    assert_eq!(
        status.stdout(),
        "number\tattempt\tstate\ttries\treply\trecipients\tstarted_at\n"
    );
}

#[test]
fn a_wrong_password_or_no_server_stops_before_anything_is_marked() {
    let sink = Sink::start();
    let ran = billed(&config(sink.port, ""));
    let wrong = ran
        .then()
        .args([
            "send",
            "--period",
            "2026-11",
            "--config",
            "cfg.toml",
            "--source",
            demo_dir().to_str().unwrap(),
        ])
        .env("DIDBILL_SMTP_PASSWORD", "wrong-CANARY-55aa")
        .run()
        .expect_code(6);
    let err = wrong.stderr();
    assert!(
        err.contains(&format!("error: mail server 127.0.0.1:{}: ", sink.port)),
        "{err}"
    );
    assert!(err.contains("535"), "{err}");
    assert!(
        err.contains("DIDBILL_SMTP_PASSWORD; nothing was sent"),
        "{err}"
    );
    for output in [wrong.stdout(), err.clone()] {
        assert!(!output.contains("CANARY"), "the password leaked: {output}");
    }
    assert!(sink.received().is_empty());
    let missing = wrong
        .then()
        .args([
            "send",
            "--period",
            "2026-11",
            "--config",
            "cfg.toml",
            "--source",
            demo_dir().to_str().unwrap(),
        ])
        .run()
        .expect_code(2);
    assert!(
        missing
            .stderr()
            .contains("smtp.username is \"billing\" but DIDBILL_SMTP_PASSWORD is not set"),
        "{}",
        missing.stderr()
    );
    let status = send(missing, &["--status"]).expect_code(0);
    assert_eq!(
        status.stdout().lines().count(),
        1,
        "nothing recorded: {}",
        status.stdout()
    );
    let all = send(status, &[]).expect_code(0);
    assert!(all
        .stdout()
        .ends_with("11 sent, 0 not sent, 0 accepted before\n"));
}

#[test]
fn a_missing_pdf_is_named_with_the_fix_and_plain_smtp_is_refused_off_loopback() {
    let sink = Sink::start();
    let ran = billed(&config(sink.port, ""));
    std::fs::remove_file(ran.path("out/pdf/DID-26-27-00004.pdf")).unwrap();
    let sent = send(ran, &[]).expect_code(6);
    assert!(
        sent.stdout().contains(
            "not sent DID/26-27/00004: its PDF out/pdf/DID-26-27-00004.pdf cannot be read ("
        ),
        "{}",
        sent.stdout()
    );
    assert!(
        sent.stdout()
            .contains("write it again with `didbill run --period 2026-11`"),
        "{}",
        sent.stdout()
    );
    let text = config(sink.port, "").replace("host = \"127.0.0.1\"", "host = \"smtp.example.com\"");
    let refused = sent
        .then()
        .file("cfg.toml", text)
        .args([
            "send",
            "--period",
            "2026-11",
            "--config",
            "cfg.toml",
            "--dry-run",
            "--source",
            demo_dir().to_str().unwrap(),
        ])
        .run()
        .expect_code(1);
    assert!(refused.stderr().contains("smtp.security \"plain\" sends the password and invoices unencrypted and is only allowed to a loopback host, not \"smtp.example.com\""), "{}", refused.stderr());
}

#[test]
fn starttls_needs_the_servers_ca_trusted_explicitly() {
    let sink = Sink::with_starttls();
    let starttls = |extra: &str| {
        config(sink.port, extra).replace("security = \"plain\"", "security = \"starttls\"")
    };
    let ran = billed(&starttls(""));
    // The test CA is not among the system's roots: the certificate is refused and
    // nothing is handed over or marked.
    let untrusted = send(ran, &["--customer", "MA_ACME0001"]).expect_code(6);
    let err = untrusted.stderr();
    assert!(
        err.contains(&format!("error: mail server 127.0.0.1:{}: ", sink.port))
            && err.contains("nothing was sent"),
        "{err}"
    );
    assert!(sink.received().is_empty());

    let ca = crate::common::repo().join("fixtures/smtp_tls/ca.pem");
    let trusted = untrusted
        .then()
        .file(
            "cfg.toml",
            starttls(&format!("ca_file = {:?}\n", ca.to_str().unwrap())),
        )
        .args([
            "send",
            "--period",
            "2026-11",
            "--config",
            "cfg.toml",
            "--customer",
            "MA_ACME0001",
        ])
        .args(["--source", demo_dir().to_str().unwrap()])
        .env("DIDBILL_SMTP_PASSWORD", PASSWORD)
        .run()
        .expect_code(0);
    assert!(
        trusted
            .stdout()
            .ends_with("1 sent, 0 not sent, 0 accepted before\n"),
        "{}",
        trusted.stdout()
    );
    let m = sink.to("accounts@acme.example");
    assert!(m.tls, "the message came before STARTTLS");
    assert_eq!(m.auth, Some((USER.to_owned(), PASSWORD.to_owned())));
    assert_eq!(
        part_body(&m.data, "filename=\"DID-26-27-00001.pdf\""),
        trusted.read_bytes("out/pdf/DID-26-27-00001.pdf")
    );
}

/// Issues a credit note of 100.00 taxable on `invoice` with `ran`'s `cfg.toml`.
fn credited(ran: Ran, invoice: &str) -> Ran {
    ran.then()
        .args([
            "note",
            "credit",
            "--invoice",
            invoice,
            "--amount",
            "100",
            "--reason",
            "Goodwill <for the outage>",
            "--date",
            "2026-12-05",
            "--as-of",
            "2026-12-06T00:00:00Z",
            "--out",
            "out",
            "--config",
            "cfg.toml",
        ])
        .run()
        .expect_code(0)
}

/// A credit note goes to its customer after its invoice, in its own words and
/// with its own PDF; a re-run sends nothing, and `invoices list` shows it accepted.
#[test]
fn a_note_is_emailed_after_its_invoice_with_its_pdf() {
    let sink = Sink::start();
    let noted = credited(billed(&config(sink.port, "")), "DID/26-27/00001");
    let ran = send(noted, &[]).expect_code(0);
    let out = ran.stdout();
    assert!(
        out.contains("12 sent, 0 not sent, 0 accepted before\n"),
        "{out}"
    );
    // The report lists the invoices in number order, then the notes.
    assert!(
        out.contains("sent DID/26-27/00011 to zenith@example.in, archive@example.com: 250 2.0.0 Ok: queued as Q")
            && out.split("DID/26-27/00011").nth(1).unwrap().contains("sent CN/26-27/00001 to accounts@acme.example, archive@example.com: 250"),
        "{out}"
    );
    let acme: Vec<Received> = sink
        .received()
        .into_iter()
        .filter(|m| m.to[0] == "accounts@acme.example")
        .collect();
    assert_eq!(acme.len(), 2, "the invoice and its note");
    let note = &acme[1];
    assert!(headers(&acme[0].data)["subject"].starts_with("Invoice DID/26-27/00001"));
    let h = headers(&note.data);
    assert_eq!(
        h["subject"],
        "Credit Note CN/26-27/00001 from Demo Telecom Pvt Ltd against invoice DID/26-27/00001"
    );
    assert_eq!(h["message-id"], "<CN-26-27-00001.1@example.com>");
    assert!(h["content-type"].starts_with("multipart/mixed;"), "{h:?}");
    for expected in [
        "Please find attached our credit note CN/26-27/00001 dated 2026-12-05 against\r\nour invoice DID/26-27/00001 of 2026-12-01 for November 2026.\r\n",
        "Reason: Goodwill <for the outage>\r\n",
        "Amount: INR 118.00\r\n",
        "This amount is credited to your account against that invoice.\r\n",
        "Content-Disposition: attachment; filename=\"CN-26-27-00001.pdf\"\r\n",
    ] {
        assert!(note.data.contains(expected), "{expected:?} not in\n{}", note.data);
    }
    assert!(!note.data.contains("Due by"), "{}", note.data);
    assert_eq!(
        part_body(&note.data, "filename=\"CN-26-27-00001.pdf\""),
        ran.read_bytes("out/pdf/CN-26-27-00001.pdf")
    );

    let again = send(ran, &[]).expect_code(0);
    assert_eq!(again.stdout(), "0 sent, 0 not sent, 12 accepted before\n");
    assert_eq!(sink.received().len(), 12);
    let status = send(again, &["--status", "--customer", "MA_ACME0001"]).expect_code(0);
    let printed = status.stdout();
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[2].starts_with("CN/26-27/00001\t1\taccepted\t1\t250"),
        "{lines:?}"
    );
    let listed = status
        .then()
        .args(["invoices", "list", "--customer", "MA_ACME0001"])
        .run()
        .expect_code(0);
    assert!(
        listed
            .stdout()
            .contains("CN/26-27/00001 (accepted)  accepted"),
        "{}",
        listed.stdout()
    );
}

/// A note whose invoice the server refused waits for it: it is listed as not sent
/// with the reason, and goes in the send that delivers the invoice.
#[test]
fn a_note_waits_for_its_refused_invoice() {
    let sink = Sink::start();
    sink.reject("finance@bharatlogistics.example");
    let noted = credited(billed(&config(sink.port, "")), "DID/26-27/00002");
    let ran = send(noted, &[]).expect_code(6);
    let out = ran.stdout();
    assert!(
        out.contains("not sent DID/26-27/00002: not accepted: 550 "),
        "{out}"
    );
    assert!(
        out.contains("not sent CN/26-27/00001: its invoice DID/26-27/00002 has not gone to the customer yet; the note follows it in the `didbill send` that delivers it\n"),
        "{out}"
    );
    assert!(
        out.ends_with("10 sent, 2 not sent, 0 accepted before\n"),
        "{out}"
    );
    let listed = ran
        .then()
        .args([
            "invoices",
            "list",
            "--format",
            "csv",
            "--customer",
            "MA_BHARAT02",
        ])
        .run()
        .expect_code(0);
    assert!(
        listed
            .stdout()
            .lines()
            .nth(1)
            .unwrap()
            .ends_with(",CN/26-27/00001,unsent,failed"),
        "{}",
        listed.stdout()
    );

    sink.script.lock().unwrap().reject.clear();
    let again = send(listed, &[]).expect_code(0);
    let out = again.stdout();
    assert!(
        out.ends_with("2 sent, 0 not sent, 10 accepted before\n"),
        "{out}"
    );
    let bharat: Vec<Received> = sink
        .received()
        .into_iter()
        .filter(|m| m.to[0] == "finance@bharatlogistics.example")
        .collect();
    assert_eq!(bharat.len(), 2);
    assert!(headers(&bharat[1].data)["subject"].starts_with("Credit Note CN/26-27/00001"));
}

/// With `body.html` under `--templates DIR/email/` an invoice carries its text and
/// its HTML (escaped) as alternatives; a note without `note_body.html` stays text.
#[test]
fn an_html_body_makes_the_message_an_alternative_of_text_and_html() {
    let closed = closed_port();
    let noted = credited(billed(&config(closed, "")), "DID/26-27/00001");
    let mail = noted
        .then()
        .file(
            "tpl/email/body.html",
            "<p>Dear {{ customer_name }}, invoice <b>{{ number }}</b> &amp; {{ seller.name }} {{ \"<x>\" }}</p>\n",
        )
        .args([
            "send", "--period", "2026-11", "--config", "cfg.toml", "--source",
            demo_dir().to_str().unwrap(), "--customer", "MA_ACME0001", "--templates", "tpl",
            "--eml-dir", "mail",
        ])
        .run()
        .expect_code(0);
    let invoice = String::from_utf8(mail.read_bytes("mail/DID-26-27-00001.eml")).unwrap();
    assert!(headers(&invoice)["content-type"].starts_with("multipart/mixed;"));
    // The HTML part is quoted-printable: its soft line breaks joined again.
    let joined = invoice.replace("=\r\n", "");
    for expected in [
        "Content-Type: multipart/alternative;",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "Content-Type: text/html; charset=utf-8\r\n",
        "<p>Dear Acme Solutions Pvt Ltd, invoice <b>DID/26-27/00001</b> &amp; Demo Telecom Pvt Ltd &lt;x&gt;</p>",
    ] {
        assert!(joined.contains(expected), "{expected:?} not in\n{joined}");
    }
    assert_eq!(
        part_body(&invoice, "filename=\"DID-26-27-00001.pdf\""),
        mail.read_bytes("out/pdf/DID-26-27-00001.pdf")
    );
    let note = String::from_utf8(mail.read_bytes("mail/CN-26-27-00001.eml")).unwrap();
    assert!(
        !note.contains("multipart/alternative") && !note.contains("text/html"),
        "{note}"
    );
}

/// A cancelled invoice is no longer a document to deliver.
#[test]
fn a_cancelled_invoice_is_not_sent() {
    let closed = closed_port();
    let cancelled = billed(&config(closed, ""))
        .then()
        .args([
            "invoices",
            "cancel",
            "DID/26-27/00003",
            "--reason",
            "Duplicate",
        ])
        .run()
        .expect_code(0);
    let dry = send(cancelled, &["--dry-run"]).expect_code(0);
    assert!(
        !dry.stdout().contains("DID/26-27/00003")
            && dry
                .stdout()
                .ends_with("10 would send, 0 not sent, 0 accepted before\n"),
        "{}",
        dry.stdout()
    );
}
