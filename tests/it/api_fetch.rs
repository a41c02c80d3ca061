//! The Vobiz API fetch layer against wiremock and the fake server: pagination,
//! retries, refusals, redaction and bounded concurrency. Backoff is shrunk to
//! milliseconds; nothing here asserts on timing.

use std::time::Duration;

use didbill::config::Config;
use didbill::error::Error;
use serde_json::{json, Value};
use vobiz::client::Credentials;
use vobiz::fetch::{Fetched, Scope};
use vobiz::retry::RetryPolicy;
use vobiz::settings::{ApiSettings, FetchMode};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::fake_vobiz::{FakeVobiz, DEMO_AUTH_ID, DEMO_TOKEN};

/// The fetch as the application sees it: no progress bar, errors as didbill's
/// own (with their exit codes).
async fn fetch_async(
    settings: &ApiSettings,
    credentials: &vobiz::client::Credentials,
    scope: &Scope,
) -> Result<vobiz::fetch::Fetched, didbill::error::Error> {
    let progress = std::sync::Arc::new(vobiz::fetch::NoProgress);
    Ok(vobiz::fetch::fetch_async(settings, credentials, scope, progress).await?)
}

const TOKEN: &str = "tok-SECRET-7f3a9c1e55";

fn credentials() -> Credentials {
    Credentials::new("MA_PARTNER", TOKEN).unwrap()
}

/// Settings for `base` with a page size of 2 and millisecond backoff.
fn settings(base: &str) -> ApiSettings {
    let mut s = Config::default().api.settings();
    s.base_url = base.to_owned();
    s.per_page = 2;
    s.retry = RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
        retry_after_cap: Duration::from_millis(10),
        max_total_wait: Duration::from_secs(5),
    };
    s
}

fn account(id: &str) -> Value {
    json!({"auth_id": id, "name": format!("Name of {id}"), "cash_credits": "100.00000"})
}

fn number(id: &str, customer: &str) -> Value {
    json!({"id": id, "account_id": customer, "e164": format!("+9180{id}"), "status": "active", "monthly_fee": 300})
}

fn accounts_page(ids: &[&str], total: usize, page: u64) -> ResponseTemplate {
    let accounts: Vec<Value> = ids.iter().map(|id| account(id)).collect();
    ResponseTemplate::new(200)
        .set_body_json(json!({"accounts": accounts, "total": total, "page": page, "size": 2}))
}

fn numbers_page(items: Vec<Value>, total: usize, page: u64) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"items": items, "total": total, "page": page, "per_page": 2}))
}

async fn mount_page(server: &MockServer, route: &str, page: u64, answer: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(route))
        .and(query_param("page", page.to_string()))
        .respond_with(answer)
        .mount(server)
        .await;
}

/// One account `MA_1` with `numbers` records on a single page.
async fn one_customer(server: &MockServer, numbers: Vec<Value>) {
    mount_page(server, "/accounts", 1, accounts_page(&["MA_1"], 1, 1)).await;
    let total = numbers.len();
    mount_page(
        server,
        "/accounts/MA_1/numbers",
        1,
        numbers_page(numbers, total, 1),
    )
    .await;
}

async fn fetch(server: &MockServer, s: &ApiSettings) -> Result<Fetched, Error> {
    let mut s = s.clone();
    s.base_url = server.uri();
    fetch_async(&s, &credentials(), &Scope::default()).await
}

