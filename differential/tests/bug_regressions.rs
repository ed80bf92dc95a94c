//! The re-injected phase0 bugs (design bugs.md A) and their regression inputs,
//! `corpora/regressions/<target>/<bug>.bin` (described in `corpora/regressions/README.md`). Which
//! bugs exist, their targets, files and signatures come from the registry (`diverge::bugs`); this
//! file adds how each input is derived and what the fixed build agrees on.
//!
//! Each input is derived from a shipped seed by [`REGRESSIONS`]' `derive` (deterministic;
//! `DIVERGE_WRITE_REGRESSIONS=1 cargo test -p diverge --test bug_regressions` rewrites the files,
//! and the default build checks that the committed files are exactly what the generator gives).
//!
//! - Default build: every regression input is agreed on by every implementation (the fixed
//!   behaviour), with the expected spec verdict.
//! - `--features bug-<name>[,...]` (diverge-fast re-injects the bugs, at most one per target, as
//!   `diverge list --bug-builds` groups them): each enabled bug's input diverges with exactly the
//!   expected signature; inputs of targets without an enabled bug still agree.
//! - Any build: `diverge replay` of every input in fresh processes gives identical verdicts twice.
//! - `bug-empty-attesting-indices`: the built-in loop finds the divergence from the shipped seeds;
//!   killed with SIGKILL right after its first `NEW FINDING` line, every reported finding is on
//!   disk, complete and replays.
//!
//! ```text
//! cargo test --release -p diverge --test bug_regressions
//! cargo test --release -p diverge --features bug-committee-index-eq-count --test bug_regressions
//! ```

use diverge::pool::Manifest;
use diverge::runner::RunnerConfig;
use diverge::session::{default_pool_dir, Outcome, Session};
use diverge::target::{decode, encode, Target};
use diverge_types::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

type E = MinimalSpec;

/// How the regression input of a registered bug is derived.
struct Regression {
    /// Bug name in the registry.
    bug: &'static str,
    /// The seed file (in `corpora/<target>/`) the input is derived from.
    seed: &'static str,
    /// What the default build agrees on: `valid` or the reject name.
    agreed: &'static str,
    /// Derives the input from the decoded seed: `(selector, operation)` in place.
    derive: fn(&mut u16, &mut Operation<E>, &Context),
}

impl Regression {
    fn entry(&self) -> &'static diverge::bugs::Bug {
        diverge::bugs::find(self.bug).unwrap_or_else(|| panic!("{} is not in the registry", self.bug))
    }
    fn target(&self) -> Target {
        self.entry().target
    }
    fn signature(&self) -> &'static str {
        self.entry().signature()
    }
}

/// What a derivation may look at: the pool manifest and states.
struct Context {
    manifest: Manifest,
    pool: diverge::pool::StatePool<E>,
}

