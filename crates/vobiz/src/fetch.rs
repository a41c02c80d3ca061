//! Fetching the inventory from the Vobiz API: every account, then the numbers.
//!
//! Accounts come from `GET /accounts`; numbers either customer by customer from
//! `GET /accounts/{id}/numbers` (the documented way, `--fetch per-customer`) or from
//! `GET /numbers` (`--fetch global`). Requests run concurrently up to `[api]
//! concurrency`, but results are assembled in a fixed order (accounts as listed,
//! each customer's numbers page by page), so fetching unchanged data twice gives the
//! same records in the same order, and the same snapshot bytes.
//!
//! Pagination trusts nothing: it stops once `total` records arrived (or at a short
//! page when there is no `total`), refuses to go past [`ApiSettings::max_pages`],
//! fails when a page repeats the previous one (a server ignoring `page` would
//! otherwise yield silently incomplete data), and notes a `total` that changed while
//! fetching. Records are kept exactly as sent: duplicates across pages are returned
//! as they came, for inventory validation to collapse or report.
//!
//! A number record from a customer's listing that lacks `account_id` (or names
//! another customer) is kept unchanged, so a run on the API and a run on the saved
//! snapshot agree; it becomes an exception (no account_id) and a fetch note says so.
//!
//! Call records come from `GET /accounts/{id}/cdrs?start_date&end_date` ([`fetch_cdrs`]),
//! customer by customer through the same client, retries and concurrency. Their
//! envelope announces `pagination.pages` and `has_next`, which page the listing
//! (bounded by `max_pages` like every listing).

use std::collections::HashSet;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

use reqwest::StatusCode;
use serde_json::value::RawValue;
use tokio::task::JoinSet;

use chrono::NaiveDate;

use crate::cdr::{self, CdrRecord, CustomerCdrs};
use crate::client::{ApiError, Client, Credentials};
use crate::dto::{parse_object, AccountRecord, AccountsPage, NumberRecord, NumbersPage};
use crate::error::{Error, Result};
use crate::settings::{ApiSettings, FetchMode, MAX_PER_PAGE};
use crate::snapshot::{parse_account, Snapshot};

/// Which part of the inventory to fetch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// Only these customers (empty: all).
    pub customers: Vec<String>,
    /// Only numbers whose E.164 contains these digits (sent as `search` to the
    /// per-customer endpoint; the global one does not document it).
    pub search: Option<String>,
}

/// What a fetch returned: the raw records for a snapshot and their parsed form.
#[derive(Debug)]
pub struct Fetched {
    /// Account records exactly as sent.
    pub accounts: Vec<Box<RawValue>>,
    /// Number records exactly as sent.
    pub numbers: Vec<Box<RawValue>>,
    /// The same records parsed, in the same order, with the fetch notes.
    pub snapshot: Snapshot,
}

/// What a fetch reports as it goes, for a progress bar: requests known to be
/// needed and requests answered.
pub trait Progress: Send + Sync {
    /// `n` more requests are known to be needed.
    fn planned(&self, n: u64);
    /// One more request was answered.
    fn answered(&self);
    /// The fetch is over, successfully or not.
    fn finished(&self);
}

/// A fetch that reports nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn planned(&self, _: u64) {}
    fn answered(&self) {}
    fn finished(&self) {}
}

/// Fetches the scope's accounts and numbers on a runtime of its own (blocking).
pub fn fetch(
    settings: &ApiSettings,
    credentials: &Credentials,
    scope: &Scope,
    progress: Arc<dyn Progress>,
) -> Result<Fetched> {
    block_on(fetch_async(settings, credentials, scope, progress))
}

/// Runs `work` to completion on a runtime of its own.
fn block_on<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    // Two workers: one can parse a page while the other keeps requests moving; the
    // work is waiting on the network, not computing.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the HTTP runtime", e))?;
    runtime.block_on(work)
}

/// Fetches the scope's accounts and numbers; for callers already inside a runtime.
pub async fn fetch_async(
    settings: &ApiSettings,
    credentials: &Credentials,
    scope: &Scope,
    progress: Arc<dyn Progress>,
) -> Result<Fetched> {
    with_lister(
        settings,
        credentials,
        progress,
        "fetch",
        |lister| async move { lister.inventory(scope).await },
    )
    .await
}

