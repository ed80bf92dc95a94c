//! The one registry of re-injected historical bugs (design bugs.md A and B) and of the fuzz
//! targets. Everything else reads it: `diverge list` (and `--json`, `--bugs`), `scripts/test.sh`
//! (which bug builds to test), `ci/bug-smoke.sh` (a bug's target and expected signature), the
//! bug-build tests (`tests/bug_regressions.rs`, `tests/dkg_regressions.rs`, `tests/panic_hooks.rs`),
//! and `tests/registry.rs`, which fails when a Cargo feature (differential, impls/fast,
//! impls/dkg-drand, impls/p2p-port, targets), a regression file or a script disagrees with it ([`check_features`],
//! [`check_regression_files`], [`check_script`]).
//!
//! Adding a bug: gate its lines behind a new feature of the implementation crate, forward it from
//! `differential/Cargo.toml` and `targets/Cargo.toml`, add one [`BUGS`] entry here, add its
//! regression file(s) under `corpora/regressions/`.

use crate::target::{Strictness, Target};
use std::collections::BTreeMap;
use std::path::Path;

/// One regression input of a bug and what the bug build must report on it.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Regression {
    /// Path relative to `corpora/regressions/`, e.g. `attestation/empty-attesting-indices.bin`.
    pub file: &'static str,
    /// The divergence signature the bug build reports on this input (the default build agrees).
    pub signature: &'static str,
}

/// One re-injected historical bug.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Bug {
    /// The bug's name as in bugs.md (`ci/bug-smoke.sh NAME`).
    pub name: &'static str,
    /// The Cargo feature, identical in the implementation crate, in `diverge` (which forwards it)
    /// and in `targets/` (which forwards it to `diverge`).
    pub feature: &'static str,
    /// Other bug features this one turns on (in every crate's forwarding).
    pub implies: &'static [&'static str],
    /// The implementation crate the bug is re-injected into.
    #[serde(rename = "crate")]
    pub krate: &'static str,
    /// The fuzz target whose inputs reveal it.
    #[serde(serialize_with = "target_name")]
    pub target: Target,
    /// Upstream reference: client and issue / PR / commit (bugs.md).
    pub upstream: &'static str,
    /// What went wrong upstream, in one line.
    pub summary: &'static str,
    /// Its regression inputs under `corpora/regressions/` and their expected signatures; the
    /// first one's signature is the bug's signature.
    pub regressions: &'static [Regression],
}

impl Bug {
    /// The expected divergence signature (of the first regression input).
    pub fn signature(&self) -> &'static str {
        self.regressions.first().map_or("", |r| r.signature)
    }

    /// Whether this build has the bug compiled in (its feature, or one implying it, is on).
    pub fn enabled(&self) -> bool {
        enabled_features().contains(&self.feature)
    }
}

fn target_name<S: serde::Serializer>(t: &Target, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(t.name())
}

/// The implementation crate of the phase0 bugs.
pub const FAST: &str = "diverge-fast";
/// The implementation crate of the drand DKG bugs.
pub const DRAND: &str = "dkg-drand";
/// The implementation crate of the network incidents (issue 15).
pub const P2P: &str = "p2p-port";

macro_rules! bugs {
    ($($feature:tt => $bug:expr;)*) => {
        /// Every re-injected bug, phase0 (bugs.md A, in diverge-fast) first, then drand DKG
        /// (bugs.md B, in dkg-drand), then the network incidents (issue 15, in p2p-port).
        pub const BUGS: &[Bug] = &[$($bug,)*];

        /// The bug features compiled into this build of `diverge` (implied ones included).
        pub fn enabled_features() -> Vec<&'static str> {
            let mut on = Vec::new();
            // `cfg!` over the same literals as BUGS: rustc's check-cfg rejects (under -D warnings)
            // a feature that `diverge` does not declare.
            $(if cfg!(feature = $feature) { on.push($feature); })*
            on
        }
    };
}

const fn phase0(name: &'static str, feature: &'static str, target: Target, upstream: &'static str, summary: &'static str, regressions: &'static [Regression]) -> Bug {
    Bug { name, feature, implies: &[], krate: FAST, target, upstream, summary, regressions }
}

