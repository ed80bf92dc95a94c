//! Corpus sync of the built-in loop (`diverge fuzz --sync-dir DIR`, issue 14 item 3;
//! architecture.md §10), in AFL++'s sync layout so `diverge fuzz` processes on any number of
//! machines and AFL++ instances (`diverge farm afl`, which runs `afl-fuzz -o DIR/<target>`) share
//! one corpus per target:
//!
//! - export: every input that reaches a new behaviour in a worker is written at once to
//!   `DIR/<target>/<name>-w<k>/queue/id:NNNNNN,op:diverge` (`<name>`: `--sync-name`, one per
//!   process; `k`: the worker). Ids are contiguous from 0 and written by that worker alone, in
//!   order, each through a dot-named file and a rename: what AFL++'s `sync_fuzzers`
//!   (`src/afl-fuzz-run.c`) requires of a peer's queue (it resumes from the next id it expects).
//! - import: every `--sync-interval` (and at start) a worker reads the `id:*` files of every other
//!   `DIR/<target>/<peer>/queue/` (AFL++ instances, other `diverge fuzz` processes and workers,
//!   mirrors of other machines) it has not read yet, and runs each once unmutated: one that reaches
//!   a behaviour new to the worker joins its corpus (as AFL++ keeps an imported input only when it
//!   is interesting). Imported inputs are never exported again.
//!
//! Files are tracked by path (queue entries are never renamed or rewritten), so each is read once
//! per worker incarnation.

use crate::target::Target;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A campaign's sync settings (the worker spec carries them).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncSpec {
    /// The sync directory `DIR` (per target: `DIR/<target>`).
    pub dir: PathBuf,
    /// This process's name: its workers export under `<name>-w<k>`.
    pub name: String,
    /// Time between imports, milliseconds.
    pub interval_ms: u64,
}

impl SyncSpec {
    /// The instance directory name of worker `worker`.
    pub fn instance(&self, worker: usize) -> String {
        format!("{}-w{worker}", self.name)
    }
}

/// A queue file younger than this is left for the next import (AFL++ writes its queue entries in
/// place, not through a rename).
const SETTLE: Duration = Duration::from_secs(1);

fn key(input: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    input.hash(&mut h);
    h.finish()
}

/// One worker's sync state for one target.
pub struct TargetSync {
    root: PathBuf,
    own: String,
    queue: PathBuf,
    next_id: u64,
    /// Inputs exported or imported (hashes): never exported (again).
    known: HashSet<u64>,
    /// Inputs imported (hashes), to count those that join the corpus.
    from_peers: HashSet<u64>,
    /// Files of other queues already read.
    seen: HashSet<PathBuf>,
    /// Entries exported (counting earlier incarnations).
    pub exported: u64,
    /// Entries imported: read from other queues and run (counting earlier incarnations).
    pub imported: u64,
    /// Imported entries that reached a behaviour new to this worker and joined its corpus (this
    /// incarnation).
    pub kept: u64,
}