/// Runs `work` with a lister for `settings`, then logs the requests it took.
async fn with_lister<T, Fut>(
    settings: &ApiSettings,
    credentials: &Credentials,
    progress: Arc<dyn Progress>,
    what: &str,
    work: impl FnOnce(Lister) -> Fut,
) -> Result<T>
where
    Fut: Future<Output = Result<T>>,
{
    let started = Instant::now();
    let client = Arc::new(Client::new(settings, credentials)?);
    let lister = Lister {
        client: Arc::clone(&client),
        per_page: settings.per_page.clamp(1, MAX_PER_PAGE),
        max_pages: settings.max_pages.max(1),
        // Twice the requests allowed in flight (the client's semaphore bounds those):
        // while some jobs parse a page, others already wait for a free request slot.
        width: settings.concurrency.max(1) * 2,
        mode: settings.mode,
        progress: Arc::clone(&progress),
    };
    let result = work(lister).await;
    progress.finished();
    let (requests, retries) = client.counts();
    tracing::debug!(
        requests,
        retries,
        elapsed_ms = started.elapsed().as_millis() as u64,
        ok = result.is_ok(),
        "{what} finished"
    );
    result
}

/// One customer's call records for a range of dates: as sent, and parsed.
#[derive(Debug)]
pub struct FetchedCdrs {
    /// The rows exactly as sent, for the snapshot's `cdrs/<auth_id>.json`.
    pub raw: Vec<Box<RawValue>>,
    /// The same rows parsed, with the customer and the dates asked for.
    pub cdrs: CustomerCdrs,
}

impl FetchedCdrs {
    /// The snapshot file of these records: its path in the snapshot and its bytes.
    pub fn snapshot_file(&self) -> (String, Vec<u8>) {
        let dates = self.cdrs.dates.expect("fetched records know their dates");
        (
            cdr::cdrs_file(&self.cdrs.customer_id),
            cdr::cdrs_json(&self.cdrs.customer_id, dates, &self.raw),
        )
    }
}

/// Fetches the call records of `customers` from `dates.0` to `dates.1` (inclusive)
/// on a runtime of its own (blocking); returns them in the order of `customers`,
/// with the notes made while paging.
pub fn fetch_cdrs(
    settings: &ApiSettings,
    credentials: &Credentials,
    customers: &[String],
    dates: (NaiveDate, NaiveDate),
    progress: Arc<dyn Progress>,
) -> Result<(Vec<FetchedCdrs>, Vec<String>)> {
    block_on(fetch_cdrs_async(
        settings,
        credentials,
        customers,
        dates,
        progress,
    ))
}

/// [`fetch_cdrs`] for callers already inside a runtime.
pub async fn fetch_cdrs_async(
    settings: &ApiSettings,
    credentials: &Credentials,
    customers: &[String],
    dates: (NaiveDate, NaiveDate),
    progress: Arc<dyn Progress>,
) -> Result<(Vec<FetchedCdrs>, Vec<String>)> {
    with_lister(
        settings,
        credentials,
        progress,
        "CDR fetch",
        |lister| async move {
            lister.progress.planned(customers.len() as u64);
            let ids = Arc::new(customers.to_vec());
            let listings = in_order(ids.len(), lister.width, |i| {
                let lister = lister.clone();
                let id = ids[i].clone();
                async move { lister.customer_cdrs(id, dates).await }
            })
            .await?;
            let mut notes = Vec::new();
            let mut fetched = Vec::with_capacity(listings.len());
            for (id, listed) in customers.iter().zip(listings) {
                notes.extend(listed.notes);
                let (raw, rows) = listed.items.into_iter().map(|i| (i.raw, i.record)).unzip();
                fetched.push(FetchedCdrs {
                    raw,
                    cdrs: CustomerCdrs {
                        customer_id: id.clone(),
                        dates: Some(dates),
                        rows,
                    },
                });
            }
            Ok((fetched, notes))
        },
    )
    .await
}

/// One record as sent and as parsed.
struct Item<R> {
    raw: Box<RawValue>,
    record: R,
}

/// One page of a listing.
struct Page<R> {
    items: Vec<Item<R>>,
    total: Option<u64>,
    size: Option<u64>,
    /// Pages in all, when the envelope says.
    pages: Option<u64>,
    /// Whether a further page exists, when the envelope says.
    has_next: Option<bool>,
}