/// Every bug of bugs.md A that concerns phase0 processing (bitlist-zero-length and
/// ssz-offset-huge-alloc are SSZ decoding, shared by both implementations: not re-injectable).
const REGRESSIONS: &[Regression] = &[
    Regression {
        bug: "empty-attesting-indices",
        seed: "success.bin",
        agreed: "IndexedAttestationEmpty",
        derive: |_, op, _| {
            // Every aggregation bit cleared: no attesting index.
            if let Operation::Attestation(a) = op {
                for i in 0..a.aggregation_bits.len() {
                    a.aggregation_bits.set(i, false).expect("in range");
                }
            }
        },
    },
    Regression {
        bug: "committee-index-eq-count",
        seed: "success.bin",
        agreed: "CommitteeIndexOutOfRange",
        derive: |sel, op, ctx| {
            // data.index = get_committee_count_per_slot(state, data.target.epoch).
            if let Operation::Attestation(a) = op {
                a.data.index = committee_count(ctx, *sel, a.data.target.epoch);
            }
        },
    },
    Regression {
        bug: "proposer-slashing-epoch",
        seed: "proposer_is_not_activated.bin",
        agreed: "ProposerNotSlashable",
        derive: |_, op, _| {
            // Both headers at slot 2**32: the proposer, activated only next epoch, is not
            // slashable now but is at the headers' (future) epoch.
            if let Operation::ProposerSlashing(ps) = op {
                ps.signed_header_1.message.slot = 1 << 32;
                ps.signed_header_2.message.slot = 1 << 32;
            }
        },
    },
    Regression {
        bug: "proposer-slashing-signed-header-compare",
        seed: "success.bin",
        agreed: "ProposerSlashingHeadersEqual",
        derive: |_, op, _| {
            // Header 2 := header 1; the two signatures stay different.
            if let Operation::ProposerSlashing(ps) = op {
                ps.signed_header_2.message = ps.signed_header_1.message.clone();
            }
        },
    },
    Regression {
        bug: "attester-slashing-index-unchecked",
        seed: "success_double.bin",
        agreed: "ValidatorIndexOutOfRange",
        derive: |_, op, _| {
            // Index 2**20 (past any pool registry) appended to both attestations, so it is in
            // the intersection of slashed indices.
            if let Operation::AttesterSlashing(s) = op {
                s.attestation_1.attesting_indices.push(1 << 20).expect("room");
                s.attestation_2.attesting_indices.push(1 << 20).expect("room");
            }
        },
    },
    Regression {
        bug: "proposer-slashing-overflow",
        seed: "success.bin",
        agreed: "ValidatorIndexOutOfRange",
        derive: |_, op, _| {
            // proposer_index 2**63 in both headers: above Nim's high(int).
            if let Operation::ProposerSlashing(ps) = op {
                ps.signed_header_1.message.proposer_index = 1 << 63;
                ps.signed_header_2.message.proposer_index = 1 << 63;
            }
        },
    },
    Regression {
        bug: "deposit-merkle-unchecked",
        seed: "success_top_up.bin",
        agreed: "DepositInvalidMerkleProof",
        derive: |_, op, _| {
            // A thousand times the top-up amount under the original proof: minted ETH.
            if let Operation::Deposit(d) = op {
                d.data.amount = d.data.amount.checked_mul(1000).expect("small amount");
            }
        },
    },
    Regression {
        bug: "attestation-committee-index-unchecked",
        seed: "success.bin",
        agreed: "CommitteeIndexOutOfRange",
        derive: |sel, op, ctx| {
            // data.index = committee count + 1000: past the last committee of the epoch.
            if let Operation::Attestation(a) = op {
                a.data.index = committee_count(ctx, *sel, a.data.target.epoch) + 1000;
            }
        },
    },
    Regression {
        bug: "voluntary-exit-nocheck",
        seed: "success.bin",
        agreed: "ExitEpochInFuture",
        derive: |_, op, _| {
            // An exit valid only from epoch 2**64 - 1.
            if let Operation::VoluntaryExit(x) = op {
                x.message.epoch = u64::MAX;
            }
        },
    },
    Regression {
        bug: "proposer-index-overflow",
        seed: "success_block_header.bin",
        agreed: "ArithmeticOverflow",
        derive: |sel, _, ctx| {
            // The same block against the crafted copy of its pre-state whose effective balances
            // are 2**57 Gwei (pool source `crafted:huge-effective-balance from ...`).
            let crafted = ctx
                .manifest
                .states
                .iter()
                .find(|s| s.source.starts_with("crafted:huge-effective-balance from ") && s.source.ends_with("/success_block_header"))
                .expect("the crafted huge-effective-balance state is in the pool (diverge corpus build)");
            *sel = u16::try_from(crafted.id).expect("small pool");
        },
    },
];

/// `get_committee_count_per_slot` of pool state `selector` at `epoch`.
fn committee_count(ctx: &Context, selector: u16, epoch: u64) -> u64 {
    let id = ctx.pool.select(selector);
    let state = match ctx.pool.states.get(id) {
        Some(Ok(Some(s))) => s,
        _ => panic!("pool state {id} unavailable"),
    };
    let active = state.validators.iter().filter(|v| v.activation_epoch <= epoch && epoch < v.exit_epoch).count() as u64;
    (active / E::SLOTS_PER_EPOCH / E::TARGET_COMMITTEE_SIZE).clamp(1, E::MAX_COMMITTEES_PER_SLOT)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn regression_path(r: &Regression) -> PathBuf {
    let entry = r.entry();
    let [file] = entry.regressions else { panic!("{}: one regression file per phase0 bug", r.bug) };
    root().join("corpora/regressions").join(file.file)
}

fn context() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(|| {
        let dir = default_pool_dir(Preset::Minimal);
        let pool = diverge::pool::StatePool::<E>::load(&dir).expect("minimal pool");
        Context { manifest: pool.manifest.clone(), pool }
    })
}

