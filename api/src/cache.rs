//! Answers to hot reads kept in memory and invalidated by change signals, never by time.
//!
//! Two generations count what may have changed: `data` (any row) and `principals` (users, team
//! memberships: who a caller is and what they may see; a change there is also a data change). An
//! entry remembers the generation it was computed at, read *before* its queries ran, and is served
//! only while that generation is current, so a commit after the read makes it stale at the latest
//! when its signal arrives:
//! - in this process, every request with a method that may write bumps both generations when its
//!   handler returns (after its commit, before the client hears back: a client reads its own
//!   writes), and jobs' [`crate::live::Writer`] bump `data` when they publish;
//! - from other processes and background tasks, [`crate::live::listen`] bumps them on PostgreSQL
//!   `NOTIFY` (milliseconds; the payload names the table) and on SQLite `data_version` (40 ms).
//!
//! Entries are used only while every change listener of the process is following; a listener that
//! lost its connection invalidates everything and disables the caches until it follows again.

use crate::error::{ApiError, ApiResult};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{ContentEncoding, ContentType, Encoding, ACCEPT_ENCODING, VARY};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::Hash;
use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::watch;

static DATA: AtomicU64 = AtomicU64::new(0);
static PRINCIPALS: AtomicU64 = AtomicU64::new(0);
/// Change listeners started in this process, and how many of them are not following right now.
static LISTENERS: AtomicUsize = AtomicUsize::new(0);
static LAGGING: AtomicUsize = AtomicUsize::new(0);

/// The tables whose changes alter who a caller is or which teams they see.
const PRINCIPAL_TABLES: [&str; 3] = ["users", "team_memberships", "teams"];

/// Rows may have changed.
pub fn data_changed() {
    DATA.fetch_add(1, Ordering::AcqRel);
}

/// Callers' accounts or memberships may have changed (and so may anything else).
pub fn everything_changed() {
    PRINCIPALS.fetch_add(1, Ordering::AcqRel);
    DATA.fetch_add(1, Ordering::AcqRel);
}

/// A committed change to `table`, as PostgreSQL's triggers name it; unnamed means unknown.
pub fn table_changed(table: &str) {
    if table.is_empty() || PRINCIPAL_TABLES.contains(&table) {
        everything_changed();
    } else {
        data_changed();
    }
}

/// What a change listener calls when it starts, then `following(true/false)` as its state moves.
pub fn listener_started() {
    LISTENERS.fetch_add(1, Ordering::AcqRel);
    LAGGING.fetch_add(1, Ordering::AcqRel);
}

/// A listener that starts following may have missed changes meanwhile, as may one that stops.
pub fn following(now: bool) {
    everything_changed();
    if now {
        LAGGING.fetch_sub(1, Ordering::AcqRel);
    } else {
        LAGGING.fetch_add(1, Ordering::AcqRel);
    }
}

fn trusted() -> bool {
    LISTENERS.load(Ordering::Acquire) > 0 && LAGGING.load(Ordering::Acquire) == 0
}

/// Which generation an entry depends on.
#[derive(Clone, Copy)]
pub enum Depends {
    Data,
    Principals,
}

impl Depends {
    fn current(self) -> u64 {
        match self {
            Depends::Data => DATA.load(Ordering::Acquire),
            Depends::Principals => PRINCIPALS.load(Ordering::Acquire),
        }
    }
}

/// The generation to store an entry under, read before the queries that compute it; `None` when
/// the caches are not to be trusted.
#[derive(Clone, Copy)]
pub struct Stamp(Option<u64>);

/// A bounded map of entries valid at one generation; when the budget is exceeded the oldest
/// entries go first.
pub struct Cache<K, V> {
    depends: Depends,
    budget: usize,
    inner: Mutex<Inner<K, V>>,
}

struct Inner<K, V> {
    entries: HashMap<K, (u64, V, usize)>,
    order: VecDeque<K>,
    used: usize,
}

