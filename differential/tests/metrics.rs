//! Live metrics (issue 14 item 4): `diverge fuzz --metrics ADDR` serves Prometheus text on
//! `/metrics` while the campaign runs. An 8 s campaign on one worker is scraped over plain TCP:
//! executions grow between scrapes (the rate a query takes with `rate()`), the start time is fixed,
//! every series of the built-in loop is there, and the final table counts at least what was
//! scraped. Findings are counted per target, kind and hazard, with no signature label.
//!
//! cargo test --release -p diverge --test metrics

use diverge::metrics::Metrics;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_diverge");
const SERIES: &str = "{target=\"attestation\",preset=\"minimal\"}";

/// `GET /metrics` over a plain TCP connection: (status line, body).
fn scrape(addr: SocketAddr) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut page = String::new();
    s.read_to_string(&mut page).unwrap();
    let (head, body) = page.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no HTTP header end in {page:?}"));
    (head.lines().next().unwrap_or_default().to_string(), body.to_string())
}

/// The value of one series line (`name{labels} value`).
fn value(body: &str, series: &str) -> Option<f64> {
    body.lines().find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

/// Starts `diverge fuzz --target TARGET --duration SECONDS --jobs 1 --metrics 127.0.0.1:0` (port 0:
/// the OS picks a free port; diverge prints the address it serves). Returns the process, the
/// address, what stderr said so far and a thread draining the rest (so the campaign never blocks
/// on a full pipe).
fn start(target: &str, seconds: &str, findings: &std::path::Path) -> (std::process::Child, SocketAddr, String, std::thread::JoinHandle<String>) {
    let mut child = Command::new(BIN)
        .args(["fuzz", "--target", target, "--duration", seconds, "--jobs", "1", "--metrics", "127.0.0.1:0", "--findings"])
        .arg(findings)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut log = String::new();
    let addr: SocketAddr = loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "diverge exited without serving metrics:\n{log}");
        log.push_str(&line);
        if let Some(rest) = line.trim().strip_prefix("fuzz: metrics on http://") {
            break rest.trim_end_matches("/metrics").parse().unwrap();
        }
    };
    let drain = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        rest
    });
    (child, addr, log, drain)
}

#[test]
fn fuzz_serves_live_metrics() {
    let findings = tempfile::tempdir().unwrap();
    let (mut child, addr, mut log, drain) = start("attestation", "8s", findings.path());
    let started = Instant::now();

    // Executions show up within the first seconds, then grow.
    let execs = |body: &str| value(body, &format!("diverge_execs_total{SERIES}")).unwrap_or(0.0);
    let (status, first) = loop {
        let (status, body) = scrape(addr);
        if execs(&body) > 0.0 || started.elapsed() > Duration::from_secs(5) {
            break (status, body);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert!(execs(&first) > 0.0, "no executions scraped after {:?}:\n{first}", started.elapsed());

    // Seconds later the counters have grown (a positive rate()), the start time has not moved.
    let start_of = |body: &str| value(body, "diverge_start_time_seconds").unwrap_or(0.0);
    std::thread::sleep(Duration::from_secs(6).saturating_sub(started.elapsed()));
    let (_, later) = scrape(addr);
    println!("scrape at {:.1}s:\n{later}", started.elapsed().as_secs_f64());
    assert!(execs(&later) > execs(&first), "executions did not grow: {} then {}", execs(&first), execs(&later));
    assert!(value(&later, &format!("diverge_corpus_inputs{SERIES}")).unwrap_or(0.0) > 0.0, "{later}");
    assert_eq!(value(&later, "diverge_workers"), Some(1.0), "{later}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let age = now - start_of(&later);
    assert!((5.0..60.0).contains(&age), "campaign started {age:.1}s ago by diverge_start_time_seconds:\n{later}");
    assert!((start_of(&later) - start_of(&first)).abs() < 1e-6, "the start time moved: {} then {}", start_of(&first), start_of(&later));
    for gone in ["_per_sec", "_ratio", "uptime", "corpus_size"] {
        assert!(!later.contains(gone), "{gone} is still exported:\n{later}");
    }
    // Every series of the built-in loop is there, except findings (none in this build: a family
    // without series is left out) and the farm's.
    for (name, kind) in Metrics::names() {
        if name == "diverge_findings_total" || name.starts_with("diverge_afl_") {
            continue;
        }
        assert!(later.contains(&format!("# TYPE {name} {kind}\n")), "{name} ({kind}) missing:\n{later}");
    }

    let status = child.wait().unwrap();
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    log.push_str(&drain.join().unwrap());
    assert_eq!(status.code(), Some(0), "stdout:\n{out}\nstderr:\n{log}");
    // The final table counts at least what was scraped.
    let row = out.lines().find(|l| l.starts_with("attestation ")).unwrap_or_else(|| panic!("no attestation row:\n{out}"));
    let total: f64 = row.split_whitespace().nth(2).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no execs in {row:?}"));
    assert!(total >= execs(&later), "final {total} < scraped {}", execs(&later));
    // The server went away with the campaign.
    assert!(TcpStream::connect(addr).is_err(), "metrics still served after the campaign");
}

/// The shipped dkg_packet seeds hold both known drand hazards (the seed pass runs them first):
/// each is counted once, labelled known with its hazard (a bounded label; the signature is not
/// one), and its finding is on disk by the time it is counted.
#[test]
fn findings_are_counted_by_kind_with_known_hazards_labelled() {
    let findings = tempfile::tempdir().unwrap();
    let (mut child, addr, _log, drain) = start("dkg_packet", "6s", findings.path());
    let started = Instant::now();
    let line = |hazard: &str| {
        format!("diverge_findings_total{{target=\"dkg_packet\",preset=\"minimal\",kind=\"known\",hazard=\"{hazard}\"}} 1")
    };
    let body = loop {
        let (_, body) = scrape(addr);
        if (body.contains(&line("Deadlock")) && body.contains(&line("NilDereference"))) || started.elapsed() > Duration::from_secs(4) {
            break body;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(body.contains(&line("Deadlock")), "{}\nnot in:\n{body}", line("Deadlock"));
    assert!(body.contains(&line("NilDereference")), "{}\nnot in:\n{body}", line("NilDereference"));
    assert!(!body.contains("kind=\"new\""), "a dkg_packet finding that is not a known hazard:\n{body}");
    assert!(!body.contains("signature="), "a signature label:\n{body}");
    let on_disk = walk(findings.path()).into_iter().filter(|p| p.ends_with("finding.json")).count();
    assert!(on_disk >= 2, "{on_disk} finding.json on disk for 2 counted findings");
    let status = child.wait().unwrap();
    let log = drain.join().unwrap();
    // Known hazards are not failures: exit 0.
    assert_eq!(status.code(), Some(0), "{log}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
