//! The AFL++ fuzz farm (`diverge farm`, issue 14 item 2; architecture.md §10): the plan of
//! diversified AFL++ instances per machine, the status read from each instance's `fuzzer_stats`,
//! the queue mirror between two sync roots (a second machine without a shared file system), and
//! the ledger of AFL++ crash files already turned into findings.
//!
//! Layout of a farm directory `DIR` (shared with `diverge fuzz --sync-dir DIR`, see
//! [`crate::fuzz::sync`]):
//!
//! ```text
//! DIR/<target>/                     one AFL++ sync root per target (`afl-fuzz -o DIR/<target>`)
//! DIR/<target>/<machine>-<target>-<k>/{queue,crashes,hangs,fuzzer_stats,...}   AFL++ instances
//! DIR/<target>/<name>-w<k>/queue/   a `diverge fuzz --sync-dir DIR` worker's exported entries
//! DIR/<target>/<instance>/.diverge-mirror   marks a copy of another machine's instance queue
//! DIR/.farm/<machine>/              the farm's own files: logs, the crash ledger
//! ```
//!
//! AFL++ (4.40c, `src/afl-fuzz-run.c` `sync_fuzzers`) imports from every `<sync root>/<other>/queue/`
//! whose files are named `id:NNNNNN...` with contiguous ids (it remembers the next id per peer in
//! `.synced/<other>`); a `-S` instance only reads peers holding an `is_main_node` file (the `-M`
//! instance), the `-M` instance reads every peer. Dot-entries are skipped.

use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Queue files modified more recently than this are not copied yet (they may be mid-write).
pub const SETTLE: std::time::Duration = std::time::Duration::from_secs(1);

/// Marker file of an instance directory that mirrors another machine's instance (its queue only).
pub const MIRROR_MARKER: &str = ".diverge-mirror";

/// The file AFL++ writes in a `-M` instance's directory (`src/afl-fuzz-init.c`); `-S` instances
/// import only from directories holding it.
pub const MAIN_NODE_MARKER: &str = "is_main_node";

/// AFL++ power schedules, in the order instances get them (`-p`; AFL++ `docs/fuzzing_in_depth.md`
/// "Using multiple cores": vary the schedules across secondaries).
pub const SCHEDULES: [&str; 8] = ["fast", "explore", "coe", "exploit", "rare", "lin", "quad", "seek"];

/// What the farm gives its AFL++ instances beyond the target binary: the inputs of [`plan`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// The CmpLog build of the target (`-c BINARY`, built with `AFL_LLVM_CMPLOG=1`), for the
    /// CmpLog instances; none: no CmpLog instance.
    pub cmplog_binary: Option<PathBuf>,
    /// Structure-aware custom mutator library (`AFL_CUSTOM_MUTATOR_LIBRARY`; diverge's:
    /// `mutators/afl`, `libdiverge_afl_mutator.so`).
    pub custom_mutator: Option<PathBuf>,
    /// The target's dictionary (`-x FILE`, libFuzzer/AFL++ `"token"` lines, as
    /// `ci/oss-fuzz/gen-dict.py` writes it), for every instance.
    pub dictionary: Option<PathBuf>,
    /// `AFL_TESTCACHE_SIZE`, MB of test cases each instance keeps in memory (0: not set, AFL++'s
    /// default).
    pub testcache_mb: u64,
}

/// One AFL++ instance of the farm: its name and the settings that diversify it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstancePlan {
    /// `<machine>-<target>-<k>`: unique across machines sharing a sync root.
    pub name: String,
    /// Target name.
    pub target: String,
    /// Index of the instance on this machine for this target (0 is the `-M` main instance).
    pub index: usize,
    /// `-M` (main) or `-S` (secondary).
    pub main: bool,
    /// Power schedule (`-p`).
    pub schedule: &'static str,
    /// MOpt mutator scheduling (`-L 0`).
    pub mopt: bool,
    /// Old sequential queue cycling (`-Z`).
    pub old_queue: bool,
    /// CmpLog: `-c <the CmpLog binary> -l <level>`, level `AT` (arithmetic and transformations)
    /// on the first CmpLog instance, `2` on a second one.
    pub cmplog: Option<(PathBuf, &'static str)>,
    /// Custom mutator library (`AFL_CUSTOM_MUTATOR_LIBRARY`), on the odd instances when one is
    /// given.
    pub custom_mutator: Option<PathBuf>,
    /// Dictionary (`-x`).
    pub dictionary: Option<PathBuf>,
    /// `AFL_TESTCACHE_SIZE` in MB (0: unset).
    pub testcache_mb: u64,
}