const fn r(file: &'static str, signature: &'static str) -> Regression {
    Regression { file, signature }
}

bugs! {
    "bug-empty-attesting-indices" => phase0("empty-attesting-indices", "bug-empty-attesting-indices", Target::Attestation,
        "Prysm PR 6983", "the batch path skipped is_valid_indexed_attestation: empty attesting indices accepted",
        &[r("attestation/empty-attesting-indices.bin", "attestation: spec-vs-fast: IndexedAttestationEmpty/valid")]);
    "bug-committee-index-eq-count" => phase0("committee-index-eq-count", "bug-committee-index-eq-count", Target::Attestation,
        "Prysm PR 7684, specs PR 2119", "data.index == committee_count accepted (<= for <)",
        &[r("attestation/committee-index-eq-count.bin", "attestation: spec-vs-fast: CommitteeIndexOutOfRange/valid")]);
    "bug-proposer-slashing-epoch" => phase0("proposer-slashing-epoch", "bug-proposer-slashing-epoch", Target::ProposerSlashing,
        "Prysm PR 7725", "proposer slashability checked at the headers' epoch, not the state's current epoch",
        &[r("proposer_slashing/proposer-slashing-epoch.bin", "proposer_slashing: spec-vs-fast: ProposerNotSlashable/valid")]);
    "bug-proposer-slashing-signed-header-compare" => phase0("proposer-slashing-signed-header-compare", "bug-proposer-slashing-signed-header-compare", Target::ProposerSlashing,
        "Prysm PR 7252, Teku PR 3151", "compared the signed headers: equal headers with different signatures slashed",
        &[r("proposer_slashing/proposer-slashing-signed-header-compare.bin", "proposer_slashing: spec-vs-fast: ProposerSlashingHeadersEqual/valid")]);
    "bug-attester-slashing-index-unchecked" => phase0("attester-slashing-index-unchecked", "bug-attester-slashing-index-unchecked", Target::AttesterSlashing,
        "Teku #2345, Nimbus #1207", "attesting indices not range-checked: out-of-bounds crash",
        &[r("attester_slashing/attester-slashing-index-unchecked.bin", "attester_slashing: spec-vs-fast: ValidatorIndexOutOfRange/crash")]);
    "bug-proposer-slashing-overflow" => phase0("proposer-slashing-overflow", "bug-proposer-slashing-overflow", Target::ProposerSlashing,
        "Nimbus #1323, nimbus-eth2 PR 1325", "uint64 -> int conversion of the proposer index raised on values above high(int)",
        &[r("proposer_slashing/proposer-slashing-overflow.bin", "proposer_slashing: spec-vs-fast: ValidatorIndexOutOfRange/crash")]);
    "bug-deposit-merkle-unchecked" => phase0("deposit-merkle-unchecked", "bug-deposit-merkle-unchecked", Target::Deposit,
        "Nimbus #703", "deposit Merkle proof not verified: minted ETH",
        &[r("deposit/deposit-merkle-unchecked.bin", "deposit: spec-vs-fast: DepositInvalidMerkleProof/valid")]);
    "bug-attestation-committee-index-unchecked" => phase0("attestation-committee-index-unchecked", "bug-attestation-committee-index-unchecked", Target::Attestation,
        "Nimbus #659", "no data.index < committee_count check: assertion crash",
        &[r("attestation/attestation-committee-index-unchecked.bin", "attestation: spec-vs-fast: CommitteeIndexOutOfRange/crash")]);
    "bug-voluntary-exit-nocheck" => phase0("voluntary-exit-nocheck", "bug-voluntary-exit-nocheck", Target::VoluntaryExit,
        "Prysm PR 6986", "a fast path skipped the exit pre-conditions (active, exit epoch, shard period)",
        &[r("voluntary_exit/voluntary-exit-nocheck.bin", "voluntary_exit: spec-vs-fast: ExitEpochInFuture/valid")]);
    "bug-proposer-index-overflow" => phase0("proposer-index-overflow", "bug-proposer-index-overflow", Target::BlockHeader,
        "Lighthouse PR 1009, specs #1701", "effective_balance * MAX_RANDOM_BYTE overflowed in compute_proposer_index on an invalid state",
        &[r("block_header/proposer-index-overflow.bin", "block_header: spec-vs-fast: ArithmeticOverflow/crash")]);
    "pre1318" => Bug {
        name: "pre1318", feature: "pre1318", implies: &["pre1343"], krate: DRAND, target: Target::DkgSequence,
        upstream: "drand PR #1318, commits 9d038bea and b67223df",
        summary: "a proposal after an abort was validated against the aborted interim state (February 2024 testnet ceremony outage)",
        regressions: &[
            r("dkg_sequence/pr1318-abort-restart-4.1.bin", "dkg_sequence: drand-vs-spec: MissingNodesInProposal/Ok"),
            r("dkg_sequence/pr1318-abort-restart-3a.bin", "dkg_sequence: drand-vs-spec: Ok/RemainingAndLeavingNodesMustExistInCurrentEpoch"),
            r("dkg_sequence/pr1318-abort-restart-3b.bin", "dkg_sequence: drand-vs-spec: Ok/InvalidEpoch"),
        ],
    };
    "pre1343" => Bug {
        name: "pre1343", feature: "pre1343", implies: &[], krate: DRAND, target: Target::DkgPacket,
        upstream: "drand PR #1343, commit cea992fe",
        summary: "reshare validated against the last proposal's Remaining+Joining instead of the final group",
        regressions: &[
            r("dkg_packet/pr1343-qual-without-c.bin", "dkg_packet: drand-vs-spec: MissingNodesInProposal/Ok"),
            r("dkg_packet/pr1343-qual-with-c.bin", "dkg_packet: drand-vs-spec: Ok/RemainingAndLeavingNodesMustExistInCurrentEpoch"),
        ],
    };
    "short-signature-slice" => Bug {
        name: "short-signature-slice", feature: "short-signature-slice", implies: &[], krate: DRAND, target: Target::DkgPacket,
        upstream: "drand commit 2b3b9b31",
        summary: "the hex signature was sliced [0:8] before its length was checked: panic on a short signature",
        regressions: &[r("dkg_packet/2b3b9b31-short-signature.bin", "dkg_packet: drand-vs-spec: Crash/PacketSignatureTooShort")],
    };
    "near-announce-exact-match" => Bug {
        name: "near-announce-exact-match", feature: "near-announce-exact-match", implies: &[], krate: P2P, target: Target::P2pAnnounce,
        upstream: "nearcore PR 1688 (Stake Wars, November 2019)",
        summary: "announcements checked against the routing table by exact match: two epochs' announcements overwrite each other and every overwrite is rebroadcast (message storm)",
        regressions: &[r("p2p_announce/near-announce-exact-match.bin", "p2p_announce: port: amplification")],
    };
    "near-announce-cache-unpruned" => Bug {
        name: "near-announce-cache-unpruned", feature: "near-announce-cache-unpruned", implies: &[], krate: P2P, target: Target::P2pAnnounce,
        upstream: "the class of nearcore PR 1706 (ShardsManager caches never pruned; a stand-in cache, not its code)",
        summary: "the cache of view-client requests in flight drops a request only when the answer kept something: every stale batch received stays (a slow leak, within the cache's capacity)",
        regressions: &[r("p2p_announce/near-announce-cache-unpruned.bin", "p2p_announce: port: leak")],
    };
    "spacemesh-session-cache-evict" => Bug {
        name: "spacemesh-session-cache-evict", feature: "spacemesh-session-cache-evict", implies: &[], krate: P2P, target: Target::P2pSessionCache,
        upstream: "go-spacemesh, Tweedledee testnet (netid 116)",
        summary: "a new incoming session while the session cache is full, with an old session to replace, panics on eviction",
        regressions: &[r("p2p_session_cache/spacemesh-session-cache-evict.bin", "p2p_session_cache: port: crash")],
    };
    "harmony-simultaneous-init" => Bug {
        name: "harmony-simultaneous-init", feature: "harmony-simultaneous-init", implies: &[], krate: P2P, target: Target::P2pStreamSetup,
        upstream: "harmony stream sync, October 2021 (cooldown in discovery and the stream manager)",
        summary: "below the low stream threshold discovery runs at once; two peers that find each other both send INIT, both setups fail, both retry (setup storm)",
        regressions: &[r("p2p_stream_setup/harmony-simultaneous-init.bin", "p2p_stream_setup: port: amplification")],
    };
}

