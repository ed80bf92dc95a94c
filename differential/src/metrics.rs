//! Live Prometheus metrics of a campaign (`diverge fuzz --metrics ADDR`): a registry of the
//! `prometheus-client` crate, updated by the supervisor with plain totals, and served as Prometheus
//! text (format 0.0.4) on `http://ADDR/metrics` by a `tiny_http` server on a thread of the
//! supervisor process. `ci/monitoring/diverge-dashboard.json` is the Grafana dashboard over them;
//! `diverge metric-names` prints the series names this module exposes (what
//! `ci/monitoring/check-dashboard.sh` checks the dashboard's queries against, and it runs
//! `promtool check metrics` on a real scrape).
//!
//! The series follow Prometheus' naming and instrumentation conventions
//! (<https://prometheus.io/docs/practices/naming/>, `/practices/instrumentation/`):
//! - a count that only grows is a counter named `_total`; rates (`rate()`), ratios and "time since"
//!   are computed by the query, not exported (no `_per_sec`, `_ratio` or uptime gauges);
//! - times are absolute Unix timestamps in seconds (`_timestamp_seconds`, `_start_time_seconds`):
//!   `time() - x` is the age, and the value stays right between updates;
//! - every label is bounded: targets, presets, machines, instances, and the known upstream hazards
//!   (a fixed list) are; finding signatures are not (one per distinct divergence), so they are not a
//!   label: `diverge triage` lists them;
//! - a gauge counting things says what it counts (`_inputs`), `size` would read as bytes.
//!
//! # Series of the built-in loop (`diverge fuzz`)
//! Labels `target` (a target name, `diverge list`) and `preset` (`minimal`, `mainnet`) unless said:
//! - `diverge_execs_total` (counter): executions, all workers together. exec/s:
//!   `rate(diverge_execs_total[1m])`.
//! - `diverge_undecodable_total` (counter): executions whose input did not decode. Share:
//!   `rate(diverge_undecodable_total[5m]) / rate(diverge_execs_total[5m])`.
//! - `diverge_corpus_inputs` (gauge): corpus entries (seeds plus behaviour-new inputs).
//! - `diverge_findings_total` (counter; labels `target`, `preset`, `kind` = `new` or `known`,
//!   `hazard` = the known upstream hazard's name or empty): findings reported, once per signature
//!   per campaign (after the finding is on disk).
//! - `diverge_worker_restarts_total` (counter): worker processes restarted after an input of the
//!   target crashed, hung or passed the memory limit.
//! - `diverge_worker_idle_restarts_total` (counter, no label): restarts after a worker died
//!   outside any input.
//! - `diverge_workers` (gauge, no label): worker processes running.
//! - `diverge_start_time_seconds` (gauge, no label): Unix time the campaign started; uptime:
//!   `time() - diverge_start_time_seconds`.
//! - `diverge_build_info` (gauge, label `version`, always 1): the binary's version.
//!
//! # Series of the AFL++ farm (`diverge farm afl`)
//! Labels `machine` (the farm's `--name`), `fuzzer` (the AFL++ instance's `-M`/`-S` name; not
//! `instance`, which Prometheus itself sets to the scraped address) and `target`; the values are
//! those of the instance's `fuzzer_stats`, set through [`Metrics::set_afl_fuzzer`]:
//! - `diverge_afl_execs_total` (counter): `execs_done`. exec/s: `rate(diverge_afl_execs_total[1m])`.
//! - `diverge_afl_corpus_inputs` (gauge): `corpus_count` (queue entries).
//! - `diverge_afl_saved_crashes_total` (counter): `saved_crashes` (unique crashes AFL++ kept).
//! - `diverge_afl_last_find_timestamp_seconds` (gauge): Unix time of `last_find` (not set before
//!   the instance found anything); time since: `time() - diverge_afl_last_find_timestamp_seconds`.
//!
//! Findings the farm turns AFL++ crashes into go to `diverge_findings_total` like the loop's.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The `Content-Type` of `/metrics`: Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

type FloatGauge = Gauge<f64, AtomicU64>;

/// Labels of a target's series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabels {
    target: String,
    preset: String,
}