/// Keeps `[A-Za-z0-9._-]` of a machine name, replacing the rest with `_` (AFL++ uses the instance
/// name as a directory name and inside queue file names).
pub fn sanitize_name(name: &str) -> String {
    let s: String = name.trim().chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' }).collect();
    if s.is_empty() { "machine".to_string() } else { s }
}

/// This host's name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`, else `machine`), sanitized.
pub fn hostname() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname").ok().or_else(|| std::env::var("HOSTNAME").ok()).unwrap_or_default();
    sanitize_name(&raw)
}

/// The instances of one machine for one target, after AFL++'s `docs/fuzzing_in_depth.md`
/// section 3c "Using multiple cores" (AFLplusplus/AFLplusplus, commit 00723df):
///
/// - `cores` instances, index 0 `-M` (`main-$HOSTNAME`: here `<machine>-<target>-0`), the others
///   `-S`; the `-M` runs AFL++'s defaults ("the defaults are already usually best", 3a) plus
///   `AFL_FINAL_SYNC=1`, so its queue, the one other machines copy, holds everything at the end;
/// - power schedules rotate through [`SCHEDULES`] ("run with a different power schedule");
/// - CmpLog ("one or two should fuzz the target with CMPLOG/redqueen, at least one cmplog instance
///   should follow transformations (`-l AT`)"): with a CmpLog binary, instance 1 runs
///   `-c <cmplog binary> -l AT` (instance 0 when `cores == 1`, the only instance), and from 8 cores
///   instance `cores / 2` runs `-l 2` too; each with `AFL_CMPLOG_ONLY_NEW=1` (the farm resumes
///   its queues, `AFL_AUTORESUME`, and imports seeds CmpLog has seen: "if you have ... a corpus
///   from a previous run");
/// - the custom mutator on the odd instances (half the secondaries);
/// - MOpt (`-L 0`, "a quarter to a third [of the secondaries]"): `ceil((cores-1)/4)` secondaries
///   without the custom mutator, those without CmpLog first: AFL++ 4.x refuses MOpt with a custom
///   mutator ("MOpt and custom mutator are mutually exclusive", `src/afl-fuzz-mutators.c`
///   `setup_custom_mutators`), so with one at 2 cores (its only secondary runs the mutator) there is
///   no MOpt instance;
/// - `-Z` ("a few instances should use the old queue cycling"): `max(1, (cores-1)/5)` secondaries,
///   the highest indices not running MOpt first (the docs' CI advice: 20%);
/// - on every instance `AFL_IMPORT_FIRST=1` ("load test cases from other fuzzers in the campaign
///   first"), `AFL_TESTCACHE_SIZE` ("a value between 50-500MB is recommended") and the dictionary
///   (`-x`, 3a "Adding a dictionary is helpful").
///
/// With one core the only instance is the `-M`: no `-S` variation exists to give (CmpLog aside).
pub fn plan(machine: &str, target: &str, cores: usize, options: &PlanOptions) -> Vec<InstancePlan> {
    let cores = cores.max(1);
    let secondaries = cores.saturating_sub(1);
    let custom_on = |k: usize| options.custom_mutator.is_some() && k % 2 == 1;
    let mut cmplog_at: Vec<(usize, &'static str)> = Vec::new();
    if options.cmplog_binary.is_some() {
        cmplog_at.push((if cores == 1 { 0 } else { 1 }, "AT"));
        if cores >= 8 {
            cmplog_at.push((cores / 2, "2"));
        }
    }
    let is_cmplog = |k: usize| cmplog_at.iter().any(|(i, _)| *i == k);
    // MOpt: secondaries without the custom mutator, those without CmpLog first, lowest index first.
    let mut eligible: Vec<usize> = (1..cores).filter(|&k| !custom_on(k)).collect();
    eligible.sort_by_key(|&k| (is_cmplog(k), k));
    let mopt: Vec<usize> = eligible.into_iter().take(secondaries.div_ceil(4)).collect();
    // -Z: highest secondaries, those without MOpt first.
    let z_count = if secondaries == 0 { 0 } else { (secondaries / 5).max(1) };
    let mut by_z: Vec<usize> = (1..cores).rev().collect();
    by_z.sort_by_key(|k| mopt.contains(k));
    let old_queue: Vec<usize> = by_z.into_iter().take(z_count).collect();
    (0..cores)
        .map(|k| InstancePlan {
            name: format!("{machine}-{target}-{k}"),
            target: target.to_string(),
            index: k,
            main: k == 0,
            schedule: SCHEDULES.get(k % SCHEDULES.len()).copied().unwrap_or("fast"),
            mopt: mopt.contains(&k),
            old_queue: old_queue.contains(&k),
            cmplog: options.cmplog_binary.as_ref().and_then(|b| cmplog_at.iter().find(|(i, _)| *i == k).map(|(_, level)| (b.clone(), *level))),
            custom_mutator: options.custom_mutator.clone().filter(|_| custom_on(k)),
            dictionary: options.dictionary.clone(),
            testcache_mb: options.testcache_mb,
        })
        .collect()
}

impl InstancePlan {
    /// The `afl-fuzz` arguments:
    /// `-i SEEDS -o ROOT -M|-S NAME -p SCHEDULE [-L 0] [-Z] [-c CMPLOG -l LEVEL] [-x DICT] -- BINARY`.
    pub fn args(&self, seeds: &Path, sync_root: &Path, binary: &Path) -> Vec<std::ffi::OsString> {
        let mut a: Vec<std::ffi::OsString> = vec!["-i".into(), seeds.into(), "-o".into(), sync_root.into()];
        a.push(if self.main { "-M" } else { "-S" }.into());
        a.push(self.name.clone().into());
        a.push("-p".into());
        a.push(self.schedule.into());
        if self.mopt {
            a.extend(["-L".into(), "0".into()]);
        }
        if self.old_queue {
            a.push("-Z".into());
        }
        if let Some((bin, level)) = &self.cmplog {
            a.extend(["-c".into(), bin.into(), "-l".into(), (*level).into()]);
        }
        if let Some(dict) = &self.dictionary {
            a.extend(["-x".into(), dict.into()]);
        }
        a.push("--".into());
        a.push(binary.into());
        a
    }

    /// The AFL++ environment variables this plan sets (the farm adds its fixed ones: `AFL_NO_UI`,
    /// `AFL_AUTORESUME`, ...): `AFL_IMPORT_FIRST=1`, `AFL_TESTCACHE_SIZE`, `AFL_FINAL_SYNC=1` on
    /// the `-M`, `AFL_CMPLOG_ONLY_NEW=1` on CmpLog instances, `AFL_CUSTOM_MUTATOR_LIBRARY`.
    pub fn env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        let mut e: Vec<(&'static str, std::ffi::OsString)> = vec![("AFL_IMPORT_FIRST", "1".into())];
        if self.testcache_mb > 0 {
            e.push(("AFL_TESTCACHE_SIZE", self.testcache_mb.to_string().into()));
        }
        if self.main {
            e.push(("AFL_FINAL_SYNC", "1".into()));
        }
        if self.cmplog.is_some() {
            e.push(("AFL_CMPLOG_ONLY_NEW", "1".into()));
        }
        if let Some(lib) = &self.custom_mutator {
            e.push(("AFL_CUSTOM_MUTATOR_LIBRARY", lib.into()));
        }
        e
    }

    /// What kind of instance this is, for people and for per-kind measurements: `main`, then
    /// `+mopt`, `+Z`, `+cmplog`, `+custom` as they apply (`plain` for a secondary with none).
    pub fn kind(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if self.main {
            parts.push("main");
        }
        if self.mopt {
            parts.push("mopt");
        }
        if self.old_queue {
            parts.push("Z");
        }
        if self.cmplog.is_some() {
            parts.push("cmplog");
        }
        if self.custom_mutator.is_some() {
            parts.push("custom");
        }
        if parts.is_empty() {
            "plain".into()
        } else {
            parts.join("+")
        }
    }

    /// One line for people: `m-attestation-1 -S -p explore -L 0 -Z -c CMPLOG -l AT -x +custom-mutator`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {} -p {}", self.name, if self.main { "-M" } else { "-S" }, self.schedule);
        if self.mopt {
            s.push_str(" -L 0");
        }
        if self.old_queue {
            s.push_str(" -Z");
        }
        if let Some((bin, level)) = &self.cmplog {
            s.push_str(&format!(" -c {} -l {level}", bin.display()));
        }
        if self.dictionary.is_some() {
            s.push_str(" -x");
        }
        if self.custom_mutator.is_some() {
            s.push_str(" +custom-mutator");
        }
        if self.main {
            s.push_str(" AFL_FINAL_SYNC=1");
        }
        s
    }
}