/// Bug features that cannot be compiled into one build together, as groups: a clippy pass over
/// all bug code builds each group separately (empty: every bug feature composes with the others).
pub const CONFLICTING: &[&[&str]] = &[];

/// A bug by name or feature.
pub fn find(name: &str) -> Option<&'static Bug> {
    BUGS.iter().find(|b| b.name == name || b.feature == name)
}

/// The bugs compiled into this build (implied ones included).
pub fn enabled() -> Vec<&'static Bug> {
    BUGS.iter().filter(|b| b.enabled()).collect()
}

/// The targets a bug's build touches: its own and those of the bugs it implies.
fn touched_targets(bug: &Bug) -> Vec<Target> {
    let implied = bug.implies.iter().filter_map(|f| find(f)).map(|b| b.target);
    std::iter::once(bug.target).chain(implied).collect()
}

/// One build of `diverge` with several bug features compiled in, for testing them together.
#[derive(Clone, Debug)]
pub struct BugBuild {
    /// The bugs whose features this build turns on (implied bugs are on too, see [`Bug::implies`]).
    pub bugs: Vec<&'static Bug>,
}

impl BugBuild {
    /// The features, comma-separated, for `cargo --features` of `diverge`.
    pub fn features(&self) -> String {
        self.bugs.iter().map(|b| b.feature).collect::<Vec<_>>().join(",")
    }