/// Labels of `diverge_findings_total`: all bounded (no signature, see the module doc).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FindingLabels {
    target: String,
    preset: String,
    kind: String,
    hazard: String,
}

/// Labels of the AFL++ farm's series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FuzzerLabels {
    machine: String,
    fuzzer: String,
    target: String,
}

/// Label of `diverge_build_info`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

/// One target's totals at one moment, as the supervisor sums them over its workers.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TargetTotals {
    /// Executions since the campaign started.
    pub execs: u64,
    /// Of which undecodable.
    pub undecodable: u64,
    /// Corpus entries now (seeds included).
    pub corpus: u64,
    /// Worker restarts caused by inputs of this target since the campaign started.
    pub restarts: u64,
}

/// One AFL++ instance's figures, read from its `fuzzer_stats` (for `diverge farm afl`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AflFuzzerStats {
    /// `execs_done`.
    pub execs: u64,
    /// `execs_per_sec`: not exported (`rate(diverge_afl_execs_total[1m])` is the convention);
    /// kept so that the farm's callers build this struct unchanged.
    pub execs_per_sec: f64,
    /// `corpus_count`.
    pub paths: u64,
    /// `saved_crashes`.
    pub crashes: u64,
    /// Seconds since `last_find` at the time of the call (`None`: nothing found yet; the series
    /// is then not set). Exported as the absolute time `now - seconds_since_last_find`.
    pub seconds_since_last_find: Option<f64>,
}

/// The registry and every metric family of a campaign. Cheap to clone (the families are shared);
/// every method takes `&self` and may be called from any thread.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    execs: Family<TargetLabels, Counter>,
    corpus: Family<TargetLabels, Gauge>,
    undecodable: Family<TargetLabels, Counter>,
    findings: Family<FindingLabels, Counter>,
    restarts: Family<TargetLabels, Counter>,
    idle_restarts: Counter,
    workers: Gauge,
    start_time: FloatGauge,
    /// The campaign's start (Unix seconds), fixed by the first [`Metrics::set_campaign`].
    started: Arc<OnceLock<f64>>,
    build_info: Family<BuildLabels, Gauge>,
    afl_execs: Family<FuzzerLabels, Counter>,
    afl_corpus: Family<FuzzerLabels, Gauge>,
    afl_crashes: Family<FuzzerLabels, Counter>,
    afl_last_find: Family<FuzzerLabels, FloatGauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Raises a counter to `total` (counters only grow: a smaller total is ignored).
fn raise(counter: &Counter, total: u64) {
    let now = counter.get();
    if total > now {
        counter.inc_by(total - now);
    }
}

fn gauge_count(gauge: &Gauge, n: u64) {
    gauge.set(i64::try_from(n).unwrap_or(i64::MAX));
}

/// Now, in Unix seconds (0 if the clock is before 1970).
fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