/// What an AFL++ instance's `fuzzer_stats` says (AFL++ 4.x keys), for the status view and for
/// metrics (a plain struct: the Prometheus exporter can read it as is).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct InstanceStatus {
    /// Target (the sync root's name).
    pub target: String,
    /// Instance name (its directory).
    pub instance: String,
    /// `fuzzer_pid`.
    pub pid: u64,
    /// `run_time`, seconds.
    pub run_time: u64,
    /// `execs_done`.
    pub execs_done: u64,
    /// `execs_per_sec` (AFL++: average over the run).
    pub execs_per_sec: f64,
    /// `execs_ps_last_min` (AFL++ >= 4.0), when present.
    pub execs_ps_last_min: Option<f64>,
    /// `corpus_count`: paths in the queue.
    pub corpus_count: u64,
    /// `corpus_found`: found by this instance.
    pub corpus_found: u64,
    /// `corpus_imported`: imported from other instances of the sync root.
    pub corpus_imported: u64,
    /// `saved_crashes`.
    pub saved_crashes: u64,
    /// `saved_hangs`.
    pub saved_hangs: u64,
    /// `last_find`: Unix seconds of the last new path (None: never).
    pub last_find: Option<u64>,
    /// `last_update`: Unix seconds the file was written.
    pub last_update: u64,
}

