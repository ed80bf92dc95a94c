//! A findings report a maintainer can paste into an upstream issue: `diverge triage --markdown`.
//!
//! One section per signature ([`crate::replay::triage`]), new findings first, known upstream
//! hazards ([`crate::policy::KNOWN_HAZARDS`]) apart with their upstream reference. Each section
//! gives the signature, the culprit where the oracle can judge one (the implementations outside
//! `finding.json`'s `majority`; with no majority, e.g. two implementations, it is "not judged"),
//! every verdict, the first differing field, the replay command and the input as hex (the
//! `minimized.bin` written by `diverge minimize` when present, else the recorded input; inputs
//! over [`HEX_FULL_MAX`] bytes are shown by head and tail, always with length and SHA-256).

use crate::findings::{self, Finding};
use crate::replay::TriageGroup;
use std::fmt::Write as _;
use std::path::Path;

/// Inputs up to this many bytes are printed whole.
pub const HEX_FULL_MAX: usize = 512;
/// Bytes shown from the start of a longer input.
pub const HEX_HEAD: usize = 256;
/// Bytes shown from the end of a longer input.
pub const HEX_TAIL: usize = 64;
/// Bytes per hex line.
const HEX_LINE: usize = 32;

/// The culprit line: the implementations outside the majority, or why none is named.
pub fn culprit(finding: &Finding) -> String {
    let all: Vec<&str> = finding.verdicts.iter().map(|v| v.implementation.as_str()).collect();
    if finding.majority.is_empty() {
        return format!("not judged ({} implementation{}, no majority)", all.len(), if all.len() == 1 { "" } else { "s" });
    }
    let minority: Vec<&str> = all.iter().copied().filter(|i| !finding.majority.iter().any(|m| m == i)).collect();
    format!("`{}` (majority: `{}`)", minority.join("`, `"), finding.majority.join("`, `"))
}

/// Hex lines of `input`, [`HEX_LINE`] bytes each; longer than [`HEX_FULL_MAX`]: the first
/// [`HEX_HEAD`] and last [`HEX_TAIL`] bytes around a line saying how many were left out.
pub fn hex_block(input: &[u8]) -> String {
    let lines = |bytes: &[u8]| bytes.chunks(HEX_LINE).map(hex::encode).collect::<Vec<_>>().join("\n");
    if input.len() <= HEX_FULL_MAX {
        return lines(input);
    }
    let head = input.get(..HEX_HEAD).unwrap_or_default();
    let tail = input.get(input.len().saturating_sub(HEX_TAIL)..).unwrap_or_default();
    let omitted = input.len().saturating_sub(HEX_HEAD).saturating_sub(HEX_TAIL);
    format!("{}\n... {omitted} bytes omitted ...\n{}", lines(head), lines(tail))
}

fn verdict_text(v: &findings::RecordedVerdict) -> String {
    let mut s = v.kind.clone();
    if let Some(r) = &v.reason {
        let _ = write!(s, " ({r})");
    }
    if let Some(m) = &v.message {
        let _ = write!(s, ": {}", m.lines().next().unwrap_or_default());
    }
    if let Some(root) = &v.post_root {
        let _ = write!(s, ", post-state root {root}");
    }
    s
}

/// The first-differing-field item: inline for short one-line values, else the values in a
/// fenced block (the DKG targets' step diffs span lines).
fn field_line(d: &crate::diff::FieldDiff) -> String {
    let inline = |v: &str| !v.contains('\n') && !v.contains('`') && v.len() <= 120;
    if inline(&d.left) && inline(&d.right) && !d.right.is_empty() {
        return format!("- first differing field: `{}`: `{}` != `{}`\n", d.path, d.left, d.right);
    }
    let mut s = format!("- first differing field: `{}`:\n\n  ```text\n", d.path);
    for v in [&d.left, &d.right] {
        for line in v.lines() {
            let _ = writeln!(s, "  {line}");
        }
    }
    s.push_str("  ```\n");
    s
}

fn section(out: &mut String, g: &TriageGroup) -> Result<(), String> {
    let (finding, input, dir) = findings::load(&g.example).map_err(|e| e.to_string())?;
    let minimized = dir.join("minimized.bin");
    let (label, bytes) = match std::fs::read(&minimized) {
        Ok(m) => ("minimized input (`minimized.bin`)", m),
        Err(_) => ("input (not minimized; `diverge minimize` shrinks it)", input),
    };
    let _ = writeln!(out, "#### `{}`\n", g.signature);
    let _ = writeln!(out, "- findings with this signature: {}", g.count);
    let _ = writeln!(out, "- target: `{}`, preset `{}`, BLS `{}`, state: {}", finding.target, finding.preset, finding.bls, finding.state.source);
    let _ = writeln!(out, "- culprit: {}", culprit(&finding));
    for v in &finding.verdicts {
        let _ = writeln!(out, "- `{}` {}: {}", v.implementation, v.version, verdict_text(v));
    }
    match finding.diff.as_ref().or(finding.diffs.first()) {
        Some(d) => out.push_str(&field_line(d)),
        None => {
            let _ = writeln!(out, "- first differing field: none (the verdicts differ; no two valid post-states to compare)");
        }
    }
    if let Some(k) = &g.known {
        let _ = writeln!(out, "- known upstream hazard `{}`: {}", k.hazard, k.reference);
    }
    let _ = writeln!(out, "- replay: `{}`", g.replay);
    let _ = writeln!(out, "- {label}: {} bytes, SHA-256 `{}`\n", bytes.len(), hex::encode(diverge_types::hash(&bytes)));
    let _ = writeln!(out, "```\n{}\n```\n", hex_block(&bytes));
    Ok(())
}

/// The Markdown report of a findings directory, and the findings that could not be read (path
/// and reason), which do not stop the rest.
pub fn triage_markdown(dir: &Path) -> (String, Vec<String>) {
    let (groups, mut errors) = crate::replay::triage(dir);
    let (new, known): (Vec<_>, Vec<_>) = groups.iter().partition(|g| g.known.is_none());
    let count = |gs: &[&TriageGroup]| gs.iter().map(|g| g.count).sum::<usize>();
    let mut out = String::new();
    let _ = writeln!(out, "## Diverge findings: `{}`\n", dir.display());
    let _ = writeln!(
        out,
        "{} new signature(s), {} finding(s); {} known upstream hazard(s), {} finding(s).\n",
        new.len(),
        count(&new),
        known.len(),
        count(&known)
    );
    for (title, gs) in [("New findings", &new), ("Known upstream hazards (reproduced on purpose, not new)", &known)] {
        if gs.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title}\n");
        for g in gs.iter() {
            if let Err(e) = section(&mut out, g) {
                errors.push(e);
            }
        }
    }
    (out, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_block_whole_and_truncated() {
        assert_eq!(hex_block(&[0xab; 3]), "ababab");
        let small = vec![1u8; HEX_FULL_MAX];
        assert!(!hex_block(&small).contains("omitted"));
        let big: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let text = hex_block(&big);
        assert!(text.contains(&format!("... {} bytes omitted ...", 1000 - HEX_HEAD - HEX_TAIL)), "{text}");
        assert!(text.starts_with(&hex::encode(&big[..HEX_LINE])));
        assert!(text.ends_with(&hex::encode(&big[1000 - HEX_LINE..])));
    }
}