impl Metrics {
    /// Every family registered, no series yet but `diverge_build_info` (a family without series
    /// shows only its `# HELP`/`# TYPE` lines, or nothing).
    pub fn new() -> Self {
        let mut r = Registry::default();
        let m = Metrics {
            execs: Family::default(),
            corpus: Family::default(),
            undecodable: Family::default(),
            findings: Family::default(),
            restarts: Family::default(),
            idle_restarts: Counter::default(),
            workers: Gauge::default(),
            start_time: FloatGauge::default(),
            started: Arc::default(),
            build_info: Family::default(),
            afl_execs: Family::default(),
            afl_corpus: Family::default(),
            afl_crashes: Family::default(),
            afl_last_find: Family::default(),
            registry: Arc::new(Registry::default()),
        };
        // Counters are registered without `_total`: the encoder appends it.
        r.register("diverge_execs", "Executions of the target, all workers together", m.execs.clone());
        r.register("diverge_undecodable", "Executions of the target whose input did not decode", m.undecodable.clone());
        r.register("diverge_corpus_inputs", "Corpus entries of the target (seeds plus behaviour-new inputs)", m.corpus.clone());
        r.register("diverge_findings", "Findings reported (on disk), once per signature per campaign; kind new or known (a known upstream hazard, named by hazard); signatures: diverge triage", m.findings.clone());
        r.register("diverge_worker_restarts", "Worker processes restarted after an input of the target crashed, hung or passed the memory limit", m.restarts.clone());
        r.register("diverge_worker_idle_restarts", "Worker processes restarted after dying outside any input", m.idle_restarts.clone());
        r.register("diverge_workers", "Worker processes running", m.workers.clone());
        r.register("diverge_start_time_seconds", "Unix time the campaign started, in seconds", m.start_time.clone());
        r.register("diverge_build_info", "The diverge binary's version (value always 1)", m.build_info.clone());
        r.register("diverge_afl_execs", "AFL++ instance executions (fuzzer_stats execs_done)", m.afl_execs.clone());
        r.register("diverge_afl_corpus_inputs", "AFL++ instance queue entries (fuzzer_stats corpus_count)", m.afl_corpus.clone());
        r.register("diverge_afl_saved_crashes", "AFL++ instance saved crashes (fuzzer_stats saved_crashes)", m.afl_crashes.clone());
        r.register("diverge_afl_last_find_timestamp_seconds", "Unix time the AFL++ instance last found a new path (fuzzer_stats last_find), in seconds", m.afl_last_find.clone());
        m.build_info.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION").to_string() }).set(1);
        Metrics { registry: Arc::new(r), ..m }
    }

    /// Sets one target's series from its totals.
    pub fn set_target(&self, target: &str, preset: &str, totals: TargetTotals) {
        let labels = TargetLabels { target: target.to_string(), preset: preset.to_string() };
        raise(&self.execs.get_or_create(&labels), totals.execs);
        raise(&self.undecodable.get_or_create(&labels), totals.undecodable);
        raise(&self.restarts.get_or_create(&labels), totals.restarts);
        gauge_count(&self.corpus.get_or_create(&labels), totals.corpus);
    }

    /// Counts one finding of `target` (call once per signature, after it is on disk). `known`:
    /// the known upstream hazard's name when it is one. `signature` is not a label (unbounded:
    /// one per distinct divergence, see the module doc); `diverge triage` lists them.
    pub fn finding(&self, target: &str, preset: &str, signature: &str, known: Option<&str>) {
        let _ = signature;
        let labels = FindingLabels {
            target: target.to_string(),
            preset: preset.to_string(),
            kind: if known.is_some() { "known" } else { "new" }.to_string(),
            hazard: known.unwrap_or_default().to_string(),
        };
        self.findings.get_or_create(&labels).inc();
    }

    /// Sets the campaign-wide series: restarts outside any input, workers running, and, on the
    /// first call, the start time (now minus `uptime`).
    pub fn set_campaign(&self, idle_restarts: u64, workers: u64, uptime: Duration) {
        raise(&self.idle_restarts, idle_restarts);
        gauge_count(&self.workers, workers);
        let started = *self.started.get_or_init(|| unix_now() - uptime.as_secs_f64());
        self.start_time.set(started);
    }

    /// Sets one AFL++ instance's series (for `diverge farm afl`): `machine` is the farm machine's
    /// name, `fuzzer` the instance's `-M`/`-S` name.
    pub fn set_afl_fuzzer(&self, machine: &str, fuzzer: &str, target: &str, stats: AflFuzzerStats) {
        let labels = FuzzerLabels { machine: machine.to_string(), fuzzer: fuzzer.to_string(), target: target.to_string() };
        raise(&self.afl_execs.get_or_create(&labels), stats.execs);
        gauge_count(&self.afl_corpus.get_or_create(&labels), stats.paths);
        raise(&self.afl_crashes.get_or_create(&labels), stats.crashes);
        if let Some(s) = stats.seconds_since_last_find {
            // Whole seconds: fuzzer_stats' last_find has no finer resolution.
            self.afl_last_find.get_or_create(&labels).set((unix_now() - s).round());
        }
    }

