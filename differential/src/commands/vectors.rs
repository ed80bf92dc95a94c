//! `diverge vectors`.

use super::PresetArg;
use anyhow::{bail, Context, Result};
use diverge::vectors::{self, ResultRow, VectorsConfig, SUPPORTED_RUNNERS};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Runs the spec vectors; exit code 1 when a case failed.
pub fn run_vectors(tests: Option<PathBuf>, preset: PresetArg, runners: Vec<String>, implementations: Vec<String>, json: bool) -> Result<i32> {
    let root = match tests {
        Some(dir) => dir,
        None => vectors::default_tests_dir()?,
    };
    if !root.is_dir() {
        bail!(
            "spec vectors not found at {}.\n  Provide them with `scripts/get-spec-tests.sh` (downloads or generates \
             consensus-spec-tests v1.1.10), or point --tests or DIVERGE_SPEC_TESTS at a consensus-spec-tests `tests` directory.",
            root.display()
        );
    }
    for r in &runners {
        if !SUPPORTED_RUNNERS.contains(&r.as_str()) {
            eprintln!("warning: runner {r:?} is not supported; its cases will be listed as skipped (supported: {})", SUPPORTED_RUNNERS.join(", "));
        }
    }
    vectors::check_implementations(&implementations)?;
    let config = VectorsConfig { root: root.clone(), presets: preset.presets(), runners, implementations };
    let (cases, skipped) = vectors::discover(&config).with_context(|| format!("reading {}", root.display()))?;

    let start = Instant::now();
    let total = cases.len();
    let done = AtomicUsize::new(0);
    let tty = std::io::stderr().is_terminal();
    let bar = if tty {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} vectors [{elapsed_precise}] {bar:40} {pos}/{len} cases {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        eprintln!("vectors: running {total} cases from {}", root.display());
        None
    };
    let progress = |case: &vectors::Case| {
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        match &bar {
            Some(bar) => {
                bar.set_message(format!("{}/{}", case.preset, case.runner));
                bar.inc(1);
            }
            None => {
                let step = (total / 10).max(1);
                if n.is_multiple_of(step) || n == total {
                    eprintln!("vectors: {n}/{total} cases ({:.0} s)", start.elapsed().as_secs_f64());
                }
            }
        }
    };
    let mut rows = vectors::run_all(&cases, &config.implementations, &progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    rows.extend(skipped);
    rows.sort_by(|a, b| (&a.preset, &a.runner, &a.handler, &a.implementation).cmp(&(&b.preset, &b.runner, &b.handler, &b.implementation)));

    let passed: usize = rows.iter().map(|r| r.passed).sum();
    let failed: usize = rows.iter().map(|r| r.failed).sum();
    let skipped_n: usize = rows.iter().map(|r| r.skipped).sum();
    if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "results": rows }))?);
    } else {
        print_table(&rows);
        println!("{} cases in {:.1} s", total, start.elapsed().as_secs_f64());
        println!("vectors: {passed} passed, {failed} failed, {skipped_n} skipped");
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

fn print_table(rows: &[ResultRow]) {
    let headers = ["preset", "runner", "handler", "impl", "passed", "failed", "skipped"];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [r.preset.clone(), r.runner.clone(), r.handler.clone(), r.implementation.clone(),
             r.passed.to_string(), r.failed.to_string(), r.skipped.to_string()]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.len());
        }
    }
    let line = |cols: &[String]| {
        let parts: Vec<String> = cols
            .iter()
            .zip(widths.iter())
            .enumerate()
            .map(|(i, (c, w))| if i >= 4 { format!("{c:>w$}") } else { format!("{c:<w$}") })
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(&headers.map(String::from));
    for row in &cells {
        line(row);
    }
    let skipped: Vec<&ResultRow> = rows.iter().filter(|r| r.skip_reason.is_some()).collect();
    if !skipped.is_empty() {
        println!("\nskipped:");
        for r in skipped {
            println!("  {}/{}/{}: {}", r.preset, r.runner, r.handler, r.skip_reason.as_deref().unwrap_or(""));
        }
    }
    let failures: Vec<(&ResultRow, &vectors::Failure)> = rows.iter().flat_map(|r| r.failures.iter().map(move |f| (r, f))).collect();
    if !failures.is_empty() {
        println!("\nfailures:");
        for (r, f) in failures {
            println!("  [{}] {}\n      {}", r.implementation, f.case, f.reason);
        }
    }
    println!();
}