    /// The implementation crates the bugs live in, comma-separated, registry order, no repeats.
    pub fn crates(&self) -> String {
        let mut out: Vec<&str> = Vec::new();
        for b in &self.bugs {
            if !out.contains(&b.krate) {
                out.push(b.krate);
            }
        }
        out.join(",")
    }
}

/// Every bug of [`BUGS`] in as few builds as the targets allow: a bug joins the first build none of
/// whose bugs touches a target it touches (implied bugs count), so within one build each target
/// reveals at most one bug and a bug-build test can still ask every other target's regression for
/// the fixed verdict. `scripts/test.sh` runs the bug-build tests once per build (`diverge list
/// --bug-builds`): 3 builds for the 16 bugs instead of 14 (one per phase0 or drand bug), the largest cost of CI's test step.
pub fn builds() -> Vec<BugBuild> {
    let mut builds: Vec<(Vec<Target>, BugBuild)> = Vec::new();
    for bug in BUGS {
        let touched = touched_targets(bug);
        match builds.iter_mut().find(|(taken, _)| !touched.iter().any(|t| taken.contains(t))) {
            Some((taken, build)) => {
                taken.extend(touched);
                build.bugs.push(bug);
            }
            None => builds.push((touched, BugBuild { bugs: vec![bug] })),
        }
    }
    builds.into_iter().map(|(_, b)| b).collect()
}

/// A fuzz target as listed by `diverge list`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TargetEntry {
    /// Name (command line, signatures).
    pub name: &'static str,
    /// Default reason strictness.
    pub strictness: Strictness,
    /// Seed corpus, relative to the repository root.
    pub seed_dir: String,
}

/// Every fuzz target with its strictness and seed directory (`corpora/<name>`).
pub fn targets() -> Vec<TargetEntry> {
    Target::ALL.iter().map(|t| TargetEntry { name: t.name(), strictness: t.strictness(), seed_dir: format!("corpora/{}", t.name()) }).collect()
}