    /// The Prometheus text exposition (format 0.0.4) of every series.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; an encoder error would leave a partial page.
        if prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry).is_err() {
            out.push_str("# error: encoding the metrics failed\n");
        }
        out
    }

    /// Every series name this module exposes with its type (`counter`, `gauge`), as the
    /// exposition's `# TYPE` lines give them (counters with their `_total`): read from the
    /// rendering of a registry with one series set in every family (the encoder leaves a family
    /// without series out).
    pub fn names() -> Vec<(String, String)> {
        let m = Metrics::new();
        m.set_target("t", "p", TargetTotals::default());
        m.finding("t", "p", "s", None);
        m.set_campaign(0, 0, Duration::ZERO);
        m.set_afl_fuzzer("m", "f", "t", AflFuzzerStats { seconds_since_last_find: Some(0.0), ..Default::default() });
        m.render()
            .lines()
            .filter_map(|l| {
                let mut words = l.strip_prefix("# TYPE ")?.split_whitespace();
                Some((words.next()?.to_string(), words.next()?.to_string()))
            })
            .collect()
    }

/// Serves [`Metrics::render`] on `http://addr/metrics` from a new thread until the returned
    /// handle is dropped. Port 0 picks a free port ([`MetricsServer::addr`] tells which).
    ///
    /// # Errors
    /// The address cannot be bound (in use, not local, no permission), with the address.
    pub fn serve(&self, addr: SocketAddr) -> std::io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr).map_err(|e| std::io::Error::new(e.kind(), format!("metrics: cannot listen on {addr}: {e}")))?;
        let addr = listener.local_addr()?;
        let server = Arc::new(tiny_http::Server::from_listener(listener, None).map_err(|e| std::io::Error::other(format!("metrics: cannot serve on {addr}: {e}")))?);
        let thread = {
            let (server, metrics) = (server.clone(), self.clone());
            std::thread::Builder::new().name("diverge-metrics".into()).spawn(move || {
                for request in server.incoming_requests() {
                    let path = request.url().split('?').next().unwrap_or_default();
                    let response = match (request.method(), path) {
                        (tiny_http::Method::Get, "/metrics") => {
                            let mut r = tiny_http::Response::from_string(metrics.render());
                            if let Ok(h) = tiny_http::Header::from_bytes(&b"Content-Type"[..], CONTENT_TYPE.as_bytes()) {
                                r.add_header(h);
                            }
                            r
                        }
                        (tiny_http::Method::Get, "/") => tiny_http::Response::from_string("diverge: Prometheus metrics on /metrics\n"),
                        _ => tiny_http::Response::from_string("not found: GET /metrics\n").with_status_code(404),
                    };
                    // A client that went away is its own problem.
                    let _ = request.respond(response);
                }
            })?
        };
        Ok(MetricsServer { addr, server, thread: Some(thread) })
    }
}

/// A running metrics endpoint; dropping it stops the server and joins its thread.
pub struct MetricsServer {
    addr: SocketAddr,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MetricsServer {
    /// The address served (the bound port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines().find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
    }