impl<K: Eq + Hash + Clone, V: Clone> Cache<K, V> {
    /// `budget` in whatever unit `put`'s cost is given in (bytes, entries).
    pub fn new(depends: Depends, budget: usize) -> Self {
        Cache {
            depends,
            budget,
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                order: VecDeque::new(),
                used: 0,
            }),
        }
    }

    pub fn stamp(&self) -> Stamp {
        Stamp(trusted().then(|| self.depends.current()))
    }

    pub fn get(&self, key: &K) -> Option<V> {
        if !trusted() {
            return None;
        }
        let current = self.depends.current();
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        // A stale entry stays until it is replaced or its turn to go comes: bounded by the budget.
        let found = inner
            .entries
            .get(key)
            .filter(|(generation, _, _)| *generation == current)
            .map(|(_, value, _)| value.clone());
        crate::metrics::cache_lookup(found.is_some());
        found
    }

    /// Keeps `value` computed from reads made after `stamp` was taken, unless something changed
    /// since (then the next reader computes it again).
    pub fn put(&self, key: K, stamp: Stamp, value: V, cost: usize) {
        let Some(generation) = stamp.0 else { return };
        if generation != self.depends.current() || cost > self.budget {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, _, old)) = inner.entries.remove(&key) {
            inner.used -= old;
        } else {
            inner.order.push_back(key.clone());
        }
        inner.used += cost;
        inner.entries.insert(key, (generation, value, cost));
        while inner.used > self.budget {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some((_, _, cost)) = inner.entries.remove(&oldest) {
                inner.used -= cost;
            }
        }
    }
}

type AnswerKey = (&'static str, uuid::Uuid, String);

/// Shared by the handlers that answer from memory.
pub struct Caches {
    /// Serialized JSON answers by (route, caller, query).
    pub answers: Cache<AnswerKey, Arc<Answer>>,
    /// Signed-in users' rows by id, as [`crate::auth::extractor`] loads them.
    pub principals: Cache<uuid::Uuid, Arc<crate::entities::users::Model>>,
    /// Answers being computed, with the generation their reads started at: a reader that misses
    /// at that same generation waits for it instead of running the same queries again (after a
    /// write, every concurrent reader of a page would otherwise recompute it at once).
    flights: Mutex<HashMap<AnswerKey, Flight>>,
}

struct Flight {
    generation: u64,
    answer: watch::Receiver<Option<Arc<Answer>>>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            answers: Cache::new(Depends::Data, 16 << 20),
            principals: Cache::new(Depends::Principals, 10_000),
            flights: Mutex::new(HashMap::new()),
        }
    }
}

/// Ends a flight however its computation ends (answered, failed, or dropped with its request):
/// readers waiting on a flight that ended without an answer compute their own.
struct Landing<'a> {
    flights: &'a Mutex<HashMap<AnswerKey, Flight>>,
    key: AnswerKey,
    answer: watch::Sender<Option<Arc<Answer>>>,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if flights
            .get(&self.key)
            .is_some_and(|flight| flight.answer.same_channel(&self.answer.subscribe()))
        {
            flights.remove(&self.key);
        }
    }
}

/// One remembered JSON answer, and its gzip made the first time a client that accepts it asks:
/// compressing a large answer on every request would cost more than computing it.
pub struct Answer {
    json: Bytes,
    gzip: OnceLock<Option<Bytes>>,
}

/// Answers smaller than this go out as they are (the compression middleware may still shrink them).
const GZIP_FROM: usize = 1024;

impl Answer {
    fn new(json: Bytes) -> Self {
        Answer {
            json,
            gzip: OnceLock::new(),
        }
    }

    fn gzip(&self) -> Option<Bytes> {
        self.gzip
            .get_or_init(|| {
                let mut encoder = flate2::write::GzEncoder::new(
                    Vec::with_capacity(self.json.len() / 4),
                    flate2::Compression::default(),
                );
                encoder.write_all(&self.json).ok()?;
                encoder.finish().ok().map(Bytes::from)
            })
            .clone()
    }