fn raw_ids(records: &[Box<serde_json::value::RawValue>], key: &str) -> Vec<String> {
    records
        .iter()
        .map(|r| {
            let v: Value = serde_json::from_str(r.get()).unwrap();
            v[key].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

#[tokio::test]
async fn accounts_and_numbers_are_paged_and_assembled_in_order() {
    let server = MockServer::start().await;
    mount_page(
        &server,
        "/accounts",
        1,
        accounts_page(&["MA_A", "MA_B"], 5, 1),
    )
    .await;
    mount_page(
        &server,
        "/accounts",
        2,
        accounts_page(&["MA_C", "MA_D"], 5, 2),
    )
    .await;
    mount_page(&server, "/accounts", 3, accounts_page(&["MA_E"], 5, 3)).await;
    let a = |n: &str| number(n, "MA_A");
    mount_page(
        &server,
        "/accounts/MA_A/numbers",
        1,
        numbers_page(vec![a("1"), a("2")], 3, 1),
    )
    .await;
    mount_page(
        &server,
        "/accounts/MA_A/numbers",
        2,
        numbers_page(vec![a("3")], 3, 2),
    )
    .await;
    mount_page(
        &server,
        "/accounts/MA_B/numbers",
        1,
        numbers_page(vec![], 0, 1),
    )
    .await;
    for (id, n) in [("MA_C", "4"), ("MA_D", "5"), ("MA_E", "6")] {
        // Later customers answer sooner: the order must not depend on it.
        let answer = numbers_page(vec![number(n, id)], 1, 1)
            .set_delay(Duration::from_millis(if id == "MA_C" { 30 } else { 0 }));
        mount_page(&server, &format!("/accounts/{id}/numbers"), 1, answer).await;
    }

    let fetched = fetch(&server, &settings("")).await.unwrap();
    assert_eq!(
        raw_ids(&fetched.accounts, "auth_id"),
        ["MA_A", "MA_B", "MA_C", "MA_D", "MA_E"]
    );
    assert_eq!(
        raw_ids(&fetched.numbers, "id"),
        ["1", "2", "3", "4", "5", "6"]
    );
    assert_eq!(fetched.snapshot.accounts.len(), 5);
    assert_eq!(fetched.snapshot.numbers.len(), 6);
    assert!(
        fetched.snapshot.notes.is_empty(),
        "{:?}",
        fetched.snapshot.notes
    );

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 3 + 2 + 4);
    for r in &sent {
        assert_eq!(r.method.as_str(), "GET");
        let q: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
        assert!(q.contains(&("per_page".into(), "2".into())), "{}", r.url);
        assert_eq!(r.headers["x-auth-id"], "MA_PARTNER");
        assert_eq!(r.headers["x-auth-token"], TOKEN);
        assert_eq!(r.headers["accept"], "application/json");
        let agent = r.headers["user-agent"].to_str().unwrap();
        assert_eq!(agent, format!("didbill/{}", env!("CARGO_PKG_VERSION")));
    }
}

#[tokio::test]
async fn per_page_is_never_above_100() {
    let server = MockServer::start().await;
    one_customer(&server, vec![number("1", "MA_1")]).await;
    let mut s = settings("");
    s.per_page = 500;
    fetch(&server, &s).await.unwrap();
    for r in requests(&server).await {
        let per_page: u32 = r
            .url
            .query_pairs()
            .find(|(k, _)| k == "per_page")
            .unwrap()
            .1
            .parse()
            .unwrap();
        assert_eq!(per_page, 100, "{}", r.url);
    }
}

/// Mounts `failure` for the first `times` requests to `/accounts`, then the page.
async fn failing_then_ok(server: &MockServer, failure: ResponseTemplate, times: u64) {
    Mock::given(method("GET"))
        .and(path("/accounts"))
        .respond_with(failure)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(server)
        .await;
    one_customer(server, vec![number("1", "MA_1")]).await;
}

#[tokio::test]
async fn too_many_requests_is_retried_with_and_without_retry_after() {
    for answer in [
        ResponseTemplate::new(429).insert_header("retry-after", "1"),
        ResponseTemplate::new(429).insert_header("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"),
        ResponseTemplate::new(429),
    ] {
        let server = MockServer::start().await;
        failing_then_ok(&server, answer, 1).await;
        let fetched = fetch(&server, &settings("")).await.unwrap();
        assert_eq!(fetched.numbers.len(), 1);
        assert_eq!(requests(&server).await.len(), 3, "429, accounts, numbers");
    }
}

#[tokio::test]
async fn service_unavailable_twice_then_success() {
    let server = MockServer::start().await;
    failing_then_ok(&server, ResponseTemplate::new(503), 2).await;
    let fetched = fetch(&server, &settings("")).await.unwrap();
    assert_eq!(fetched.accounts.len(), 1);
    assert_eq!(requests(&server).await.len(), 4);
}

#[tokio::test]
async fn persistent_server_error_gives_up_after_the_attempt_budget() {
    let server = MockServer::start().await;
    failing_then_ok(&server, ResponseTemplate::new(500), 100).await;
    let err = fetch(&server, &settings("")).await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    let text = err.to_string();
    assert!(
        text.contains("GET /accounts?page=1&per_page=2") && text.contains("5 attempt(s)"),
        "{text}"
    );
    assert_eq!(requests(&server).await.len(), 5);
}

#[tokio::test]
async fn the_retry_budget_bounds_the_total_wait() {
    let server = MockServer::start().await;
    failing_then_ok(
        &server,
        ResponseTemplate::new(503).insert_header("retry-after", "3600"),
        100,
    )
    .await;
    let mut s = settings("");
    s.retry.max_total_wait = Duration::from_millis(25);
    let err = fetch(&server, &s).await.unwrap_err().to_string();
    assert!(err.contains("retry budget"), "{err}");
    assert!(requests(&server).await.len() < 5);
}

#[tokio::test]
async fn refusals_are_not_retried_and_never_show_the_token() {
    let cases = [
        (401, "VOBIZ_AUTH_ID / VOBIZ_AUTH_TOKEN"),
        (403, "partner's own credentials"),
        (404, "check the base URL"),
        (422, "rejected the request"),
    ];
    for (status, hint) in cases {
        let server = MockServer::start().await;
        // A server that echoes the token must not get it into the message.
        let body =
            json!({"error": "e", "message": format!("bad token {TOKEN}"), "status_code": status});
        failing_then_ok(
            &server,
            ResponseTemplate::new(status).set_body_json(body),
            100,
        )
        .await;
        let err = fetch(&server, &settings("")).await.unwrap_err();
        assert_eq!(err.exit_code(), 3);
        let text = err.to_string();
        assert!(
            text.contains(hint) && text.contains(&status.to_string()),
            "{text}"
        );
        assert!(text.contains("bad token ***"), "{text}");
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!format!("{err:?}").contains(TOKEN));
        assert_eq!(requests(&server).await.len(), 1, "{status} is not retried");
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_retried_once_then_reported() {
    let server = MockServer::start().await;
    let html = format!("<html>gateway {TOKEN} says no</html>");
    failing_then_ok(
        &server,
        ResponseTemplate::new(200).set_body_string(html),
        100,
    )
    .await;
    let err = fetch(&server, &settings("")).await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    let text = err.to_string();
    assert!(text.contains("GET /accounts?page=1&per_page=2"), "{text}");
    assert!(text.contains("<html>gateway *** says no"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
    assert_eq!(requests(&server).await.len(), 2);

    // Once is forgiven.
    let server = MockServer::start().await;
    failing_then_ok(
        &server,
        ResponseTemplate::new(200).set_body_string("{\"accounts\": 7}"),
        1,
    )
    .await;
    assert_eq!(
        fetch(&server, &settings("")).await.unwrap().accounts.len(),
        1
    );
}

#[tokio::test]
async fn a_server_that_ignores_the_page_is_stopped() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/accounts"))
        .respond_with(accounts_page(&["MA_A", "MA_B"], 6, 1))
        .mount(&server)
        .await;
    let err = fetch(&server, &settings("")).await.unwrap_err().to_string();
    assert!(err.contains("page 2 repeats page 1"), "{err}");

    // Without a total it would page forever: the page cap stops it.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/accounts"))
        .respond_with(|r: &Request| {
            let page = r.url.query_pairs().find(|(k, _)| k == "page").unwrap().1.into_owned();
            ResponseTemplate::new(200).set_body_json(json!({"accounts": [account(&format!("MA_{page}a")), account(&format!("MA_{page}b"))]}))
        })
        .mount(&server)
        .await;
    let mut s = settings("");
    s.max_pages = 4;
    let err = fetch(&server, &s).await.unwrap_err().to_string();
    assert!(err.contains("more than 4 pages"), "{err}");
    assert_eq!(requests(&server).await.len(), 4);
}

#[tokio::test]
async fn duplicates_are_returned_as_sent_and_a_changing_total_is_noted() {
    let server = MockServer::start().await;
    mount_page(&server, "/accounts", 1, accounts_page(&["MA_1"], 1, 1)).await;
    let n = |id: &str| number(id, "MA_1");
    // Page 2 repeats a record of page 1 (a number added meanwhile shifted the pages)
    // and the total grew from 3 to 4, so a third page is fetched.
    mount_page(
        &server,
        "/accounts/MA_1/numbers",
        1,
        numbers_page(vec![n("1"), n("2")], 3, 1),
    )
    .await;
    mount_page(
        &server,
        "/accounts/MA_1/numbers",
        2,
        numbers_page(vec![n("2"), n("3")], 4, 2),
    )
    .await;
    mount_page(
        &server,
        "/accounts/MA_1/numbers",
        3,
        numbers_page(vec![n("4")], 4, 3),
    )
    .await;
    let fetched = fetch(&server, &settings("")).await.unwrap();
    assert_eq!(raw_ids(&fetched.numbers, "id"), ["1", "2", "2", "3", "4"]);
    let notes = fetched.snapshot.notes.join("\n");
    assert!(
        notes.contains("GET /accounts/MA_1/numbers: the total changed while fetching (3 → 4)"),
        "{notes}"
    );
    let inventory = didbill::inventory::validate(&fetched.snapshot).unwrap();
    assert_eq!(
        inventory.numbers_fetched, 4,
        "identical duplicates count once"
    );

    // A duplicate the API really holds (total 3, two distinct) costs one more page;
    // a server answering past the end with its last page again is not a loop.
    let server = MockServer::start().await;
    mount_page(&server, "/accounts", 1, accounts_page(&["MA_1"], 1, 1)).await;
    Mock::given(method("GET"))
        .and(path("/accounts/MA_1/numbers"))
        .and(query_param("page", "1"))
        .respond_with(numbers_page(vec![n("1"), n("2")], 3, 1))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/accounts/MA_1/numbers"))
        .respond_with(numbers_page(vec![n("2")], 3, 2))
        .mount(&server)
        .await;
    let fetched = fetch(&server, &settings("")).await.unwrap();
    assert_eq!(raw_ids(&fetched.numbers, "id"), ["1", "2", "2"]);
    assert!(
        fetched.snapshot.notes.is_empty(),
        "{:?}",
        fetched.snapshot.notes
    );
    assert_eq!(requests(&server).await.len(), 4);
}

#[tokio::test]
async fn search_is_passed_to_the_per_customer_listing() {
    let server = MockServer::start().await;
    mount_page(&server, "/accounts", 1, accounts_page(&["MA_1"], 1, 1)).await;
    Mock::given(method("GET"))
        .and(path("/accounts/MA_1/numbers"))
        .and(query_param("search", "91801"))
        .and(header("x-auth-id", "MA_PARTNER"))
        .respond_with(numbers_page(vec![number("1", "MA_1")], 1, 1))
        .expect(1)
        .mount(&server)
        .await;
    let mut s = settings("");
    s.base_url = server.uri();
    let scope = Scope {
        customers: Vec::new(),
        search: Some("91801".into()),
    };
    let fetched = fetch_async(&s, &credentials(), &scope).await.unwrap();
    assert_eq!(fetched.numbers.len(), 1);
}

#[tokio::test]
async fn a_foreign_customer_is_named_and_records_without_account_id_are_noted() {
    let server = MockServer::start().await;
    one_customer(&server, vec![json!({"id": "n1", "e164": "+918000000001"})]).await;
    Mock::given(method("GET"))
        .and(path("/accounts/MA_OTHER/numbers"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"error": "not_found", "message": "Account not found", "status_code": 404}),
        ))
        .mount(&server)
        .await;
    let mut s = settings("");
    s.base_url = server.uri();
    let scope = |ids: &[&str]| Scope {
        customers: ids.iter().map(|s| s.to_string()).collect(),
        search: None,
    };
    let err = fetch_async(&s, &credentials(), &scope(&["MA_OTHER"]))
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert!(
        err.to_string()
            .contains("customer MA_OTHER is not your customer"),
        "{err}"
    );

    let fetched = fetch_async(&s, &credentials(), &scope(&["MA_1"]))
        .await
        .unwrap();
    let notes = fetched.snapshot.notes.join("\n");
    assert!(
        notes.contains("customer MA_1: 1 number record(s)"),
        "{notes}"
    );
    let inventory = didbill::inventory::validate(&fetched.snapshot).unwrap();
    assert!(inventory.exceptions[0]
        .reason
        .contains("account_id is missing"));
}

#[tokio::test]
async fn the_global_listing_is_filtered_to_the_customers_asked_for() {
    let server = MockServer::start().await;
    mount_page(
        &server,
        "/accounts",
        1,
        accounts_page(&["MA_1", "MA_2"], 2, 1),
    )
    .await;
    mount_page(
        &server,
        "/numbers",
        1,
        numbers_page(vec![number("1", "MA_1"), number("2", "MA_2")], 2, 1),
    )
    .await;
    let mut s = settings("");
    s.base_url = server.uri();
    s.mode = FetchMode::Global;
    let scope = Scope {
        customers: vec!["MA_2".into()],
        search: None,
    };
    let fetched = fetch_async(&s, &credentials(), &scope).await.unwrap();
    assert_eq!(raw_ids(&fetched.accounts, "auth_id"), ["MA_2"]);
    assert_eq!(raw_ids(&fetched.numbers, "id"), ["2"]);
    assert_eq!(requests(&server).await.len(), 2);
}

/// A synthetic snapshot of `customers` accounts with two numbers each.
fn synthetic(dir: &std::path::Path, customers: usize) {
    let raw = |v: Value| serde_json::value::RawValue::from_string(v.to_string()).unwrap();
    let ids: Vec<String> = (0..customers).map(|i| format!("MA_{i:04}")).collect();
    let accounts: Vec<_> = ids.iter().map(|id| raw(account(id))).collect();
    let numbers: Vec<_> = ids
        .iter()
        .enumerate()
        .flat_map(|(i, id)| {
            [
                raw(number(&format!("{i}a"), id)),
                raw(number(&format!("{i}b"), id)),
            ]
        })
        .collect();
    didbill::source::write_snapshot(dir, &accounts, &numbers, &[]).unwrap();
}

#[tokio::test]
async fn requests_in_flight_never_exceed_the_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    synthetic(dir.path(), 30);
    let fake = FakeVobiz::from_dir(dir.path())
        .unwrap()
        .latency(Duration::from_millis(15))
        .start(0)
        .unwrap();
    let mut s = settings(&fake.base_url());
    s.concurrency = 3;
    let creds = Credentials::new(DEMO_AUTH_ID, DEMO_TOKEN).unwrap();
    let fetched = fetch_async(&s, &creds, &Scope::default()).await.unwrap();
    assert_eq!(fetched.accounts.len(), 30);
    assert_eq!(fetched.numbers.len(), 60);
    assert!(
        fake.max_in_flight() <= 3,
        "{} in flight",
        fake.max_in_flight()
    );
    assert_eq!(
        fake.requests(),
        15 + 30,
        "15 account pages, one numbers page each"
    );
}

#[tokio::test]
async fn injected_failures_are_retried_into_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    synthetic(dir.path(), 12);
    let creds = Credentials::new(DEMO_AUTH_ID, DEMO_TOKEN).unwrap();
    let clean = FakeVobiz::from_dir(dir.path()).unwrap().start(0).unwrap();
    let expected = fetch_async(&settings(&clean.base_url()), &creds, &Scope::default())
        .await
        .unwrap();
    for status in [429, 503] {
        let flaky = FakeVobiz::from_dir(dir.path())
            .unwrap()
            .failures(0.3, status.try_into().unwrap(), None)
            .seed(7)
            .start(0)
            .unwrap();
        let fetched = fetch_async(&settings(&flaky.base_url()), &creds, &Scope::default())
            .await
            .unwrap();
        assert!(flaky.injected() > 0);
        assert_eq!(fetched.numbers.len(), expected.numbers.len());
        let same = fetched
            .numbers
            .iter()
            .zip(&expected.numbers)
            .all(|(a, b)| a.get() == b.get());
        assert!(same, "the same records in the same order");
    }
}