/// A whole listing, with what was noticed while paging through it.
struct Listed<R> {
    items: Vec<Item<R>>,
    notes: Vec<String>,
}

/// Reads one page body; `Err` is a shape problem (retried once by the client).
type ParsePage<R> = fn(&[u8]) -> std::result::Result<Page<R>, String>;

fn accounts_page(body: &[u8]) -> std::result::Result<Page<AccountRecord>, String> {
    let page: AccountsPage<Box<RawValue>> = parse_object(body)
        .map_err(|e| format!("not an accounts envelope {{\"accounts\": [...]}}: {e}"))?;
    let items = page
        .accounts
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let record = parse_account(raw.get()).map_err(|m| format!("account #{} {m}", i + 1))?;
            Ok(Item { raw, record })
        })
        .collect::<std::result::Result<_, String>>()?;
    Ok(Page {
        items,
        total: page.total,
        size: page.size,
        pages: None,
        has_next: None,
    })
}

/// A listing envelope of lenient records (numbers, call records): each record is
/// parsed on its own, so a broken record is an exception row, not a broken page.
trait RecordsEnvelope: serde::de::DeserializeOwned {
    /// The record type.
    type Record;
    /// The envelope's shape, for the error when a body is not one.
    const SHAPE: &'static str;
    /// Parses one record from its JSON text.
    fn record(raw: &str) -> Self::Record;
    /// The records as sent, and a page carrying the envelope's paging facts.
    fn into_parts(self) -> (Vec<Box<RawValue>>, Page<Self::Record>);
}

impl RecordsEnvelope for NumbersPage<Box<RawValue>> {
    type Record = NumberRecord;
    const SHAPE: &'static str = "numbers envelope {\"items\": [...]}";
    fn record(raw: &str) -> NumberRecord {
        NumberRecord::from_json(raw)
    }
    fn into_parts(self) -> (Vec<Box<RawValue>>, Page<NumberRecord>) {
        let page = Page {
            items: Vec::new(),
            total: self.total,
            size: self.per_page,
            pages: None,
            has_next: None,
        };
        (self.items, page)
    }
}

impl RecordsEnvelope for cdr::CdrPage<Box<RawValue>> {
    type Record = CdrRecord;
    const SHAPE: &'static str = "CDR envelope {\"data\": [...]}";
    fn record(raw: &str) -> CdrRecord {
        CdrRecord::from_json(raw)
    }
    fn into_parts(self) -> (Vec<Box<RawValue>>, Page<CdrRecord>) {
        let paging = self.pagination.unwrap_or_default();
        let page = Page {
            items: Vec::new(),
            total: paging.total,
            size: paging.per_page,
            pages: paging.pages,
            has_next: paging.has_next,
        };
        (self.data, page)
    }
}

/// Reads one page of number records.
const NUMBERS_PAGE: ParsePage<NumberRecord> = records_page::<NumbersPage<Box<RawValue>>>;
/// Reads one page of call records.
const CDRS_PAGE: ParsePage<CdrRecord> = records_page::<cdr::CdrPage<Box<RawValue>>>;

/// Reads one page of lenient records in envelope `E`.
fn records_page<E: RecordsEnvelope>(body: &[u8]) -> std::result::Result<Page<E::Record>, String> {
    let envelope: E = parse_object(body).map_err(|e| format!("not a {}: {e}", E::SHAPE))?;
    let (raws, mut page) = envelope.into_parts();
    page.items = raws
        .into_iter()
        .map(|raw| Item {
            record: E::record(raw.get()),
            raw,
        })
        .collect();
    Ok(page)
}

/// Pages through listings; cheap to clone into concurrent tasks.
#[derive(Clone)]
struct Lister {
    client: Arc<Client>,
    per_page: u32,
    max_pages: u64,
    width: usize,
    mode: FetchMode,
    progress: Arc<dyn Progress>,
}