    /// The answer in the encoding `req` accepts best among identity and gzip.
    fn respond(&self, req: &HttpRequest) -> HttpResponse {
        let gzip_accepted = self.json.len() >= GZIP_FROM && prefers_gzip(req);
        let mut res = HttpResponse::Ok();
        res.content_type(ContentType::json())
            .insert_header((VARY, "accept-encoding"));
        match self.gzip().filter(|_| gzip_accepted) {
            Some(gzip) => res.insert_header(ContentEncoding::Gzip).body(gzip),
            None => res.body(self.json.clone()),
        }
    }
}

/// Whether gzip is the best of identity and gzip for `req`, as [`crate::compression::negotiate`]
/// decides. Without q-values (what browsers and HTTP libraries send) every listed coding has
/// quality 1 and gzip ranks above identity, so a plain scan for the token decides; only headers
/// with parameters are parsed in full.
fn prefers_gzip(req: &HttpRequest) -> bool {
    let Some(header) = req.headers().get(ACCEPT_ENCODING) else {
        return false;
    };
    let Ok(value) = header.to_str() else {
        return false;
    };
    if !value.contains(';') {
        return value
            .split(',')
            .any(|coding| coding.trim().eq_ignore_ascii_case("gzip"));
    }
    crate::compression::negotiate(req, &[Encoding::identity(), Encoding::gzip()])
        == ContentEncoding::Gzip
}

impl Caches {
    /// The JSON answer of `route` for `caller` and `query` (anything that, with those two, decides
    /// the answer: the raw query string, or the parsed parameters), from memory while nothing
    /// changed, else from `compute` (whose reads start after this is called).
    pub async fn json<T: Serialize, E: Into<ApiError>>(
        &self,
        req: &HttpRequest,
        route: &'static str,
        caller: uuid::Uuid,
        query: String,
        compute: impl Future<Output = Result<T, E>>,
    ) -> ApiResult<HttpResponse> {
        let key = (route, caller, query);
        if let Some(answer) = self.answers.get(&key) {
            return Ok(answer.respond(req));
        }
        let stamp = self.answers.stamp();
        let landing = match self.board(&key, stamp) {
            Boarding::Joined(mut answer) => {
                if let Ok(answer) = answer.wait_for(Option::is_some).await {
                    if let Some(answer) = answer.as_ref() {
                        crate::metrics::cache_joined();
                        return Ok(answer.respond(req));
                    }
                }
                None
            }
            Boarding::Leading(landing) => Some(landing),
            Boarding::Alone => None,
        };
        let json = serde_json::to_vec(&compute.await.map_err(Into::into)?)
            .map_err(|e| ApiError::Internal(e.into()))?;
        let cost = json.len();
        let answer = Arc::new(Answer::new(Bytes::from(json)));
        self.answers.put(key, stamp, answer.clone(), cost);
        if let Some(landing) = landing {
            landing.answer.send_replace(Some(answer.clone()));
        }
        Ok(answer.respond(req))
    }

    /// Joins the computation of `key` started at the generation of `stamp`, or starts one.
    fn board(&self, key: &AnswerKey, stamp: Stamp) -> Boarding<'_> {
        let Some(generation) = stamp.0 else {
            return Boarding::Alone;
        };
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(flight) = flights.get(key) {
            if flight.generation == generation {
                return Boarding::Joined(flight.answer.clone());
            }
        }
        let (sender, receiver) = watch::channel(None);
        flights.insert(
            key.clone(),
            Flight {
                generation,
                answer: receiver,
            },
        );
        Boarding::Leading(Landing {
            flights: &self.flights,
            key: key.clone(),
            answer: sender,
        })
    }
}

