//! The process voter (architecture.md §3.1): an [`ExternalVoter`] whose implementation runs in a
//! persistent worker process (Node for Lodestar, Python for the executable spec, or any program),
//! spoken to over its stdin and stdout.
//!
//! # Protocol
//! Every message is a frame: a 4-byte little-endian length, then that many bytes of one JSON
//! object. The worker speaks first.
//!
//! | direction | message | answer |
//! |---|---|---|
//! | worker → runner | `{"hello": {"name": "...", "version": "..."}}` | — |
//! | runner → worker | `{"load_pool": {"preset": "minimal", "dir": "/abs/pool", "states": [{"id": 0, "file": "x.ssz_snappy", "root": "0x.."}]}}` | `{"ok": true}` or `{"error": "..."}` |
//! | runner → worker | `{"run": {"target": "attestation", "state": 3, "input": "<hex>", "bls": "assume-valid"}}` | a vote |
//! | runner → worker | `{"post_state": {}}` | `{"post_state": "<hex SSZ>"}` or `{"error": "..."}` |
//!
//! A vote is `{"valid": {"root": "0x.."}}`, `{"invalid": {"reason": "AttestationTooLate" | null,
//! "message": "..."}}`, `{"crash": "..."}` (the worker caught an error that is not a rejection) or
//! `{"abstain": "..."}`. `input` is the whole fuzz input (selector included); `state` is the id the
//! selector picked (`selector % pool size`).
//!
//! # Failures
//! - The worker cannot be started, or says no hello, or cannot load the pool: the voter is
//!   unavailable and abstains on every input with the reason and the command that failed (it tries
//!   again after [`RETRY_UNAVAILABLE`] inputs).
//! - The worker dies mid-input (closed stdout, killed): the verdict is `crash` with its exit status
//!   and its last stderr line; the next input starts a new worker.
//! - No answer within the time limit: the worker is killed, the verdict is `timeout`, the next input
//!   starts a new worker.

use diverge_oracle::pool::Manifest;
use diverge_oracle::target::Target;
use diverge_oracle::voter::{ExternalVoter, Vote};
use diverge_types::{BlsMode, Preset, Reject, Root};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The largest frame accepted from a worker (a mainnet post-state in hex is about 20 MB).
pub const MAX_FRAME: usize = 256 << 20;

/// After this many abstentions for unavailability, the voter tries to start its worker again.
pub const RETRY_UNAVAILABLE: u64 = 10_000;

/// How long a worker may take to say hello and load the pool (the mainnet pool takes Lodestar
/// minutes: state creation dominates, `../shared/design/voters.md`).
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(600);

/// What starts one process voter.
#[derive(Clone, Debug)]
pub struct ProcessVoterSpec {
    /// The voter's name in verdicts and signatures.
    pub name: String,
    /// The program and its arguments.
    pub command: Vec<String>,
    /// Per-input time limit.
    pub timeout: Duration,
    /// Preset of the pool it loads.
    pub preset: Preset,
    /// The pool directory (made absolute before it is sent).
    pub pool_dir: PathBuf,
    /// The pool's manifest (sent with `load_pool`).
    pub manifest: Manifest,
    /// What to tell the user when the worker cannot start (e.g. "run scripts/setup-voters.sh").
    pub hint: String,
}

impl ProcessVoterSpec {
    /// Parses `NAME=PROGRAM [ARG...]` (arguments split on white space), as `--process-voter` takes it.
    ///
    /// # Errors
    /// No `=`, an empty name or an empty command.
    pub fn parse_command(text: &str) -> Result<(String, Vec<String>), String> {
        let (name, command) = text.split_once('=').ok_or_else(|| format!("{text:?}: expected NAME=PROGRAM [ARG...]"))?;
        let command: Vec<String> = command.split_whitespace().map(str::to_string).collect();
        if name.trim().is_empty() || command.is_empty() {
            return Err(format!("{text:?}: expected NAME=PROGRAM [ARG...]"));
        }
        Ok((name.trim().to_string(), command))
    }
}

struct Live {
    child: Child,
    stdin: ChildStdin,
    frames: Receiver<Result<Vec<u8>, String>>,
    last_stderr: Arc<Mutex<String>>,
}

impl Live {
    fn send(&mut self, message: &Value) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(message).map_err(std::io::Error::other)?;
        let len = u32::try_from(bytes.len()).map_err(std::io::Error::other)?;
        self.stdin.write_all(&len.to_le_bytes())?;
        self.stdin.write_all(&bytes)?;
        self.stdin.flush()
    }

    fn last_stderr(&self) -> String {
        self.last_stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The next frame as JSON, within `limit`.
    fn receive(&mut self, limit: Duration) -> Result<Value, Failure> {
        match self.frames.recv_timeout(limit) {
            Ok(Ok(bytes)) => serde_json::from_slice(&bytes).map_err(|e| Failure::Protocol(format!("not JSON: {e}"))),
            Ok(Err(e)) => Err(Failure::Died(e)),
            Err(RecvTimeoutError::Disconnected) => Err(Failure::Died("stdout closed".into())),
            Err(RecvTimeoutError::Timeout) => Err(Failure::Timeout),
        }
    }

    fn kill(mut self) -> String {
        let _ = self.child.kill();
        match self.child.wait() {
            Ok(status) => status.to_string(),
            Err(e) => format!("wait failed: {e}"),
        }
    }
}

