//! One supervised exec worker for `diverge run` and `diverge replay`: inputs go to a worker
//! process one at a time; when it dies on one (or passes the timeout or the memory limit), that
//! input's verdict is the death (`crash: signal 6 (SIGABRT)`, `timeout`, `rss-limit`), its finding
//! is written if asked, and the next input gets a fresh worker.

use anyhow::{bail, Context, Result};
use diverge::supervisor::{Death, DeathRecorder, ExecRequest, ExecResult, Limits, Poll, Slot, Worker, WorkerSpec};
use diverge::target::Target;
use std::path::PathBuf;

/// What became of one input.
pub enum Answer {
    /// The worker answered.
    Ran(Box<ExecResult>),
    /// The worker died on it; the finding, when recorded.
    Died(Death, Option<(PathBuf, bool)>),
}

pub struct Isolated {
    exe: PathBuf,
    spec: WorkerSpec,
    limits: Limits,
    recorder: DeathRecorder,
    dir: PathBuf,
    worker: Option<Worker>,
    /// Workers restarted after a death.
    pub restarts: u64,
}

impl Isolated {
    pub fn new(spec: WorkerSpec, limits: Limits, recorder: DeathRecorder) -> Result<Isolated> {
        let exe = std::env::current_exe().context("locating the diverge binary for its worker")?;
        let dir = diverge::supervisor::slot_dir().context("creating the worker slot directory")?;
        let spec = WorkerSpec { slot: dir.join("worker-0.slot"), ..spec };
        Ok(Isolated { exe, spec, limits, recorder, dir, worker: None, restarts: 0 })
    }

    fn worker(&mut self) -> Result<&mut Worker> {
        if self.worker.is_none() {
            let slot = std::sync::Arc::new(Slot::create(&self.spec.slot).with_context(|| format!("creating {}", self.spec.slot.display()))?);
            self.worker = Some(Worker::spawn(&self.exe, &self.spec, slot).context("starting a worker process")?);
        }
        self.worker.as_mut().context("no worker")
    }

    /// Runs `data` of `target` in the worker; with `record`, divergences and deaths are written
    /// as findings (before this returns).
    pub fn exec(&mut self, target: Target, data: &[u8], record: bool) -> Result<Answer> {
        let request = ExecRequest { target: target.name().to_string(), input: hex::encode(data), record };
        let line = serde_json::to_string(&request)?;
        let limits = self.limits;
        let worker = self.worker()?;
        // A failed send means the worker is dead: the poll below says how.
        let _ = worker.send(&line);
        loop {
            if let Some(answer) = worker.line(diverge::supervisor::POLL) {
                return Ok(Answer::Ran(serde_json::from_str(&answer).with_context(|| format!("worker answer {answer:?}"))?));
            }
            let mut output = Vec::new();
            match worker.poll(&limits, &mut output)? {
                Poll::Running => {}
                Poll::Died(death) => {
                    self.worker = None;
                    self.restarts += 1;
                    let written = if record { Some(self.recorder.record(&death).context("writing the finding of a dead worker")?) } else { None };
                    return Ok(Answer::Died(death, written));
                }
                Poll::Finished => bail!("the worker exited before answering"),
                Poll::Failed(m) => bail!("{m} (its error is above)"),
                Poll::DiedIdle(m) => bail!("the worker died before running the input: {m}"),
            }
        }
    }

    /// The recorder (for the pool state of a death).
    pub fn recorder(&self) -> &DeathRecorder {
        &self.recorder
    }
}

impl Drop for Isolated {
    fn drop(&mut self) {
        if let Some(mut w) = self.worker.take() {
            w.close_stdin();
            // Let it exit on end of input; Worker's drop kills it otherwise.
            for _ in 0..40 {
                let mut out = Vec::new();
                match w.poll(&self.limits, &mut out) {
                    Ok(Poll::Running) => std::thread::sleep(std::time::Duration::from_millis(25)),
                    _ => break,
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