impl InstanceStatus {
    /// Exec/s over the last minute when AFL++ has measured it (non-zero), else over the run.
    pub fn current_execs_per_sec(&self) -> f64 {
        self.execs_ps_last_min.filter(|e| *e > 0.0).unwrap_or(self.execs_per_sec)
    }
}

/// Parses the text of a `fuzzer_stats` file (`key   : value` lines).
///
/// # Errors
/// A line without `:`, or a numeric key (`execs_done`, `execs_per_sec`, `corpus_count`,
/// `saved_crashes`, ...) whose value is not a number; `execs_done` missing (not a stats file).
pub fn parse_fuzzer_stats(text: &str) -> Result<InstanceStatus, String> {
    let mut kv: BTreeMap<&str, &str> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (k, v) = line.split_once(':').ok_or_else(|| format!("line {}: no `key : value`: {line:?}", n + 1))?;
        kv.insert(k.trim(), v.trim());
    }
    let int = |k: &str| -> Result<u64, String> {
        match kv.get(k) {
            None => Ok(0),
            Some(v) => v.parse::<u64>().map_err(|_| format!("{k}: not a number: {v:?}")),
        }
    };
    let float = |k: &str| -> Result<Option<f64>, String> { kv.get(k).map(|v| v.parse::<f64>().map_err(|_| format!("{k}: not a number: {v:?}"))).transpose() };
    if !kv.contains_key("execs_done") {
        return Err("no execs_done: not an AFL++ fuzzer_stats file".into());
    }
    let last_find = int("last_find")?;
    Ok(InstanceStatus {
        target: String::new(),
        instance: String::new(),
        pid: int("fuzzer_pid")?,
        run_time: int("run_time")?,
        execs_done: int("execs_done")?,
        execs_per_sec: float("execs_per_sec")?.unwrap_or(0.0),
        execs_ps_last_min: float("execs_ps_last_min")?,
        corpus_count: int("corpus_count")?,
        corpus_found: int("corpus_found")?,
        corpus_imported: int("corpus_imported")?,
        saved_crashes: int("saved_crashes")?,
        saved_hangs: int("saved_hangs")?,
        last_find: (last_find > 0).then_some(last_find),
        last_update: int("last_update")?,
    })
}