enum Failure {
    Died(String),
    Timeout,
    Protocol(String),
}

/// A voter in a persistent worker process ([the module docs](self)).
pub struct ProcessVoter {
    spec: ProcessVoterSpec,
    name: &'static str,
    version: OnceLock<&'static str>,
    live: Mutex<Option<Live>>,
    unavailable: Mutex<Option<(String, u64)>>,
    /// Workers started after the first (deaths and timeouts).
    restarts: AtomicU64,
}

impl ProcessVoter {
    /// A voter that starts its worker at the first input.
    pub fn new(spec: ProcessVoterSpec) -> Self {
        // One name per voter per process: leaked once, so verdicts can carry `&'static str`.
        let name: &'static str = Box::leak(spec.name.clone().into_boxed_str());
        ProcessVoter { spec, name, version: OnceLock::new(), live: Mutex::new(None), unavailable: Mutex::new(None), restarts: AtomicU64::new(0) }
    }

    /// How many times a worker was started again after a death or a timeout.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// Starts the worker and waits for hello and the pool. `Err` is why it is unavailable.
    fn start(&self) -> Result<Live, String> {
        let program = self.spec.command.first().ok_or("empty command")?;
        let shown = self.spec.command.join(" ");
        let mut child = Command::new(program)
            .args(self.spec.command.get(1..).unwrap_or_default())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("`{shown}` does not start: {e}"))?;
        let (Some(stdin), Some(mut stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take()) else {
            let _ = child.kill();
            return Err(format!("`{shown}`: no pipes"));
        };
        let (tx, frames) = mpsc::channel();
        std::thread::spawn(move || loop {
            let mut len = [0u8; 4];
            let frame = stdout.read_exact(&mut len).map_err(|e| format!("stdout: {e}")).and_then(|()| {
                let n = usize::try_from(u32::from_le_bytes(len)).unwrap_or(usize::MAX);
                if n > MAX_FRAME {
                    return Err(format!("frame of {n} bytes (at most {MAX_FRAME})"));
                }
                let mut body = vec![0u8; n];
                stdout.read_exact(&mut body).map(|()| body).map_err(|e| format!("stdout: {e}"))
            });
            let failed = frame.is_err();
            if tx.send(frame).is_err() || failed {
                return;
            }
        });
        let last_stderr = Arc::new(Mutex::new(String::new()));
        {
            let last = last_stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if !line.trim().is_empty() {
                        if let Ok(mut l) = last.lock() {
                            *l = line;
                        }
                    }
                }
            });
        }
        let mut live = Live { child, stdin, frames, last_stderr };
        let fail = |live: Live, what: String| {
            let stderr = live.last_stderr();
            let status = live.kill();
            format!("`{shown}` {what} ({status}; last stderr line: {stderr:?})")
        };
        let hello = match live.receive(SETUP_TIMEOUT) {
            Ok(v) => v,
            Err(f) => return Err(fail(live, format!("said no hello: {}", describe(&f)))),
        };
        let Some(version) = hello.pointer("/hello/version").and_then(Value::as_str) else {
            return Err(fail(live, format!("sent {hello} instead of hello")));
        };
        let version: &'static str = self.version.get_or_init(|| Box::leak(version.to_string().into_boxed_str()));
        let _ = version;
        let dir = std::fs::canonicalize(&self.spec.pool_dir).unwrap_or_else(|_| self.spec.pool_dir.clone());
        let states: Vec<Value> = self.spec.manifest.states.iter().map(|e| json!({"id": e.id, "file": e.file, "root": e.root})).collect();
        let load = json!({"load_pool": {"preset": self.spec.preset.name(), "dir": dir.display().to_string(), "states": states}});
        if let Err(e) = live.send(&load) {
            return Err(fail(live, format!("did not take load_pool: {e}")));
        }
        match live.receive(SETUP_TIMEOUT) {
            Ok(v) if v.get("ok").and_then(Value::as_bool) == Some(true) => Ok(live),
            Ok(v) => Err(fail(live, format!("could not load the pool: {}", v.get("error").map(Value::to_string).unwrap_or_else(|| v.to_string())))),
            Err(f) => Err(fail(live, format!("did not load the pool: {}", describe(&f)))),
        }
    }

    /// The running worker, started if needed; `Err` is the abstention.
    fn ensure<'a>(&self, slot: &'a mut Option<Live>) -> Result<&'a mut Live, String> {
        if slot.is_none() {
            if let Ok(mut u) = self.unavailable.lock() {
                if let Some((why, skipped)) = u.as_mut() {
                    *skipped = skipped.saturating_add(1);
                    if *skipped < RETRY_UNAVAILABLE {
                        return Err(why.clone());
                    }
                }
            }
            match self.start() {
                Ok(live) => {
                    if let Ok(mut u) = self.unavailable.lock() {
                        *u = None;
                    }
                    *slot = Some(live);
                }
                Err(why) => {
                    let why = format!("{} unavailable: {why}{}", self.name, if self.spec.hint.is_empty() { String::new() } else { format!("; {}", self.spec.hint) });
                    if let Ok(mut u) = self.unavailable.lock() {
                        *u = Some((why.clone(), 0));
                    }
                    return Err(why);
                }
            }
        }
        slot.as_mut().ok_or_else(|| "no worker".to_string())
    }

    fn parse_vote(v: &Value) -> Vote {
        if let Some(root) = v.pointer("/valid/root").and_then(Value::as_str) {
            return match parse_root(root) {
                Some(root) => Vote::Valid { root },
                None => Vote::Crash(format!("protocol: valid with a malformed root {root:?}")),
            };
        }
        if let Some(inv) = v.get("invalid") {
            let message = inv.get("message").and_then(Value::as_str).unwrap_or_default().to_string();
            let reason = inv.get("reason").and_then(Value::as_str);
            return match reason.map(|r| (r, Reject::from_name(r))) {
                Some((_, Some(r))) => Vote::Invalid { reason: Some(r), message },
                Some((name, None)) => Vote::Crash(format!("protocol: unknown reason {name:?}")),
                None => Vote::Invalid { reason: None, message },
            };
        }
        if let Some(m) = v.get("crash") {
            return Vote::Crash(m.as_str().map(str::to_string).unwrap_or_else(|| m.to_string()));
        }
        if let Some(m) = v.get("abstain") {
            return Vote::Abstain(m.as_str().map(str::to_string).unwrap_or_else(|| m.to_string()));
        }
        Vote::Crash(format!("protocol: not a vote: {v}"))
    }
}