impl Lister {
    /// Accounts, then numbers, limited to the scope.
    async fn inventory(&self, scope: &Scope) -> Result<Fetched> {
        self.progress.planned(1);
        let listed = self
            .list(vec!["accounts".into()], Vec::new(), accounts_page)
            .await?;
        let mut notes = listed.notes;
        let mut accounts = listed.items;
        let wanted: HashSet<&str> = scope.customers.iter().map(String::as_str).collect();
        if !wanted.is_empty() {
            accounts.retain(|a| {
                a.record
                    .auth_id
                    .as_deref()
                    .is_some_and(|id| wanted.contains(id))
            });
        }
        let numbers = match self.mode {
            FetchMode::PerCustomer => {
                // Ids asked for but not listed are still asked for: the API's 404
                // is the authority on "not your customer".
                let mut seen = HashSet::new();
                let ids: Vec<String> = accounts
                    .iter()
                    .filter_map(|a| a.record.auth_id.clone())
                    .filter(|id| !id.trim().is_empty())
                    .chain(scope.customers.iter().cloned())
                    .filter(|id| seen.insert(id.clone()))
                    .collect();
                self.progress.planned(ids.len() as u64);
                let search = scope.search.clone();
                let listings = in_order(ids.len(), self.width, |i| {
                    let lister = self.clone();
                    let id = ids[i].clone();
                    let search = search.clone();
                    async move { lister.customer_numbers(id, search).await }
                })
                .await?;
                let mut numbers = Vec::new();
                for listed in listings {
                    notes.extend(listed.notes);
                    numbers.extend(listed.items);
                }
                numbers
            }
            FetchMode::Global => {
                // No per-customer answer to wait for: refuse unknown ids up front.
                unlisted_customer(scope, &accounts)?;
                self.progress.planned(1);
                let listed = self
                    .list(vec!["numbers".into()], Vec::new(), NUMBERS_PAGE)
                    .await?;
                notes.extend(listed.notes);
                let mut numbers = listed.items;
                if !wanted.is_empty() {
                    numbers.retain(|n| {
                        n.record
                            .account_id
                            .as_str()
                            .is_some_and(|id| wanted.contains(id))
                    });
                }
                numbers
            }
        };
        unlisted_customer(scope, &accounts)?;
        let (accounts, account_records) = accounts.into_iter().map(|i| (i.raw, i.record)).unzip();
        let (numbers, number_records) = numbers.into_iter().map(|i| (i.raw, i.record)).unzip();
        Ok(Fetched {
            accounts,
            numbers,
            snapshot: Snapshot {
                accounts: account_records,
                numbers: number_records,
                notes,
            },
        })
    }

    /// One customer's numbers; a 404 means the id is not the partner's customer.
    async fn customer_numbers(
        &self,
        id: String,
        search: Option<String>,
    ) -> Result<Listed<NumberRecord>> {
        let path = vec!["accounts".into(), id.clone(), "numbers".into()];
        let filters = search.map(|s| vec![("search", s)]).unwrap_or_default();
        let mut listed = self
            .list(path, filters, NUMBERS_PAGE)
            .await
            .map_err(|e| match e {
                ApiError::Refused {
                    status: StatusCode::NOT_FOUND,
                    request,
                    ..
                } => Error::Api(format!(
                    "customer {id} is not your customer (or no longer exists): {request} answered 404 Not Found; check the id (MA_...)"
                )),
                e => e.into(),
            })?;
        let foreign = listed
            .items
            .iter()
            .filter(|n| n.record.account_id.as_str() != Some(id.as_str()))
            .count();
        if foreign > 0 {
            listed.notes.push(format!(
                "customer {id}: {foreign} number record(s) of its listing carry no account_id or \
                 another customer's; they are kept as sent (without account_id they are exceptions)"
            ));
        }
        Ok(listed)
    }

    /// One customer's call records; 403 means the partner may not read CDRs.
    async fn customer_cdrs(
        &self,
        id: String,
        (start, end): (NaiveDate, NaiveDate),
    ) -> Result<Listed<CdrRecord>> {
        let path = vec!["accounts".into(), id.clone(), "cdrs".into()];
        let filters = vec![
            ("start_date", start.to_string()),
            ("end_date", end.to_string()),
        ];
        self.list(path, filters, CDRS_PAGE)
            .await
            .map_err(|e| match e {
                ApiError::Refused {
                    status: StatusCode::FORBIDDEN,
                    request,
                    ..
                } => Error::Api(format!(
                    "{request} answered 403 Forbidden: this partner account may not read call \
                     records (CDRs); ask Vobiz to allow it, or run with --no-usage to bill the \
                     numbers only"
                )),
                ApiError::Refused {
                    status: StatusCode::NOT_FOUND,
                    request,
                    ..
                } => Error::Api(format!(
                    "customer {id} is not your customer (or no longer exists): {request} answered 404 Not Found"
                )),
                e => e.into(),
            })
    }