    #[test]
    fn totals_become_series_and_counters_never_go_back() {
        let m = Metrics::new();
        m.set_target("attestation", "minimal", TargetTotals { execs: 100, undecodable: 25, corpus: 7, restarts: 1 });
        m.set_target("attestation", "minimal", TargetTotals { execs: 90, undecodable: 30, corpus: 9, restarts: 1 });
        m.finding("attestation", "minimal", "attestation: fast: valid vs spec: invalid", None);
        m.finding("attestation", "minimal", "attestation: fast: invalid vs spec: valid", None);
        m.finding("block", "minimal", "block: x", Some("H1"));
        let before = unix_now();
        m.set_campaign(2, 3, Duration::from_secs(100));
        m.set_campaign(2, 3, Duration::from_secs(160));
        let t = m.render();
        let l = "{target=\"attestation\",preset=\"minimal\"}";
        assert_eq!(value(&t, &format!("diverge_execs_total{l}")), Some(100.0), "{t}");
        assert_eq!(value(&t, &format!("diverge_undecodable_total{l}")), Some(30.0), "{t}");
        assert_eq!(value(&t, &format!("diverge_corpus_inputs{l}")), Some(9.0), "{t}");
        assert_eq!(value(&t, &format!("diverge_worker_restarts_total{l}")), Some(1.0), "{t}");
        assert_eq!(value(&t, "diverge_worker_idle_restarts_total"), Some(2.0), "{t}");
        assert_eq!(value(&t, "diverge_workers"), Some(3.0), "{t}");
        // The start time is fixed by the first call: 100 s before it.
        let start = value(&t, "diverge_start_time_seconds").unwrap_or(0.0);
        assert!((before - 100.0 - start).abs() < 5.0, "start {start}, expected about {}: {t}", before - 100.0);
        // Two signatures of one target and kind are one series, counted twice.
        assert!(t.contains("diverge_findings_total{target=\"attestation\",preset=\"minimal\",kind=\"new\",hazard=\"\"} 2"), "{t}");
        assert!(t.contains("diverge_findings_total{target=\"block\",preset=\"minimal\",kind=\"known\",hazard=\"H1\"} 1"), "{t}");
        assert!(!t.contains("signature="), "a signature label: {t}");
        assert!(t.contains(&format!("diverge_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"))), "{t}");
    }

    #[test]
    fn names_follow_the_conventions() {
        let names = Metrics::names();
        assert_eq!(names.len(), 13, "one name per registered family: {names:?}");
        for (n, kind) in &names {
            assert_eq!(n.ends_with("_total"), kind == "counter", "{n} ({kind}): counters and only counters end in _total");
            for bad in ["_per_sec", "_ratio", "uptime", "_size", "signature"] {
                assert!(!n.contains(bad), "{n}: {bad} (a precomputed rate, ratio or age, or a count called size)");
            }
        }
        for n in ["diverge_execs_total", "diverge_findings_total", "diverge_start_time_seconds", "diverge_afl_execs_total", "diverge_afl_saved_crashes_total", "diverge_afl_last_find_timestamp_seconds"] {
            assert!(names.iter().any(|(x, _)| x == n), "{n} missing from {names:?}");
        }
    }

    #[test]
    fn afl_fuzzer_series_are_labelled_by_machine_and_fuzzer() {
        let m = Metrics::new();
        let before = unix_now();
        m.set_afl_fuzzer("m1", "main", "attestation", AflFuzzerStats { execs: 5000, execs_per_sec: 812.5, paths: 40, crashes: 2, seconds_since_last_find: Some(30.0) });
        m.set_afl_fuzzer("m1", "main", "attestation", AflFuzzerStats { execs: 4000, execs_per_sec: 1.0, paths: 41, crashes: 1, seconds_since_last_find: None });
        let t = m.render();
        let l = "{machine=\"m1\",fuzzer=\"main\",target=\"attestation\"}";
        assert_eq!(value(&t, &format!("diverge_afl_execs_total{l}")), Some(5000.0), "{t}");
        assert_eq!(value(&t, &format!("diverge_afl_saved_crashes_total{l}")), Some(2.0), "counters never go back: {t}");
        assert_eq!(value(&t, &format!("diverge_afl_corpus_inputs{l}")), Some(41.0), "{t}");
        let found = value(&t, &format!("diverge_afl_last_find_timestamp_seconds{l}")).unwrap_or(0.0);
        assert!((before - 30.0 - found).abs() < 5.0, "last find {found}, expected about {}: {t}", before - 30.0);
        assert!(!t.contains("per_sec"), "{t}");
    }

    #[test]
    fn serves_metrics_over_http_and_404_elsewhere() {
        let m = Metrics::new();
        m.set_target("deposit", "minimal", TargetTotals { execs: 42, ..Default::default() });
        let server = m.serve("127.0.0.1:0".parse().unwrap()).unwrap();
        let get = |path: &str| {
            let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
            write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        };
        let page = get("/metrics");
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(page.contains("text/plain; version=0.0.4"), "{page}");
        assert!(page.contains("diverge_execs_total{target=\"deposit\",preset=\"minimal\"} 42"), "{page}");
        assert!(get("/nope").starts_with("HTTP/1.1 404"));
        // A second server on the same port fails with the address in the error.
        let err = m.serve(server.addr()).err().unwrap();
        assert!(err.to_string().contains(&server.addr().to_string()), "{err}");
    }
}