fn describe(f: &Failure) -> String {
    match f {
        Failure::Died(e) => format!("died ({e})"),
        Failure::Timeout => "timed out".into(),
        Failure::Protocol(e) => format!("protocol error ({e})"),
    }
}

fn parse_root(text: &str) -> Option<Root> {
    let bytes = hex::decode(text.strip_prefix("0x").unwrap_or(text)).ok()?;
    (bytes.len() == 32).then(|| Root::from_slice(&bytes))
}

impl ExternalVoter for ProcessVoter {
    fn name(&self) -> &'static str {
        self.name
    }

    fn version(&self) -> &'static str {
        self.version.get().copied().unwrap_or("unknown")
    }

    fn vote(&self, target: Target, state_id: usize, data: &[u8], bls: BlsMode) -> Vote {
        let Ok(mut slot) = self.live.lock() else { return Vote::Crash("voter lock poisoned".into()) };
        let live = match self.ensure(&mut slot) {
            Ok(live) => live,
            Err(why) => return Vote::Abstain(why),
        };
        let run = json!({"run": {"target": target.name(), "state": state_id, "input": hex::encode(data), "bls": bls.name()}});
        let answer = live.send(&run).map_err(|e| Failure::Died(format!("stdin: {e}"))).and_then(|()| live.receive(self.spec.timeout));
        match answer {
            Ok(v) => Self::parse_vote(&v),
            Err(failure) => {
                let Some(live) = slot.take() else { return Vote::Crash("no worker".into()) };
                self.restarts.fetch_add(1, Ordering::Relaxed);
                match failure {
                    Failure::Timeout => {
                        live.kill();
                        Vote::Timeout
                    }
                    other => {
                        // Give a dying worker a moment to flush its last stderr line.
                        std::thread::sleep(Duration::from_millis(50));
                        let stderr = live.last_stderr();
                        let status = live.kill();
                        Vote::Crash(format!("{} worker {} mid-input ({status}); last stderr line: {stderr}", self.name, describe(&other)))
                    }
                }
            }
        }
    }

    fn post_state(&self) -> Option<Vec<u8>> {
        let mut slot = self.live.lock().ok()?;
        let live = slot.as_mut()?;
        live.send(&json!({"post_state": {}})).ok()?;
        let v = live.receive(self.spec.timeout).ok()?;
        hex::decode(v.get("post_state")?.as_str()?).ok()
    }
}

impl Drop for ProcessVoter {
    fn drop(&mut self) {
        if let Some(live) = self.live.get_mut().ok().and_then(Option::take) {
            live.kill();
        }
    }
}