    /// One page of `path` with the query `filters`.
    async fn page<R>(
        &self,
        path: &[String],
        page: u64,
        filters: &[(&'static str, String)],
        parse: ParsePage<R>,
    ) -> std::result::Result<Page<R>, ApiError> {
        let mut query = vec![
            ("page", page.to_string()),
            ("per_page", self.per_page.to_string()),
        ];
        query.extend(filters.iter().cloned());
        let segments: Vec<&str> = path.iter().map(String::as_str).collect();
        let page = self.client.get(&segments, &query, parse).await?;
        self.progress.answered();
        Ok(page)
    }

    /// Every record of a listing. The caller has counted the first page in the
    /// progress bar; the pages the first page announces (`pages`, or `total` over
    /// the page size) are fetched concurrently, any further ones (the total grew,
    /// or there is none) one at a time.
    async fn list<R: Send + 'static>(
        &self,
        path: Vec<String>,
        filters: Vec<(&'static str, String)>,
        parse: ParsePage<R>,
    ) -> std::result::Result<Listed<R>, ApiError> {
        let listing = format!("GET /{}", path.join("/"));
        let first = self.page(&path, 1, &filters, parse).await?;
        let per_page = u64::from(self.per_page);
        // A server may use a smaller page than asked for; page numbers follow its size.
        let size = first
            .size
            .filter(|s| (1..=per_page).contains(s))
            .unwrap_or(per_page);
        let announced = first
            .pages
            .or_else(|| first.total.map(|total| total.div_ceil(size)));
        let mut pages = Pages::new(first);
        if let Some(needed) = announced.map(|n| n.max(1)) {
            self.check_page_count(needed, &listing)?;
            if needed > 1 {
                self.progress.planned(needed - 1);
                let rest = in_order((needed - 1) as usize, self.width, |i| {
                    let lister = self.clone();
                    let path = path.clone();
                    let filters = filters.clone();
                    async move { lister.page(&path, i as u64 + 2, &filters, parse).await }
                })
                .await?;
                for page in rest {
                    pages.push(page, &listing)?;
                }
            }
        }
        // Distinct records are counted: when records shift between pages while
        // fetching, a repeated record must not stand in for one not yet seen.
        while pages.more(size) {
            let next = pages.list.len() as u64 + 1;
            self.check_page_count(next, &listing)?;
            self.progress.planned(1);
            let page = self.page(&path, next, &filters, parse).await?;
            if !pages.push(page, &listing)? {
                break;
            }
        }
        Ok(pages.finish(&listing))
    }

    fn check_page_count(&self, pages: u64, listing: &str) -> std::result::Result<(), ApiError> {
        if pages > self.max_pages {
            return Err(ApiError::Paging {
                listing: listing.to_owned(),
                problem: format!(
                    "it would take more than {} pages of {} records; stopping rather than paging forever",
                    self.max_pages, self.per_page
                ),
            });
        }
        Ok(())
    }
}

/// Refuses a customer asked for that is not among the accounts listed.
fn unlisted_customer(scope: &Scope, accounts: &[Item<AccountRecord>]) -> Result<()> {
    let listed: HashSet<&str> = accounts
        .iter()
        .filter_map(|a| a.record.auth_id.as_deref())
        .collect();
    match scope
        .customers
        .iter()
        .find(|c| !listed.contains(c.as_str()))
    {
        Some(missing) => Err(Error::Usage(format!(
            "customer {missing} is not among the partner's accounts; check the id (MA_...)"
        ))),
        None => Ok(()),
    }
}

/// The pages of one listing so far, with the distinct records among them.
struct Pages<R> {
    list: Vec<Page<R>>,
    /// Hashes of the distinct record texts seen.
    seen: HashSet<u64>,
}

impl<R> Pages<R> {
    fn new(first: Page<R>) -> Pages<R> {
        let mut pages = Pages {
            list: Vec::new(),
            seen: HashSet::new(),
        };
        pages.add(first);
        pages
    }

    fn add(&mut self, page: Page<R>) {
        for item in &page.items {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            item.raw.get().hash(&mut hasher);
            self.seen.insert(hasher.finish());
        }
        self.list.push(page);
    }

    /// Appends a page after checking that it does not repeat the previous one. A
    /// repeat after `total` records arrived is a server answering past the end with
    /// its last page: it is dropped and `false` returned. Any other repeat is an error.
    fn push(&mut self, page: Page<R>, listing: &str) -> std::result::Result<bool, ApiError> {
        let previous = self.list.last().expect("the first page is there");
        let same = !page.items.is_empty()
            && page.items.len() == previous.items.len()
            && page
                .items
                .iter()
                .zip(&previous.items)
                .all(|(a, b)| a.raw.get() == b.raw.get());
        if same {
            let received: u64 = self.list.iter().map(|p| p.items.len() as u64).sum();
            if page.total.or(previous.total).is_some_and(|t| received >= t) {
                return Ok(false);
            }
            return Err(ApiError::Paging {
                listing: listing.to_owned(),
                problem: format!(
                    "page {} repeats page {} exactly: the API is not paginating; \
                     stopping rather than working from incomplete data",
                    self.list.len() + 1,
                    self.list.len()
                ),
            });
        }
        self.add(page);
        Ok(true)
    }

    /// Whether the last page says there is more: its `has_next`, else fewer
    /// distinct records than its `total`, else (with neither) a full page.
    fn more(&self, size: u64) -> bool {
        let last = self.list.last().expect("the first page is there");
        !last.items.is_empty()
            && match (last.has_next, last.total) {
                (Some(has_next), _) => has_next,
                (None, Some(total)) => (self.seen.len() as u64) < total,
                (None, None) => last.items.len() as u64 >= size,
            }
    }

    /// All records in page order, with notes about totals that changed or do not
    /// match what arrived.
    fn finish(self, listing: &str) -> Listed<R> {
        let mut totals: Vec<u64> = Vec::new();
        for total in self.list.iter().filter_map(|p| p.total) {
            if totals.last() != Some(&total) {
                totals.push(total);
            }
        }
        let received: u64 = self.list.iter().map(|p| p.items.len() as u64).sum();
        let shown: Vec<String> = totals.iter().map(u64::to_string).collect();
        let notes = match totals.as_slice() {
            [_, _, ..] => vec![format!(
                "{listing}: the total changed while fetching ({}); records were added or removed \
                 meanwhile, {received} received — fetch again for a consistent inventory",
                shown.join(" → ")
            )],
            [total] if *total != received => vec![format!(
                "{listing}: {received} record(s) received but the API announced a total of {total}"
            )],
            _ => Vec::new(),
        };
        Listed {
            items: self.list.into_iter().flat_map(|p| p.items).collect(),
            notes,
        }
    }
}

/// Runs jobs `0..count`, at most `width` at a time, and returns their results in job
/// order whatever order they finish in. The first error is returned; dropping the
/// task set then cancels the jobs still running.
async fn in_order<T, E, F, Fut>(
    count: usize,
    width: usize,
    job: F,
) -> std::result::Result<Vec<T>, E>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = std::result::Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let mut slots: Vec<Option<T>> = (0..count).map(|_| None).collect();
    let mut running = JoinSet::new();
    let mut next = 0;
    while next < count || !running.is_empty() {
        while next < count && running.len() < width {
            let work = job(next);
            let index = next;
            running.spawn(async move { (index, work.await) });
            next += 1;
        }
        match running.join_next().await {
            Some(Ok((index, result))) => slots[index] = Some(result?),
            Some(Err(e)) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => panic!("a fetch task was cancelled: {e}"),
            },
            None => break,
        }
    }
    Ok(slots
        .into_iter()
        .map(|s| s.expect("every job has finished"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::Loose;

    #[test]
    fn page_bodies_in_array_shape_are_refused_not_read_by_position() {
        for body in [&b"[[], 1, 1]"[..], b" [\"x\"]", b"42"] {
            let errors = [
                accounts_page(body).err(),
                NUMBERS_PAGE(body).err(),
                CDRS_PAGE(body).err(),
            ];
            for error in errors {
                let error = error.expect("refused");
                assert!(error.contains("it is not a JSON object"), "{error}");
            }
        }
        let page = NUMBERS_PAGE(br#"{"items": [{"id": "n1"}, ["n2"]], "total": 2}"#).unwrap();
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.items[0].record.id, Loose::Value("n1".into()));
        // A record in array shape is kept, unread, to become an exception row.
        let unread = page.items[1].record.unreadable.as_deref().unwrap();
        assert!(unread.contains("not a JSON object"), "{unread}");
    }
}
