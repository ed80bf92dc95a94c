//! Live Prometheus metrics of a campaign (`diverge fuzz --metrics ADDR`): a registry of the
//! `prometheus-client` crate, updated by the supervisor with plain totals, and served as Prometheus
//! text (format 0.0.4) on `http://ADDR/metrics` by a `tiny_http` server on a thread of the
//! supervisor process. `ci/monitoring/diverge-dashboard.json` is the Grafana dashboard over them;
//! `diverge metric-names` prints the series names this module exposes (what
//! `ci/monitoring/check-dashboard.sh` checks the dashboard's queries against).
//!
//! # Series of the built-in loop (`diverge fuzz`)
//! Labels `target` (a target name, `diverge list`) and `preset` (`minimal`, `mainnet`) unless said:
//! - `diverge_execs_total` (counter): executions, all workers together.
//! - `diverge_execs_per_sec` (gauge): executions per second over the last interval of at least
//!   [`RATE_INTERVAL`] (0 until one has passed).
//! - `diverge_corpus_size` (gauge): corpus entries (seeds plus behaviour-new inputs).
//! - `diverge_undecodable_total` (counter): executions whose input did not decode.
//! - `diverge_undecodable_ratio` (gauge, 0..1): `undecodable / execs` since the campaign started.
//! - `diverge_findings_total` (counter; labels `target`, `preset`, `signature`, `kind` = `new` or
//!   `known`, `hazard` = the known upstream hazard's name or empty): findings reported, once per
//!   signature per campaign (after the finding is on disk).
//! - `diverge_worker_restarts_total` (counter): worker processes restarted after an input of the
//!   target crashed, hung or passed the memory limit.
//! - `diverge_worker_idle_restarts_total` (counter, no label): restarts after a worker died
//!   outside any input.
//! - `diverge_workers` (gauge, no label): worker processes running.
//! - `diverge_uptime_seconds` (gauge, no label): seconds since the campaign started.
//!
//! # Series reserved for the AFL++ farm (`diverge farm afl`)
//! Labels `machine` (the farm's `--name`), `fuzzer` (the AFL++ instance's `-M`/`-S` name; not
//! `instance`, which Prometheus itself sets to the scraped address) and `target`; the values are
//! those of the instance's `fuzzer_stats`, set through [`Metrics::set_afl_fuzzer`]:
//! - `diverge_afl_execs_total` (counter): `execs_done`.
//! - `diverge_afl_execs_per_sec` (gauge): `execs_per_sec`.
//! - `diverge_afl_paths` (gauge): `corpus_count` (queue entries).
//! - `diverge_afl_crashes` (gauge): `saved_crashes` (unique crashes AFL++ kept).
//! - `diverge_afl_seconds_since_last_find` (gauge): now minus `last_find`.
//!
//! Findings the farm turns AFL++ crashes into go to `diverge_findings_total` like the loop's.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Shortest interval `diverge_execs_per_sec` is measured over.
pub const RATE_INTERVAL: Duration = Duration::from_secs(5);

/// The `Content-Type` of `/metrics`: Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

type FloatGauge = Gauge<f64, AtomicU64>;

/// Labels of a target's series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabels {
    target: String,
    preset: String,
}

/// Labels of `diverge_findings_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FindingLabels {
    target: String,
    preset: String,
    signature: String,
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

/// One AFL++ instance's figures, read from its `fuzzer_stats` (reserved for `diverge farm afl`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AflFuzzerStats {
    /// `execs_done`.
    pub execs: u64,
    /// `execs_per_sec`.
    pub execs_per_sec: f64,
    /// `corpus_count`.
    pub paths: u64,
    /// `saved_crashes`.
    pub crashes: u64,
    /// Seconds since `last_find` (`None`: nothing found yet; the series is then not set).
    pub seconds_since_last_find: Option<f64>,
}

/// The registry and every metric family of a campaign. Cheap to clone (the families are shared);
/// every method takes `&self` and may be called from any thread.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    execs: Family<TargetLabels, Counter>,
    execs_per_sec: Family<TargetLabels, FloatGauge>,
    corpus: Family<TargetLabels, Gauge>,
    undecodable: Family<TargetLabels, Counter>,
    undecodable_ratio: Family<TargetLabels, FloatGauge>,
    findings: Family<FindingLabels, Counter>,
    restarts: Family<TargetLabels, Counter>,
    idle_restarts: Counter,
    workers: Gauge,
    uptime: FloatGauge,
    afl_execs: Family<FuzzerLabels, Counter>,
    afl_execs_per_sec: Family<FuzzerLabels, FloatGauge>,
    afl_paths: Family<FuzzerLabels, Gauge>,
    afl_crashes: Family<FuzzerLabels, Gauge>,
    afl_last_find: Family<FuzzerLabels, FloatGauge>,
    /// Per target: when `diverge_execs_per_sec` was last measured, and the executions then.
    rate_marks: Arc<Mutex<HashMap<TargetLabels, (Instant, u64)>>>,
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