#[tokio::test]
async fn plain_http_is_refused_except_to_loopback() {
    let s = settings("http://api.example.com/api/v1/partner");
    let err = fetch_async(&s, &credentials(), &Scope::default())
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("refusing plain http://"), "{err}");
}

#[tokio::test]
async fn timeouts_and_refused_connections_are_retried() {
    let server = MockServer::start().await;
    failing_then_ok(
        &server,
        ResponseTemplate::new(200).set_delay(Duration::from_secs(2)),
        1,
    )
    .await;
    let mut s = settings("");
    s.request_timeout = Duration::from_millis(200);
    let fetched = fetch(&server, &s).await.unwrap();
    assert_eq!(fetched.numbers.len(), 1);

    // A port nobody listens on: every attempt fails to connect.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let err = fetch_async(&settings(&base), &credentials(), &Scope::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("gave up after 5 attempt(s)") && err.contains("cannot connect"),
        "{err}"
    );
}

/// A CDR row of customer `MA_1` in the API's shape.
fn cdr(uuid: &str, cost: &str) -> Value {
    json!({"uuid": uuid, "account_id": "MA_1", "call_direction": "outbound", "billsec": 30,
           "duration": 34, "cost": 0.3, "total_cost": serde_json::from_str::<Value>(cost).unwrap(),
           "currency": "INR", "start_time": "2026-11-10T10:00:00Z", "end_time": "2026-11-10T10:00:34Z"})
}