/// The generator: the regression input of `r`, from its seed.
fn generate(r: &Regression) -> Vec<u8> {
    let seed_path = root().join("corpora").join(r.target().name()).join(r.seed);
    let bytes = std::fs::read(&seed_path).unwrap_or_else(|e| panic!("{}: {e}", seed_path.display()));
    let decoded = decode::<E>(r.target(), &bytes).unwrap_or_else(|e| panic!("{}: {e}", seed_path.display()));
    let (mut selector, mut operation) = (decoded.selector, decoded.operation);
    (r.derive)(&mut selector, &mut operation, context());
    let (target, out) = encode::<E>(selector, &operation);
    assert_eq!(target, r.target());
    out
}

fn session(bls: BlsMode) -> Session {
    Session::new(Preset::Minimal, &default_pool_dir(Preset::Minimal), RunnerConfig { bls, ..RunnerConfig::default() }).expect("minimal pool")
}

fn load(r: &Regression) -> Vec<u8> {
    let p = regression_path(r);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn agreed_kind(outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Agreed { verdicts, .. } => verdicts.first().map(|v| v.reason.clone().unwrap_or_else(|| v.kind.clone())),
        _ => None,
    }
}

/// The committed files are exactly the generator's output (or are rewritten with
/// `DIVERGE_WRITE_REGRESSIONS=1`).
#[test]
fn regression_files_are_generated_from_the_seeds() {
    let write = std::env::var_os("DIVERGE_WRITE_REGRESSIONS").is_some();
    for r in REGRESSIONS {
        let generated = generate(r);
        let path = regression_path(r);
        if write {
            std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
            std::fs::write(&path, &generated).expect("write");
        }
        assert_eq!(load(r), generated, "{} differs from its generator (DIVERGE_WRITE_REGRESSIONS=1 rewrites it)", path.display());
    }
}

/// This file derives an input for exactly the registry's diverge-fast bugs.
#[test]
fn derivations_cover_the_registry() {
    let here: std::collections::BTreeSet<&str> = REGRESSIONS.iter().map(|r| r.bug).collect();
    let registered: std::collections::BTreeSet<&str> = diverge::bugs::BUGS.iter().filter(|b| b.krate == diverge::bugs::FAST).map(|b| b.name).collect();
    assert_eq!(here.len(), REGRESSIONS.len(), "a bug derived twice");
    assert_eq!(here, registered, "derivations here vs diverge-fast bugs of the registry");
}

/// The diverge-fast bugs compiled into this build (from the registry): none, or several whose
/// targets differ (a build of `diverge::bugs::builds()`, as scripts/test.sh makes them).
fn enabled_bugs() -> Vec<&'static Regression> {
    let on: Vec<&Regression> = diverge::bugs::enabled()
        .into_iter()
        .filter(|b| b.krate == diverge::bugs::FAST)
        .map(|b| REGRESSIONS.iter().find(|r| r.bug == b.name).expect("a derivation per bug"))
        .collect();
    for (i, a) in on.iter().enumerate() {
        let other = on.iter().skip(i + 1).find(|b| b.target() == a.target());
        assert!(other.is_none(), "two phase0 bugs of one target in one build: {} and {:?}", a.bug, other.map(|b| b.bug));
    }
    on
}

/// Default build: every implementation agrees on every regression input, on the spec's verdict.
/// With bug features: each enabled bug's input diverges with exactly the registry's signature,
/// and the inputs of targets no enabled bug is on are still agreed on.
#[test]
fn each_regression_gives_the_verdict_this_build_expects() {
    let on = enabled_bugs();
    let s = session(BlsMode::AssumeValid);
    for r in REGRESSIONS {
        let outcome = s.run(r.target(), &load(r));
        if on.iter().any(|b| b.bug == r.bug) {
            assert_eq!(outcome.signature(), Some(r.signature()), "{}: {outcome:?}", r.bug);
        } else if !on.iter().any(|b| b.target() == r.target()) {
            let names: Vec<&str> = on.iter().map(|b| b.bug).collect();
            assert_eq!(agreed_kind(&outcome).as_deref(), Some(r.agreed), "{names:?} build, {}: {outcome:?}", r.bug);
        }
    }
}