impl Metrics {
    /// Every family registered, no series yet (a family without series shows only its
    /// `# HELP`/`# TYPE` lines).
    pub fn new() -> Self {
        let mut r = Registry::default();
        let m = Metrics {
            execs: Family::default(),
            execs_per_sec: Family::default(),
            corpus: Family::default(),
            undecodable: Family::default(),
            undecodable_ratio: Family::default(),
            findings: Family::default(),
            restarts: Family::default(),
            idle_restarts: Counter::default(),
            workers: Gauge::default(),
            uptime: FloatGauge::default(),
            afl_execs: Family::default(),
            afl_execs_per_sec: Family::default(),
            afl_paths: Family::default(),
            afl_crashes: Family::default(),
            afl_last_find: Family::default(),
            rate_marks: Arc::default(),
            registry: Arc::new(Registry::default()),
        };
        // Counters are registered without `_total`: the encoder appends it.
        r.register("diverge_execs", "Executions of the target, all workers together", m.execs.clone());
        r.register("diverge_execs_per_sec", "Executions per second of the target over the last interval (at least 5 s)", m.execs_per_sec.clone());
        r.register("diverge_corpus_size", "Corpus entries of the target (seeds plus behaviour-new inputs)", m.corpus.clone());
        r.register("diverge_undecodable", "Executions whose input did not decode", m.undecodable.clone());
        r.register("diverge_undecodable_ratio", "Share of the target's executions whose input did not decode, since the start", m.undecodable_ratio.clone());
        r.register("diverge_findings", "Findings reported (on disk), once per signature per campaign; kind new or known (a known upstream hazard, named by hazard)", m.findings.clone());
        r.register("diverge_worker_restarts", "Worker processes restarted after an input of the target crashed, hung or passed the memory limit", m.restarts.clone());
        r.register("diverge_worker_idle_restarts", "Worker processes restarted after dying outside any input", m.idle_restarts.clone());
        r.register("diverge_workers", "Worker processes running", m.workers.clone());
        r.register("diverge_uptime_seconds", "Seconds since the campaign started", m.uptime.clone());
        r.register("diverge_afl_execs", "AFL++ instance executions (fuzzer_stats execs_done)", m.afl_execs.clone());
        r.register("diverge_afl_execs_per_sec", "AFL++ instance executions per second (fuzzer_stats execs_per_sec)", m.afl_execs_per_sec.clone());
        r.register("diverge_afl_paths", "AFL++ instance queue entries (fuzzer_stats corpus_count)", m.afl_paths.clone());
        r.register("diverge_afl_crashes", "AFL++ instance saved crashes (fuzzer_stats saved_crashes)", m.afl_crashes.clone());
        r.register("diverge_afl_seconds_since_last_find", "Seconds since the AFL++ instance last found a new path (fuzzer_stats last_find)", m.afl_last_find.clone());
        Metrics { registry: Arc::new(r), ..m }
    }

    /// Sets one target's series from its totals; measures `diverge_execs_per_sec` when at least
    /// [`RATE_INTERVAL`] has passed since the last measurement of the target.
    pub fn set_target(&self, target: &str, preset: &str, totals: TargetTotals) {
        let labels = TargetLabels { target: target.to_string(), preset: preset.to_string() };
        raise(&self.execs.get_or_create(&labels), totals.execs);
        raise(&self.undecodable.get_or_create(&labels), totals.undecodable);
        raise(&self.restarts.get_or_create(&labels), totals.restarts);
        gauge_count(&self.corpus.get_or_create(&labels), totals.corpus);
        self.undecodable_ratio.get_or_create(&labels).set(if totals.execs == 0 { 0.0 } else { totals.undecodable as f64 / totals.execs as f64 });
        let now = Instant::now();
        let mut marks = self.rate_marks.lock().unwrap_or_else(|e| e.into_inner());
        match marks.get(&labels).copied() {
            None => {
                self.execs_per_sec.get_or_create(&labels).set(0.0);
                marks.insert(labels, (now, totals.execs));
            }
            Some((then, execs)) if now.duration_since(then) >= RATE_INTERVAL => {
                let rate = totals.execs.saturating_sub(execs) as f64 / now.duration_since(then).as_secs_f64();
                self.execs_per_sec.get_or_create(&labels).set(rate);
                marks.insert(labels, (now, totals.execs));
            }
            Some(_) => {}
        }
    }