/// The features a crate is expected to declare for the bugs, with their forwarding lists.
///
/// - the implementation crate `krate` (`diverge-fast`, `dkg-drand`, `p2p-port`): each of its bugs' features,
///   turning on the features it implies;
/// - `diverge`: every bug feature, forwarding `<crate>/<feature>` and the implied features;
/// - `diverge-targets`: every bug feature, forwarding `diverge/<feature>`.
pub fn expected_features(krate: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for b in BUGS {
        let implied = b.implies.iter().map(|f| (*f).to_owned());
        let forward: Vec<String> = match krate {
            "diverge-oracle" => std::iter::once(format!("{}/{}", b.krate, b.feature)).chain(implied).collect(),
            "diverge" => std::iter::once(format!("diverge-oracle/{}", b.feature)).chain(implied).collect(),
            "diverge-targets" => vec![format!("diverge/{}", b.feature)],
            k if k == b.krate => implied.collect(),
            _ => continue,
        };
        out.insert(b.feature.to_owned(), forward);
    }
    out
}

/// Compares a crate's `[features]` table with [`expected_features`]: returns one line per
/// disagreement (missing feature, feature not in the registry, forwarding that differs; order of
/// a forwarding list does not matter). Features named in `other` (e.g. `default`, `libfuzzer`)
/// are not bug features and are ignored.
pub fn check_features(krate: &str, declared: &BTreeMap<String, Vec<String>>, other: &[&str]) -> Vec<String> {
    let expected = expected_features(krate);
    let mut problems = Vec::new();
    for (feature, want) in &expected {
        match declared.get(feature) {
            None => problems.push(format!("{krate}: bug feature {feature:?} of the registry is not declared")),
            Some(got) => {
                let (mut g, mut w) = (got.clone(), want.clone());
                g.sort();
                w.sort();
                if g != w {
                    problems.push(format!("{krate}: feature {feature:?} = {got:?}, the registry expects {want:?}"));
                }
            }
        }
    }
    for feature in declared.keys() {
        if !expected.contains_key(feature) && !other.contains(&feature.as_str()) {
            problems.push(format!("{krate}: feature {feature:?} is not a bug of the registry (differential/oracle/src/bugs.rs)"));
        }
    }
    problems
}

/// Regression files that belong to no re-injected bug, each with the test that replays it and what
/// it pins (they diverge, or agree, on the default build).
pub const OTHER_REGRESSIONS: &[(&str, &str)] = &[
    (
        "dkg_packet/identity-key-joiner.bin",
        "differential/tests/dkg_decoding.rs: drand's pinned stack accepts the identity key (the known hazard IdentityKeyAccepted), the model rejects it",
    ),
    (
        "dkg_sequence/uncompressed-reencoded-seen-signature.bin",
        "differential/tests/dkg_decoding.rs: neither implementation lets an uncompressed re-encoding of a seen signature bypass SeenPackets",
    ),
];

/// Features of `diverge` that are not bugs: the test-only fault injection of the isolation tests.
pub const OTHER_DIVERGE_FEATURES: &[&str] = &["fault-injection"];

/// Compares the registry's regression files with the `.bin` files found below
/// `corpora/regressions/` (`found`: paths relative to it): one line per registered file that is
/// missing and per file no bug claims.
pub fn check_regression_files(found: &[String]) -> Vec<String> {
    let registered: Vec<&str> = BUGS.iter().flat_map(|b| b.regressions.iter().map(|r| r.file)).chain(OTHER_REGRESSIONS.iter().map(|(f, _)| *f)).collect();
    let mut problems = Vec::new();
    for f in &registered {
        if !found.iter().any(|x| x == f) {
            problems.push(format!("corpora/regressions/{f}: registered but missing"));
        }
    }
    for f in found {
        if !registered.contains(&f.as_str()) {
            problems.push(format!("corpora/regressions/{f}: no bug of the registry claims it (nor OTHER_REGRESSIONS)"));
        }
    }
    problems
}

/// Checks a script that must take its bug list from the registry: it mentions no bug name or
/// feature of its own (`allowed`: names it may use, e.g. a default), and asks `diverge list`.
pub fn check_script(name: &str, text: &str, allowed: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    if !text.contains("list --bugs") && !text.contains("list --bug-builds") {
        problems.push(format!("{name}: does not read the registry (`diverge list --bugs` or `--bug-builds`)"));
    }
    for b in BUGS {
        let words: &[&str] = if b.name == b.feature { &[b.name] } else { &[b.name, b.feature] };
        for word in words {
            if !allowed.contains(word) && contains_word(text, word) {
                problems.push(format!("{name}: names bug {word:?} itself instead of reading the registry"));
            }
        }
    }
    for a in allowed {
        if find(a).is_none() {
            problems.push(format!("{name}: uses {a:?}, which is not a bug of the registry"));
        }
    }
    problems
}