fn replay_json(r: &Regression) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_diverge"))
        .args(["replay", regression_path(r).to_str().expect("utf-8"), "--target", r.target().name(), "--json"])
        .output()
        .expect("run diverge replay");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{}: {e}; stderr {}", r.bug, String::from_utf8_lossy(&out.stderr)))
}

/// `diverge replay` of every regression input, twice in fresh processes: identical verdicts,
/// and the status this build expects.
#[test]
fn replay_is_deterministic_across_processes() {
    let on = enabled_bugs();
    for r in REGRESSIONS {
        let (a, b) = (replay_json(r), replay_json(r));
        assert_eq!(a["verdicts"], b["verdicts"], "{}", r.bug);
        assert_eq!(a["status"], b["status"], "{}", r.bug);
        if on.iter().any(|b| b.bug == r.bug) {
            assert_eq!(a["status"], "diverged", "{}", r.bug);
            assert_eq!(a["divergence"]["signature"], r.signature(), "{}", r.bug);
        } else if !on.iter().any(|b| b.target() == r.target()) {
            assert_eq!(a["status"], "agreed", "{}", r.bug);
        }
        assert_eq!(a["verdicts"].as_array().map(Vec::len), Some(2), "{}: {a}", r.bug);
    }
}

/// Issue acceptance: under `bug-empty-attesting-indices` the built-in loop reports the divergence
/// from the shipped seeds; SIGKILLed right after its first `NEW FINDING` line, every finding it
/// reported is on disk, complete and replayable.
#[cfg(feature = "bug-empty-attesting-indices")]
#[test]
fn findings_survive_sigkill() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let tmp = tempfile::tempdir().expect("tmp");
    let findings = tmp.path().join("findings");
    let mut child = Command::new(env!("CARGO_BIN_EXE_diverge"))
        .args(["fuzz", "--target", "attestation", "--jobs", "1", "--seed", "1", "--duration", "300s", "--findings"])
        .arg(&findings)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn diverge fuzz");
    let stderr = child.stderr.take().expect("stderr");
    let mut reported: Vec<(String, PathBuf)> = Vec::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("read stderr");
        // `NEW FINDING after 1.2s: <signature> -> <dir>`
        if let Some(rest) = line.strip_prefix("NEW FINDING after ") {
            let (_, rest) = rest.split_once(": ").expect("signature");
            let (signature, dir) = rest.rsplit_once(" -> ").expect("path");
            reported.push((signature.to_string(), PathBuf::from(dir)));
            child.kill().expect("SIGKILL");
            break;
        }
    }
    let status = child.wait().expect("wait");
    assert!(!status.success(), "killed, not finished: {status:?}");
    assert!(!reported.is_empty(), "no NEW FINDING line before the loop ended");
    let expected = diverge::bugs::find("empty-attesting-indices").expect("registered").signature();
    assert!(reported.iter().any(|(s, _)| s == expected), "{reported:?}");
    // Everything on disk is complete, not only what was reported: every directory a reader sees
    // loads, none lacks its finding.json (a kill may leave only a hidden staging directory).
    let listing = diverge::findings::list(&findings);
    assert!(listing.incomplete.is_empty(), "incomplete findings: {:?}", listing.incomplete);
    let mut on_disk = 0;
    for path in &listing.findings {
        diverge::findings::load(path).unwrap_or_else(|e| panic!("incomplete finding {}: {e}", path.display()));
        on_disk += 1;
    }
    assert!(on_disk >= reported.len());
    for (signature, dir) in &reported {
        let (finding, input, _) = diverge::findings::load(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        assert_eq!(&finding.signature, signature);
        let out = Command::new(env!("CARGO_BIN_EXE_diverge")).args(["replay", dir.to_str().expect("utf-8"), "--json"]).output().expect("replay");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(report["reproduced"], true, "{report}");
        assert!(!input.is_empty());
    }
}