impl TargetSync {
    /// Opens `dir/<target>/<instance>/queue/`, creating it. An existing queue (a restarted
    /// worker, a reused name) is continued: the next id follows its highest, and its inputs are
    /// not exported again. `exported`/`imported` start at the given counts.
    ///
    /// # Errors
    /// The directory cannot be created or listed (the message names it).
    pub fn open(dir: &Path, target: Target, instance: &str, exported: u64, imported: u64) -> std::io::Result<TargetSync> {
        let root = dir.join(target.name());
        let queue = root.join(instance).join("queue");
        let ctx = |e: std::io::Error| std::io::Error::new(e.kind(), format!("sync queue {}: {e}", queue.display()));
        std::fs::create_dir_all(&queue).map_err(ctx)?;
        let mut s = TargetSync { root, own: instance.to_string(), queue: queue.clone(), next_id: 0, known: HashSet::new(), from_peers: HashSet::new(), seen: HashSet::new(), exported, imported, kept: 0 };
        for e in std::fs::read_dir(&queue).map_err(ctx)?.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(id) = queue_id(&name) {
                s.next_id = s.next_id.max(id + 1);
                if let Ok(bytes) = std::fs::read(e.path()) {
                    s.known.insert(key(&bytes));
                }
            }
        }
        Ok(s)
    }

    /// This worker's queue directory.
    pub fn queue(&self) -> &Path {
        &self.queue
    }

    /// Called with each input that reached a new behaviour: writes it to the queue, unless it was
    /// exported before or came from a peer (then it counts as kept). Returns whether it was
    /// written.
    ///
    /// # Errors
    /// Writing failed.
    pub fn export(&mut self, input: &[u8]) -> std::io::Result<bool> {
        let k = key(input);
        if self.from_peers.remove(&k) {
            // An imported entry that reached a new behaviour here: kept, not exported back.
            self.kept += 1;
            return Ok(false);
        }
        if !self.known.insert(k) {
            return Ok(false);
        }
        let path = self.queue.join(format!("id:{:06},op:diverge", self.next_id));
        crate::farm::write_renamed(&path, input).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        self.next_id += 1;
        self.exported += 1;
        Ok(true)
    }

    /// Reads the queue files of every other instance of the target's sync root not read yet
    /// (skipping dot-directories, files not named `id:*`, files longer than `max_len`, and files
    /// modified less than a second ago, which are read next time). Returns the inputs not known
    /// yet, in instance then file order; they count as imported.
    pub fn import(&mut self, max_len: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let Ok(peers) = std::fs::read_dir(&self.root) else { return out };
        let mut peers: Vec<(String, PathBuf)> = peers.filter_map(Result::ok).map(|e| (e.file_name().to_string_lossy().into_owned(), e.path())).collect();
        peers.sort();
        let now = SystemTime::now();
        for (name, path) in peers {
            if name.starts_with('.') || name == self.own {
                continue;
            }
            let Ok(files) = std::fs::read_dir(path.join("queue")) else { continue };
            let mut files: Vec<PathBuf> = files
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("id:") && e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path())
                .filter(|p| !self.seen.contains(p))
                .collect();
            files.sort();
            for f in files {
                let Ok(meta) = std::fs::metadata(&f) else { continue };
                if meta.modified().ok().and_then(|m| now.duration_since(m).ok()).is_some_and(|age| age < SETTLE) {
                    continue;
                }
                self.seen.insert(f.clone());
                if meta.len() as usize > max_len {
                    continue;
                }
                let Ok(bytes) = std::fs::read(&f) else { continue };
                let k = key(&bytes);
                if self.known.insert(k) {
                    self.from_peers.insert(k);
                    self.imported += 1;
                    out.push(bytes);
                }
            }
        }
        out
    }
}

/// The id of a queue file name `id:NNNNNN...`.
pub fn queue_id(name: &str) -> Option<u64> {
    let digits: String = name.strip_prefix("id:")?.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_is_contiguous_import_skips_own_and_known_and_restart_continues() {
        let dir = std::env::temp_dir().join(format!("diverge-sync-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut a = TargetSync::open(&dir, Target::Attestation, "a-w0", 0, 0).unwrap();
        let mut b = TargetSync::open(&dir, Target::Attestation, "b-w0", 0, 0).unwrap();
        assert!(a.export(b"one").unwrap());
        assert!(a.export(b"two").unwrap());
        assert!(!a.export(b"one").unwrap());
        let mut names: Vec<String> = std::fs::read_dir(a.queue()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["id:000000,op:diverge", "id:000001,op:diverge"]);
        // Too fresh: nothing yet.
        assert!(b.import(1024).is_empty());
        std::thread::sleep(SETTLE + Duration::from_millis(100));
        assert!(b.export(b"two").unwrap());
        // "two" is b's own already: only "one" comes in; b never exports it back.
        assert_eq!(b.import(1024), vec![b"one".to_vec()]);
        assert!(!b.export(b"one").unwrap());
        assert!(b.import(1024).is_empty());
        assert_eq!((b.exported, b.imported, b.kept), (1, 1, 1));
        let mut a2 = TargetSync::open(&dir, Target::Attestation, "a-w0", 2, 0).unwrap();
        assert!(!a2.export(b"two").unwrap());
        assert!(a2.export(b"three").unwrap());
        assert!(a2.queue().join("id:000002,op:diverge").is_file());
        assert_eq!(queue_id("id:000123,sync:x,src:000001"), Some(123));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