/// `word` occurs in `text` delimited by characters that cannot be part of a bug name.
fn contains_word(text: &str, word: &str) -> bool {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text.get(..i).and_then(|s| s.chars().next_back());
        let after = text.get(i + word.len()..).and_then(|s| s.chars().next());
        !before.is_some_and(is_name) && !after.is_some_and(is_name)
    })
}

/// The `[features]` table of a Cargo.toml, for [`check_features`]: `name = ["a", "b"]` lines
/// (one per feature, as every manifest of this workspace writes them).
///
/// # Errors
/// A line in the table that is not of that form.
pub fn parse_features(manifest: &str) -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut out = BTreeMap::new();
    let mut inside = false;
    for (n, line) in manifest.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == "[features]";
            continue;
        }
        if !inside || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = line.split_once('=').and_then(|(name, list)| {
            let list = list.trim().strip_prefix('[')?.strip_suffix(']')?;
            let items = list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| s.trim_matches('"').to_owned()).collect();
            Some((name.trim().trim_matches('"').to_owned(), items))
        });
        let (name, items) = parsed.ok_or_else(|| format!("line {}: not `name = [..]`: {line}", n + 1))?;
        out.insert(name, items);
    }
    Ok(out)
}

/// Every problem between the registry and the repository at `root`: the five manifests, the
/// regression files, `scripts/test.sh` and `ci/bug-smoke.sh` (whose default bug must be
/// registered).
pub fn check_repository(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let manifests: [(&str, &str, &[&str]); 6] = [
        ("diverge-oracle", "differential/oracle/Cargo.toml", OTHER_DIVERGE_FEATURES),
        ("diverge", "differential/Cargo.toml", OTHER_DIVERGE_FEATURES),
        (FAST, "impls/fast/Cargo.toml", &[]),
        (DRAND, "impls/dkg-drand/Cargo.toml", &["default"]),
        (P2P, "impls/p2p-port/Cargo.toml", &["default"]),
        ("diverge-targets", "targets/Cargo.toml", &["default", "libfuzzer", "afl", "honggfuzz"]),
    ];
    for (krate, path, other) in manifests {
        match std::fs::read_to_string(root.join(path)).map_err(|e| e.to_string()).and_then(|t| parse_features(&t)) {
            Ok(declared) => problems.extend(check_features(krate, &declared, other)),
            Err(e) => problems.push(format!("{path}: {e}")),
        }
    }
    let dir = root.join("corpora/regressions");
    let mut found = Vec::new();
    match std::fs::read_dir(&dir) {
        Ok(entries) => {
            for sub in entries.filter_map(Result::ok).filter(|e| e.path().is_dir()) {
                let files = std::fs::read_dir(sub.path()).into_iter().flatten().filter_map(Result::ok);
                for f in files.filter(|f| f.path().extension().is_some_and(|x| x == "bin")) {
                    found.push(format!("{}/{}", sub.file_name().to_string_lossy(), f.file_name().to_string_lossy()));
                }
            }
        }
        Err(e) => problems.push(format!("{}: {e}", dir.display())),
    }
    problems.extend(check_regression_files(&found));
    for (path, allowed) in [("scripts/test.sh", &[][..]), ("ci/bug-smoke.sh", &[BUG_SMOKE_DEFAULT][..])] {
        match std::fs::read_to_string(root.join(path)) {
            Ok(text) => problems.extend(check_script(path, &text, allowed)),
            Err(e) => problems.push(format!("{path}: {e}")),
        }
    }
    problems
}

/// The bug `ci/bug-smoke.sh` fuzzes when given none (CI's smoke job).
pub const BUG_SMOKE_DEFAULT: &str = "attestation-committee-index-unchecked";