/// The status of every AFL++ instance under a farm directory (`DIR/<target>/<instance>/fuzzer_stats`),
/// sorted by target then instance; `only` keeps the instances whose name starts with it. Instances
/// without a stats file yet (starting) are left out; an unreadable or malformed one is a warning
/// naming the file.
pub fn read_status(dir: &Path, only: Option<&str>) -> (Vec<InstanceStatus>, Vec<String>) {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (target, root) in sync_roots(dir) {
        for (instance, idir) in subdirs(&root) {
            if only.is_some_and(|p| !instance.starts_with(p)) {
                continue;
            }
            let path = idir.join("fuzzer_stats");
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            match parse_fuzzer_stats(&text) {
                Ok(mut s) => {
                    s.target = target.clone();
                    s.instance = instance;
                    out.push(s);
                }
                Err(e) => warnings.push(format!("{}: {e}", path.display())),
            }
        }
    }
    (out, warnings)
}

/// `(name, path)` of the non-dot subdirectories of `dir`, sorted.
fn subdirs(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut v: Vec<(String, PathBuf)> = rd
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(n, _)| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

/// The per-target sync roots of a farm directory: `(target, DIR/<target>)` for every
/// subdirectory named after a known target.
pub fn sync_roots(dir: &Path) -> Vec<(String, PathBuf)> {
    subdirs(dir).into_iter().filter(|(n, _)| crate::target::Target::from_name(n).is_some()).collect()
}

/// The human status table: one line per instance and a total per target.
pub fn status_table(status: &[InstanceStatus], now_unix: u64) -> String {
    let mut s = format!(
        "{:<16} {:<34} {:>9} {:>12} {:>7} {:>8} {:>8} {:>13}\n",
        "target", "instance", "exec/s", "execs", "paths", "imported", "crashes", "last new path"
    );
    for i in status {
        let last = match i.last_find {
            Some(t) => format!("{} s ago", now_unix.saturating_sub(t)),
            None => "none yet".into(),
        };
        let eps = i.current_execs_per_sec();
        s.push_str(&format!(
            "{:<16} {:<34} {:>9.0} {:>12} {:>7} {:>8} {:>8} {:>13}\n",
            i.target, i.instance, eps, i.execs_done, i.corpus_count, i.corpus_imported, i.saved_crashes, last
        ));
    }
    let mut per: BTreeMap<&str, (f64, u64, u64)> = BTreeMap::new();
    for i in status {
        let e = per.entry(i.target.as_str()).or_default();
        e.0 += i.current_execs_per_sec();
        e.1 += i.execs_done;
        e.2 += i.saved_crashes;
    }
    for (t, (eps, execs, crashes)) in per {
        s.push_str(&format!("{:<16} {:<34} {:>9.0} {:>12} {:>7} {:>8} {:>8}\n", t, "(all instances)", eps, execs, "", "", crashes));
    }
    s
}

/// What one [`mirror_queues`] pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MirrorStats {
    /// Instance directories mirrored (seen in the source, not local in the destination).
    pub instances: usize,
    /// Queue files copied in this pass.
    pub copied: usize,
    /// Instance directories skipped because they are local (live) in the destination.
    pub local: usize,
    /// Instance directories skipped because they are not `-M` (without `all_instances`).
    pub secondaries: usize,
}