/// A CDR envelope page; `paging` is the `pagination` object.
fn cdrs_page(rows: Vec<Value>, paging: Value) -> ResponseTemplate {
    let count = rows.len();
    ResponseTemplate::new(200).set_body_json(json!({
        "success": true, "account_auth_id": "MA_1", "count": count, "data": rows,
        "pagination": paging, "summary": {"totalCalls": count}
    }))
}

fn november() -> (chrono::NaiveDate, chrono::NaiveDate) {
    didbill::source::calls::fetch_dates("2026-11".parse().unwrap())
}

async fn fetch_cdrs(
    server: &MockServer,
    customers: &[&str],
) -> Result<(Vec<vobiz::fetch::FetchedCdrs>, Vec<String>), Error> {
    let mut s = settings("");
    s.base_url = server.uri();
    let ids: Vec<String> = customers.iter().map(|c| (*c).to_owned()).collect();
    let progress = std::sync::Arc::new(vobiz::fetch::NoProgress);
    Ok(vobiz::fetch::fetch_cdrs_async(&s, &credentials(), &ids, november(), progress).await?)
}

#[tokio::test]
async fn call_records_are_paged_with_the_dates_asked_for_and_kept_as_sent() {
    let server = MockServer::start().await;
    let paging = |page: u64, has_next: bool| json!({"page": page, "per_page": 2, "total": 5, "pages": 3, "has_next": has_next, "has_prev": page > 1});
    let route = "/accounts/MA_1/cdrs";
    mount_page(
        &server,
        route,
        1,
        cdrs_page(vec![cdr("c1", "0.35"), cdr("c2", "1e-1")], paging(1, true)),
    )
    .await;
    mount_page(
        &server,
        route,
        2,
        cdrs_page(
            vec![cdr("c3", "\"0.30000000000000004\""), cdr("c4", "2")],
            paging(2, true),
        ),
    )
    .await;
    mount_page(
        &server,
        route,
        3,
        cdrs_page(vec![cdr("c5", "0.005")], paging(3, false)),
    )
    .await;
    let (fetched, notes) = fetch_cdrs(&server, &["MA_1"]).await.unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(fetched.len(), 1);
    let uuids: Vec<String> = raw_ids(&fetched[0].raw, "uuid");
    assert_eq!(uuids, ["c1", "c2", "c3", "c4", "c5"]);
    // Rows are kept byte for byte and their costs parsed from the JSON text.
    assert!(fetched[0].raw[2]
        .get()
        .contains(r#""total_cost":"0.30000000000000004""#));
    let costs: Vec<String> = fetched[0]
        .cdrs
        .rows
        .iter()
        .map(|r| match &r.total_cost {
            vobiz::dto::JsonDecimal::Amount(d) => d.to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(costs, ["0.35", "0.1", "0.30000000000000004", "2", "0.005"]);
    assert_eq!(fetched[0].cdrs.dates, Some(november()));
    let asked = requests(&server).await;
    assert_eq!(asked.len(), 3);
    for request in &asked {
        let query = request.url.query().unwrap();
        assert!(
            query.contains("start_date=2026-10-31") && query.contains("end_date=2026-12-01"),
            "{query}"
        );
        assert!(query.contains("per_page=2"), "{query}");
    }
    // The snapshot file holds the rows as sent, with the dates asked for.
    let (file, bytes) = fetched[0].snapshot_file();
    assert_eq!(file, "cdrs/MA_1.json");
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("\"start_date\": \"2026-10-31\""), "{text}");
    assert!(text.contains(fetched[0].raw[4].get()), "{text}");
}

#[tokio::test]
async fn has_next_pages_on_when_the_envelope_gives_no_total() {
    let server = MockServer::start().await;
    let route = "/accounts/MA_1/cdrs";
    // Short pages with has_next: a page-size rule alone would stop after page 1.
    mount_page(
        &server,
        route,
        1,
        cdrs_page(vec![cdr("c1", "1")], json!({"page": 1, "has_next": true})),
    )
    .await;
    mount_page(
        &server,
        route,
        2,
        cdrs_page(vec![cdr("c2", "1")], json!({"page": 2, "has_next": true})),
    )
    .await;
    mount_page(
        &server,
        route,
        3,
        cdrs_page(vec![], json!({"page": 3, "has_next": false})),
    )
    .await;
    mount_page(
        &server,
        "/accounts/MA_2/cdrs",
        1,
        cdrs_page(
            vec![],
            json!({"page": 1, "per_page": 2, "total": 0, "pages": 0, "has_next": false}),
        ),
    )
    .await;
    let (fetched, _) = fetch_cdrs(&server, &["MA_1", "MA_2"]).await.unwrap();
    assert_eq!(raw_ids(&fetched[0].raw, "uuid"), ["c1", "c2"]);
    assert!(fetched[1].raw.is_empty());
    assert_eq!(fetched[1].cdrs.customer_id, "MA_2");
    assert_eq!(requests(&server).await.len(), 4);
}

#[tokio::test]
async fn a_partner_that_may_not_read_call_records_is_told_about_no_usage() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/accounts/MA_1/cdrs"))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            json!({"error": "forbidden", "message": "CDR access not enabled", "status_code": 403}),
        ))
        .mount(&server)
        .await;
    let err = fetch_cdrs(&server, &["MA_1"]).await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    let text = err.to_string();
    assert!(
        text.contains("403") && text.contains("call records") && text.contains("--no-usage"),
        "{text}"
    );
    assert_eq!(requests(&server).await.len(), 1, "403 is not retried");
}