enum Boarding<'a> {
    /// Someone computes this answer from the same generation: wait for theirs.
    Joined(watch::Receiver<Option<Arc<Answer>>>),
    /// Compute it; others may wait for it.
    Leading(Landing<'a>),
    /// The caches are not trusted right now: compute it, share nothing.
    Alone,
}

/// Marks everything changed once a request that may have written is handled.
pub async fn forget_after_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let may_write = !req.method().is_safe();
    let res = next.call(req).await;
    if may_write {
        everything_changed();
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::AcceptEncoding;
    use actix_web::HttpMessage;

    /// The generations are process-wide: these tests take turns, as if one listener followed.
    fn trusted_for_test() -> std::sync::MutexGuard<'static, ()> {
        static SERIAL: Mutex<()> = Mutex::new(());
        let turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        if LISTENERS.load(Ordering::Acquire) == 0 {
            listener_started();
            following(true);
        }
        turn
    }

    #[test]
    fn gzip_is_preferred_exactly_when_the_full_negotiation_prefers_it() {
        let headers = [
            None,
            Some("gzip"),
            Some("gzip, deflate, br, zstd"),
            Some(" GZip "),
            Some("br, zstd"),
            Some("identity"),
            Some("identity, gzip"),
            Some("*"),
            Some("x-gzip"),
            Some("gzipped"),
            Some(""),
            Some("gzip;q=0"),
            Some("gzip;q=0.5, identity"),
            Some("identity;q=0.5, gzip;q=0.8"),
            Some("gzip;q=0.5, identity;q=0.5"),
            Some("*;q=0, gzip;q=0.1"),
            Some("br;q=1.0, gzip;q=0.9"),
            Some("gzip;q=nonsense"),
        ];
        for accept in headers {
            let mut req = actix_web::test::TestRequest::default();
            if let Some(accept) = accept {
                req = req.insert_header((ACCEPT_ENCODING, accept));
            }
            let req = req.to_http_request();
            let negotiated = req
                .get_header::<AcceptEncoding>()
                .and_then(|a| a.negotiate([Encoding::identity(), Encoding::gzip()].iter()))
                == Some(Encoding::gzip());
            assert_eq!(
                prefers_gzip(&req),
                negotiated,
                "Accept-Encoding: {accept:?}"
            );
        }
        let browser = actix_web::test::TestRequest::default()
            .insert_header((ACCEPT_ENCODING, "gzip, deflate, br, zstd"))
            .to_http_request();
        assert!(prefers_gzip(&browser));
    }

    #[test]
    fn an_entry_is_served_until_a_change_after_its_stamp() {
        let _turn = trusted_for_test();
        let cache: Cache<u32, &str> = Cache::new(Depends::Data, 10);
        let stamp = cache.stamp();
        cache.put(1, stamp, "one", 1);
        assert_eq!(cache.get(&1), Some("one"));
        data_changed();
        assert_eq!(cache.get(&1), None);
        // Computed before the change: not kept.
        cache.put(1, stamp, "one", 1);
        assert_eq!(cache.get(&1), None);
    }

    #[test]
    fn principal_entries_outlive_data_changes_but_not_membership_changes() {
        let _turn = trusted_for_test();
        let cache: Cache<u32, &str> = Cache::new(Depends::Principals, 10);
        cache.put(7, cache.stamp(), "alice", 1);
        table_changed("deployments");
        assert_eq!(cache.get(&7), Some("alice"));
        table_changed("team_memberships");
        assert_eq!(cache.get(&7), None);
    }

    #[test]
    fn the_oldest_entries_go_when_the_budget_is_exceeded() {
        let _turn = trusted_for_test();
        let cache: Cache<u32, u32> = Cache::new(Depends::Principals, 3);
        let stamp = cache.stamp();
        for key in 0..5 {
            cache.put(key, stamp, key, 1);
        }
        let kept: Vec<u32> = (0..5).filter_map(|k| cache.get(&k)).collect();
        assert_eq!(kept, vec![2, 3, 4]);
        cache.put(9, stamp, 9, 4);
        assert_eq!(cache.get(&9), None, "larger than the whole budget");
    }

    /// Runs `body` on a runtime of its own, the caches trusted.
    fn with_runtime<F: Future>(body: F) -> F::Output {
        let _turn = trusted_for_test();
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime")
            .block_on(body)
    }

    /// One cached answer read by many: counts the computations and answers
    /// `{"version": <version when the computation started>}` after a delay.
    struct Readers {
        caches: Caches,
        req: HttpRequest,
        caller: uuid::Uuid,
        runs: std::sync::atomic::AtomicU32,
        version: std::sync::atomic::AtomicU32,
    }

    impl Readers {
        fn new() -> Self {
            Readers {
                caches: Caches::default(),
                req: actix_web::test::TestRequest::default().to_http_request(),
                caller: uuid::Uuid::new_v4(),
                runs: Default::default(),
                version: Default::default(),
            }
        }

        /// A read whose computation, if it runs, takes `ms` milliseconds.
        async fn read(&self, ms: u64) -> ApiResult<HttpResponse> {
            let compute = async {
                self.runs.fetch_add(1, Ordering::SeqCst);
                let seen = self.version.load(Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                Ok::<_, ApiError>(serde_json::json!({ "version": seen }))
            };
            let query = "q".to_owned();
            self.caches
                .json(&self.req, "test", self.caller, query, compute)
                .await
        }

        /// A read after waiting `ms` milliseconds.
        async fn read_later(&self, ms: u64, compute_ms: u64) -> ApiResult<HttpResponse> {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            self.read(compute_ms).await
        }

        fn runs(&self) -> u32 {
            self.runs.load(Ordering::SeqCst)
        }
    }

    async fn version(answer: ApiResult<HttpResponse>) -> serde_json::Value {
        let res = answer.expect("answered");
        assert_eq!(res.status(), 200);
        let bytes = actix_web::body::to_bytes(res.into_body())
            .await
            .unwrap_or_default();
        serde_json::from_slice::<serde_json::Value>(&bytes).expect("a JSON answer")["version"]
            .clone()
    }

    #[test]
    fn concurrent_misses_at_one_generation_compute_the_answer_once() {
        with_runtime(async {
            let readers = Readers::new();
            let answers = futures_util::future::join_all((0..16).map(|_| readers.read(50))).await;
            assert_eq!(readers.runs(), 1, "one computation for 16 readers");
            for answer in answers {
                assert_eq!(version(answer).await, 0);
            }
        });
    }

    #[test]
    fn a_reader_that_arrives_after_a_change_does_not_wait_for_an_older_computation() {
        with_runtime(async {
            let readers = Readers::new();
            let after_a_change = async {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                readers.version.store(1, Ordering::SeqCst);
                data_changed();
                readers.read(100).await
            };
            let (first, second) =
                futures_util::future::join(readers.read(100), after_a_change).await;
            assert_eq!(readers.runs(), 2);
            assert_eq!(version(first).await, 0);
            assert_eq!(
                version(second).await,
                1,
                "the reader sees the change it came after"
            );
        });
    }

    #[test]
    fn readers_waiting_on_a_computation_that_is_dropped_compute_their_own() {
        with_runtime(async {
            let readers = Readers::new();
            // The first reader's client goes away mid-computation.
            let abandoned =
                tokio::time::timeout(std::time::Duration::from_millis(20), readers.read(100));
            let (abandoned, waiting) =
                futures_util::future::join(abandoned, readers.read_later(5, 100)).await;
            assert!(abandoned.is_err(), "the first reader gave up");
            assert_eq!(version(waiting).await, 0);
            assert_eq!(readers.runs(), 2);
            assert!(
                readers.caches.flights.lock().unwrap().is_empty(),
                "no flight outlives its computation"
            );
        });
    }
}