/// Copies the `-M` instance queues of farm directory `from` into farm directory `to`, so the
/// AFL++ instances (and `diverge fuzz --sync-dir` processes) under `to` import them. Only `-M`
/// directories (those holding AFL++'s [`MAIN_NODE_MARKER`]) are copied, unless `all_instances`:
/// AFL++'s `docs/fuzzing_in_depth.md` 3d "Using multiple machines for fuzzing": "As the `-M
/// main-$HOSTNAME` instance syncs to all `-S` secondaries as well as to other fuzzers, you have to
/// copy only this directory to the other machines" (`all_instances` is for machines that run only
/// `diverge fuzz --sync-dir`, which has no `-M`). For each copied
/// `from/<target>/<instance>/queue/id:*`, the files missing from `to/<target>/<instance>/queue/`
/// are copied in id order, except files modified in the last [`SETTLE`] (each written under a
/// dot-name, then renamed, so a reader never sees a partial file); the marker is copied along (the
/// `-S` instances of `to` then import the mirror too, as after the docs' rsync of the whole
/// directory), and `to/<target>/<instance>/.diverge-mirror` marks the directory as a mirror. An
/// instance directory that exists in `to` without that marker belongs to a process running
/// there: it is never written. Mirrors in `from` are copied too (a hub forwards between
/// machines). Run it both ways for two-way sync.
///
/// # Errors
/// Listing, reading or writing failed (with the path).
pub fn mirror_queues(from: &Path, to: &Path, all_instances: bool) -> std::io::Result<MirrorStats> {
    let ctx = |p: &Path, e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", p.display()));
    let mut stats = MirrorStats::default();
    for (target, root) in sync_roots(from) {
        for (instance, idir) in subdirs(&root) {
            let queue = idir.join("queue");
            if !queue.is_dir() {
                continue;
            }
            let is_main = idir.join(MAIN_NODE_MARKER).is_file();
            if !is_main && !all_instances {
                stats.secondaries += 1;
                continue;
            }
            let dest = to.join(&target).join(&instance);
            if dest.exists() && !dest.join(MIRROR_MARKER).exists() {
                stats.local += 1;
                continue;
            }
            let dest_queue = dest.join("queue");
            std::fs::create_dir_all(&dest_queue).map_err(|e| ctx(&dest_queue, e))?;
            if !dest.join(MIRROR_MARKER).exists() {
                std::fs::write(dest.join(MIRROR_MARKER), format!("{}\n", idir.display())).map_err(|e| ctx(&dest, e))?;
            }
            if is_main && !dest.join(MAIN_NODE_MARKER).exists() {
                std::fs::write(dest.join(MAIN_NODE_MARKER), b"").map_err(|e| ctx(&dest, e))?;
            }
            stats.instances += 1;
            let mut names: Vec<String> = std::fs::read_dir(&queue)
                .map_err(|e| ctx(&queue, e))?
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("id:"))
                .collect();
            names.sort();
            for name in names {
                let target_path = dest_queue.join(&name);
                if target_path.exists() {
                    continue;
                }
                let src = queue.join(&name);
                // AFL++ writes queue entries in place (and rsync may have copied one mid-write,
                // keeping its mtime): a file younger than this is left for the next pass.
                let fresh = std::fs::metadata(&src).and_then(|m| m.modified()).ok().and_then(|m| std::time::SystemTime::now().duration_since(m).ok()).is_some_and(|age| age < SETTLE);
                if fresh {
                    continue;
                }
                let bytes = match std::fs::read(&src) {
                    Ok(b) => b,
                    // Gone meanwhile (AFL++ rewrote its queue): later.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(ctx(&src, e)),
                };
                write_renamed(&target_path, &bytes).map_err(|e| ctx(&target_path, e))?;
                stats.copied += 1;
            }
        }
    }
    Ok(stats)
}