    /// Counts one finding of `target` (call once per signature, after it is on disk). `known`:
    /// the known upstream hazard's name when it is one.
    pub fn finding(&self, target: &str, preset: &str, signature: &str, known: Option<&str>) {
        let labels = FindingLabels {
            target: target.to_string(),
            preset: preset.to_string(),
            signature: signature.to_string(),
            kind: if known.is_some() { "known" } else { "new" }.to_string(),
            hazard: known.unwrap_or_default().to_string(),
        };
        self.findings.get_or_create(&labels).inc();
    }

    /// Sets the campaign-wide series: restarts outside any input, workers running, uptime.
    pub fn set_campaign(&self, idle_restarts: u64, workers: u64, uptime: Duration) {
        raise(&self.idle_restarts, idle_restarts);
        gauge_count(&self.workers, workers);
        self.uptime.set(uptime.as_secs_f64());
    }

    /// Sets one AFL++ instance's series (reserved for `diverge farm afl`): `machine` is the farm
    /// machine's name, `fuzzer` the instance's `-M`/`-S` name.
    pub fn set_afl_fuzzer(&self, machine: &str, fuzzer: &str, target: &str, stats: AflFuzzerStats) {
        let labels = FuzzerLabels { machine: machine.to_string(), fuzzer: fuzzer.to_string(), target: target.to_string() };
        raise(&self.afl_execs.get_or_create(&labels), stats.execs);
        self.afl_execs_per_sec.get_or_create(&labels).set(stats.execs_per_sec);
        gauge_count(&self.afl_paths.get_or_create(&labels), stats.paths);
        gauge_count(&self.afl_crashes.get_or_create(&labels), stats.crashes);
        if let Some(s) = stats.seconds_since_last_find {
            self.afl_last_find.get_or_create(&labels).set(s);
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
        m.finding("block", "minimal", "block: x", Some("H1"));
        m.set_campaign(2, 3, Duration::from_millis(1500));
        let t = m.render();
        let l = "{target=\"attestation\",preset=\"minimal\"}";
        assert_eq!(value(&t, &format!("diverge_execs_total{l}")), Some(100.0), "{t}");
        assert_eq!(value(&t, &format!("diverge_undecodable_total{l}")), Some(30.0), "{t}");
        assert_eq!(value(&t, &format!("diverge_corpus_size{l}")), Some(9.0), "{t}");
        assert_eq!(value(&t, &format!("diverge_undecodable_ratio{l}")), Some(30.0 / 90.0), "{t}");
        assert_eq!(value(&t, &format!("diverge_worker_restarts_total{l}")), Some(1.0), "{t}");
        assert_eq!(value(&t, "diverge_worker_idle_restarts_total"), Some(2.0), "{t}");
        assert_eq!(value(&t, "diverge_workers"), Some(3.0), "{t}");
        assert_eq!(value(&t, "diverge_uptime_seconds"), Some(1.5), "{t}");
        assert!(t.contains("diverge_findings_total{target=\"attestation\",preset=\"minimal\",signature=\"attestation: fast: valid vs spec: invalid\",kind=\"new\",hazard=\"\"} 1"), "{t}");
        assert!(t.contains("kind=\"known\",hazard=\"H1\"} 1"), "{t}");
    }

    #[test]
    fn names_cover_the_loop_and_the_farm() {
        let names: Vec<String> = Metrics::names().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), 15, "one name per registered family: {names:?}");
        for n in ["diverge_execs_total", "diverge_execs_per_sec", "diverge_findings_total", "diverge_uptime_seconds", "diverge_afl_execs_per_sec", "diverge_afl_paths", "diverge_afl_crashes"] {
            assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
        }
    }

    #[test]
    fn afl_fuzzer_series_are_labelled_by_machine_and_fuzzer() {
        let m = Metrics::new();
        m.set_afl_fuzzer("m1", "main", "attestation", AflFuzzerStats { execs: 5000, execs_per_sec: 812.5, paths: 40, crashes: 2, seconds_since_last_find: Some(3.0) });
        let t = m.render();
        let l = "{machine=\"m1\",fuzzer=\"main\",target=\"attestation\"}";
        assert_eq!(value(&t, &format!("diverge_afl_execs_per_sec{l}")), Some(812.5), "{t}");
        assert_eq!(value(&t, &format!("diverge_afl_crashes{l}")), Some(2.0), "{t}");
        assert_eq!(value(&t, &format!("diverge_afl_paths{l}")), Some(40.0), "{t}");
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