/// Writes `bytes` to `path` through a dot-named temporary file and a rename (atomic for readers;
/// not fsynced: corpus entries are cheap to lose, not findings).
pub fn write_renamed(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// One AFL++ crash file not processed yet.
#[derive(Clone, Debug)]
pub struct CrashFile {
    /// Target (the sync root's name).
    pub target: String,
    /// Instance that saved it.
    pub instance: String,
    /// The file.
    pub path: PathBuf,
    /// Its key in the ledger: `<target>/<instance>/<file name>`.
    pub key: String,
}

/// The crash files of a farm directory already turned into findings (or found duplicate), kept in
/// `DIR/.farm/<machine>/crashes.tsv` (one `key<TAB>sha256<TAB>result` line each), so a restarted
/// farm does not redo them; plus the input hashes seen (AFL++ instances often save the same input).
pub struct CrashLedger {
    path: PathBuf,
    keys: HashSet<String>,
    hashes: HashSet<String>,
}

impl CrashLedger {
    /// Loads (or starts) the ledger at `path`.
    ///
    /// # Errors
    /// The file exists but cannot be read.
    pub fn open(path: &Path) -> std::io::Result<CrashLedger> {
        let mut ledger = CrashLedger { path: path.to_path_buf(), keys: HashSet::new(), hashes: HashSet::new() };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                for line in text.lines() {
                    let mut parts = line.split('\t');
                    if let (Some(k), Some(h)) = (parts.next(), parts.next()) {
                        ledger.keys.insert(k.to_string());
                        ledger.hashes.insert(h.to_string());
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        }
        Ok(ledger)
    }

    /// Crash files under `dir` (`DIR/<target>/<instance>/crashes/id:*`) not in the ledger, in
    /// target, instance, name order; `only` keeps instances whose name starts with it.
    pub fn new_crashes(&self, dir: &Path, only: Option<&str>) -> Vec<CrashFile> {
        let mut out = Vec::new();
        for (target, root) in sync_roots(dir) {
            for (instance, idir) in subdirs(&root) {
                if only.is_some_and(|p| !instance.starts_with(p)) {
                    continue;
                }
                let Ok(rd) = std::fs::read_dir(idir.join("crashes")) else { continue };
                let mut names: Vec<String> = rd.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with("id:")).collect();
                names.sort();
                for name in names {
                    let key = format!("{target}/{instance}/{name}");
                    if !self.keys.contains(&key) {
                        out.push(CrashFile { target: target.clone(), instance: instance.clone(), path: idir.join("crashes").join(&name), key });
                    }
                }
            }
        }
        out
    }

    /// Whether an input with this SHA-256 (hex) was processed already.
    pub fn seen_hash(&self, sha256: &str) -> bool {
        self.hashes.contains(sha256)
    }

    /// Records a processed crash file (appended and flushed at once).
    ///
    /// # Errors
    /// Writing the ledger failed.
    pub fn record(&mut self, crash: &CrashFile, sha256: &str, result: &str) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
        writeln!(f, "{}\t{sha256}\t{}", crash.key, result.replace(['\t', '\n'], " "))?;
        self.keys.insert(crash.key.clone());
        self.hashes.insert(sha256.to_string());
        Ok(())
    }

    /// Crash files recorded.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Nothing recorded.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(cmplog: bool, custom: bool) -> PlanOptions {
        PlanOptions {
            cmplog_binary: cmplog.then(|| PathBuf::from("/bin/cmplog/t")),
            custom_mutator: custom.then(|| PathBuf::from("/lib/m.so")),
            dictionary: Some(PathBuf::from("/d/t.dict")),
            testcache_mb: 100,
        }
    }

    fn kinds(p: &[InstancePlan]) -> Vec<String> {
        p.iter().map(InstancePlan::kind).collect()
    }

    fn args(i: &InstancePlan) -> String {
        i.args(Path::new("seeds"), Path::new("root"), Path::new("bin")).iter().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ")
    }

    fn env(i: &InstancePlan) -> String {
        i.env().iter().map(|(k, v)| format!("{k}={}", v.to_string_lossy())).collect::<Vec<_>>().join(" ")
    }

    /// The instance kinds per core count, with and without the custom mutator (CmpLog binary given).
    #[test]
    fn plan_per_core_count_with_and_without_the_custom_mutator() {
        let table: [(usize, bool, &[&str]); 8] = [
            (1, false, &["main+cmplog"]),
            (1, true, &["main+cmplog"]),
            (2, false, &["main", "mopt+Z+cmplog"]),
            (2, true, &["main", "Z+cmplog+custom"]),
            (4, false, &["main", "cmplog", "mopt", "Z"]),
            (4, true, &["main", "cmplog+custom", "mopt", "Z+custom"]),
            (8, false, &["main", "cmplog", "mopt", "mopt", "cmplog", "plain", "plain", "Z"]),
            (8, true, &["main", "cmplog+custom", "mopt", "custom", "cmplog", "custom", "mopt", "Z+custom"]),
        ];
        for (cores, custom, want) in table {
            let p = plan("m1", "attestation", cores, &opts(true, custom));
            assert_eq!(kinds(&p), want, "{cores} cores, custom mutator {custom}");
            // Shared by every count: one -M named per machine, AFL_FINAL_SYNC on it only, the
            // dictionary, AFL_IMPORT_FIRST and the test cache everywhere, no MOpt with the custom
            // mutator (AFL++ refuses the pair), CmpLog with -l AT first and AFL_CMPLOG_ONLY_NEW.
            assert_eq!(p.iter().map(|i| i.name.clone()).collect::<Vec<_>>(), (0..cores).map(|k| format!("m1-attestation-{k}")).collect::<Vec<_>>());
            assert_eq!(p.iter().filter(|i| i.main).map(|i| i.index).collect::<Vec<_>>(), [0]);
            for i in &p {
                assert!(!(i.mopt && i.custom_mutator.is_some()), "{}", i.describe());
                let (a, e) = (args(i), env(i));
                assert!(a.contains(" -x /d/t.dict -- bin"), "{a}");
                assert!(e.starts_with("AFL_IMPORT_FIRST=1 AFL_TESTCACHE_SIZE=100"), "{e}");
                assert_eq!(e.contains("AFL_FINAL_SYNC=1"), i.main, "{e}");
                assert_eq!(e.contains("AFL_CMPLOG_ONLY_NEW=1"), i.cmplog.is_some(), "{e}");
                assert_eq!(e.contains("AFL_CUSTOM_MUTATOR_LIBRARY=/lib/m.so"), i.custom_mutator.is_some(), "{e}");
                assert!(!a.contains("-c 0"), "{a}");
            }
            let levels: Vec<&str> = p.iter().filter_map(|i| i.cmplog.as_ref().map(|(_, l)| *l)).collect();
            assert_eq!(levels.first(), Some(&"AT"));
            // MOpt on a quarter to a third of the secondaries, rounded up, where the mutator allows.
            let secondaries = cores - 1;
            let mopt = p.iter().filter(|i| i.mopt).count();
            if custom && cores == 2 {
                assert_eq!(mopt, 0);
            } else {
                assert_eq!(mopt, secondaries.div_ceil(4));
            }
            assert_eq!(p.iter().filter(|i| i.old_queue).count(), if cores == 1 { 0 } else { (secondaries / 5).max(1) });
        }
        // Full command lines of the 4-core plan with the mutator.
        let p = plan("m1", "attestation", 4, &opts(true, true));
        assert_eq!(args(&p[0]), "-i seeds -o root -M m1-attestation-0 -p fast -x /d/t.dict -- bin");
        assert_eq!(args(&p[1]), "-i seeds -o root -S m1-attestation-1 -p explore -c /bin/cmplog/t -l AT -x /d/t.dict -- bin");
        assert_eq!(args(&p[2]), "-i seeds -o root -S m1-attestation-2 -p coe -L 0 -x /d/t.dict -- bin");
        assert_eq!(args(&p[3]), "-i seeds -o root -S m1-attestation-3 -p exploit -Z -x /d/t.dict -- bin");
        assert_eq!(env(&p[0]), "AFL_IMPORT_FIRST=1 AFL_TESTCACHE_SIZE=100 AFL_FINAL_SYNC=1");
        assert_eq!(env(&p[3]), "AFL_IMPORT_FIRST=1 AFL_TESTCACHE_SIZE=100 AFL_CUSTOM_MUTATOR_LIBRARY=/lib/m.so");
        let schedules: HashSet<&str> = p.iter().map(|i| i.schedule).collect();
        assert_eq!(schedules.len(), 4);
        // No CmpLog binary, no dictionary, no cache size: none of them appear.
        let plain = plan("m", "t", 8, &PlanOptions::default());
        assert!(plain.iter().all(|i| i.cmplog.is_none() && i.custom_mutator.is_none() && !args(i).contains("-x") && !env(i).contains("TESTCACHE")));
        assert_eq!(kinds(&plain), ["main", "mopt", "mopt", "plain", "plain", "plain", "plain", "Z"]);
        assert_eq!(sanitize_name("a b/c"), "a_b_c");
    }

    #[test]
    fn malformed_stats_are_errors() {
        assert!(parse_fuzzer_stats("execs_done : 12\nexecs_per_sec : fast\n").unwrap_err().contains("execs_per_sec"));
        assert!(parse_fuzzer_stats("corpus_count : 3\n").unwrap_err().contains("execs_done"));
        assert!(parse_fuzzer_stats("execs_done 12\n").unwrap_err().contains("line 1"));
    }
}
