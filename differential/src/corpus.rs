//! `diverge corpus build`: the state pool and the seed corpora, built from the spec vectors.
//!
//! Seeds are the vectors' own inputs combined with the selector of their pre-state in the pool
//! (architecture.md §5): `operations/<handler>` → the operation's target, `sanity/blocks` →
//! `block` (first block, state root checked) and `chain` (the case's first
//! [`MAX_CHAIN_BLOCKS`] blocks, state roots checked), `sanity/slots` → `slots`,
//! `epoch_processing/<step>` → `epoch`; and `epoch` once per pool state with the whole
//! `process_epoch` ([`EpochStep::ProcessEpoch`]). Every target directory gets a `PROVENANCE` file.

use crate::pool::{self, Manifest};
use crate::target::{encode, Target};
use crate::vectors::files;
use diverge_types::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// What a build produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BuildReport {
    /// Preset.
    pub preset: String,
    /// Pool directory.
    pub pool_dir: PathBuf,
    /// Number of distinct pool states.
    pub states: usize,
    /// Seeds written per target.
    pub seeds: BTreeMap<String, usize>,
    /// Vector files that could not be used, with path and reason.
    pub warnings: Vec<String>,
}

fn list_cases(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(suites) = std::fs::read_dir(dir) else { return out };
    for suite in suites.filter_map(Result::ok) {
        if let Ok(cases) = std::fs::read_dir(suite.path()) {
            out.extend(cases.filter_map(Result::ok).map(|c| c.path()).filter(|p| p.is_dir()));
        }
    }
    out.sort();
    out
}

/// Builds the pool under `pool_dir` (at most `max_states`, see [`pool::build`]) and the seeds
/// under `seeds_dir/<target>/` for preset `E`. Seeds whose pre-state is not in the pool are skipped
/// with a warning.
///
/// # Errors
/// Unwritable output or unreadable vector directories; unusable vector files become warnings.
pub fn build<E: EthSpec>(tests_root: &Path, pool_dir: &Path, seeds_dir: &Path, max_states: Option<usize>) -> Result<BuildReport, pool::PoolError> {
    let (manifest, mut warnings) = pool::build::<E>(tests_root, pool_dir, max_states)?;
    let by_root: HashMap<&str, usize> = manifest.states.iter().map(|s| (s.root.as_str(), s.id)).collect();
    let phase0 = tests_root.join(E::PRESET_BASE).join("phase0");
    let mut seeds: BTreeMap<Target, Vec<(String, Vec<u8>, String)>> = BTreeMap::new();

    let mut add = |case: &Path, op: Result<Operation<E>, files::FileError>, warnings: &mut Vec<String>| {
        let pre = match files::read_ssz::<BeaconState<E>>(&case.join("pre.ssz_snappy")) {
            Ok(p) => p,
            Err(e) => return warnings.push(e.to_string()),
        };
        let op = match op {
            Ok(op) => op,
            Err(e) => return warnings.push(e.to_string()),
        };
        let root = format!("{:#x}", pre.tree_hash_root());
        let Some(id) = by_root.get(root.as_str()).and_then(|id| u16::try_from(*id).ok()) else {
            return warnings.push(format!("{}: pre-state not in the pool", case.display()));
        };
        let (target, bytes) = encode(id, &op);
        let name = case.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut source = case.strip_prefix(tests_root).map(|p| p.display().to_string()).unwrap_or_default();
        if let Operation::Chain { blocks, .. } = &op {
            source.push_str(&format!(" (blocks_0..blocks_{}, state roots checked)", blocks.len().saturating_sub(1)));
        }
        seeds.entry(target).or_default().push((name, bytes, source));
    };

    for (handler, file) in [
        ("attestation", "attestation"),
        ("attester_slashing", "attester_slashing"),
        ("proposer_slashing", "proposer_slashing"),
        ("deposit", "deposit"),
        ("voluntary_exit", "voluntary_exit"),
        ("block_header", "block"),
    ] {
        for case in list_cases(&phase0.join("operations").join(handler)) {
            let path = case.join(format!("{file}.ssz_snappy"));
            let op = match handler {
                "attestation" => files::read_ssz(&path).map(Operation::Attestation),
                "attester_slashing" => files::read_ssz(&path).map(Operation::AttesterSlashing),
                "proposer_slashing" => files::read_ssz(&path).map(Operation::ProposerSlashing),
                "deposit" => files::read_ssz(&path).map(Operation::Deposit),
                "voluntary_exit" => files::read_ssz(&path).map(Operation::VoluntaryExit),
                _ => files::read_ssz(&path).map(Operation::BlockHeader),
            };
            add(&case, op, &mut warnings);
        }
    }
    for case in list_cases(&phase0.join("sanity").join("blocks")) {
        let op = files::read_ssz(&case.join("blocks_0.ssz_snappy")).map(|block| Operation::Block { block, validate_result: true });
        add(&case, op, &mut warnings);
    }
    // chain: every sanity/blocks case on its pre-state, its blocks in order (at most
    // MAX_CHAIN_BLOCKS: the eth1 voting cases have 32 and 33; their first 8 are kept).
    for case in list_cases(&phase0.join("sanity").join("blocks")) {
        let blocks = chain_blocks::<E>(&case).map(|blocks| Operation::Chain { blocks, validate_result: true });
        add(&case, blocks, &mut warnings);
    }
    for case in list_cases(&phase0.join("sanity").join("slots")) {
        let op = files::read_yaml::<u64>(&case.join("slots.yaml")).map(Operation::Slots);
        add(&case, op, &mut warnings);
    }
    for step in EpochStep::ALL {
        for case in list_cases(&phase0.join("epoch_processing").join(step.handler_name())) {
            add(&case, Ok(Operation::Epoch(step)), &mut warnings);
        }
    }

    // epoch: the whole process_epoch on every pool state (crafted ones included).
    for entry in &manifest.states {
        let Ok(id) = u16::try_from(entry.id) else { continue };
        let (target, bytes) = encode::<E>(id, &Operation::Epoch(EpochStep::ProcessEpoch));
        seeds.entry(target).or_default().push((format!("process_epoch__state_{:03}", entry.id), bytes, format!("pool state {} ({}), whole process_epoch", entry.id, entry.source)));
    }

    // ssz_decode: every ssz_static case, `[type index][serialized]` (preset-independent directory,
    // written for minimal only).
    if E::PRESET_BASE == "minimal" {
        let ssz_root = phase0.join("ssz_static");
        for (index, name) in crate::ssz_types::SSZ_TYPES.iter().enumerate() {
            for case in list_cases(&ssz_root.join(name)) {
                match files::read_ssz_snappy_bytes(&case.join("serialized.ssz_snappy")) {
                    Ok(bytes) => {
                        let mut input = vec![u8::try_from(index).unwrap_or(0)];
                        input.extend(bytes);
                        let suite = case.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                        let case_name = case.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                        let source = case.strip_prefix(tests_root).map(|p| p.display().to_string()).unwrap_or_default();
                        seeds.entry(Target::SszDecode).or_default().push((format!("{name}-{suite}-{case_name}"), input, source));
                    }
                    Err(e) => warnings.push(e.to_string()),
                }
            }
        }
    }

    let mut counts = BTreeMap::new();
    for (target, list) in &seeds {
        let dir = seeds_dir.join(target.name());
        std::fs::create_dir_all(&dir).map_err(|e| pool::PoolError::Write { path: dir.clone(), reason: e.to_string() })?;
        let mut provenance = provenance_header::<E>(*target, &manifest);
        for (name, bytes, source) in list {
            let file = format!("{name}.bin");
            crate::findings::write_atomic(&dir.join(&file), bytes).map_err(|e| pool::PoolError::Write { path: dir.join(&file), reason: e.to_string() })?;
            provenance.push_str(&format!("{file}\t{source}\n"));
        }
        crate::findings::write_atomic(&dir.join("PROVENANCE"), provenance.as_bytes())
            .map_err(|e| pool::PoolError::Write { path: dir.join("PROVENANCE"), reason: e.to_string() })?;
        counts.insert(target.name().to_string(), list.len());
    }
    Ok(BuildReport { preset: E::PRESET_BASE.to_string(), pool_dir: pool_dir.to_path_buf(), states: manifest.states.len(), seeds: counts, warnings })
}

/// The first [`MAX_CHAIN_BLOCKS`] blocks of a `sanity/blocks` case: `blocks_0`, `blocks_1`, ... up
/// to the first missing file. A case without `blocks_0` is an error (a chain has a block).
fn chain_blocks<E: EthSpec>(case: &Path) -> Result<Vec<SignedBeaconBlock<E>>, files::FileError> {
    let mut blocks = Vec::new();
    for i in 0..MAX_CHAIN_BLOCKS {
        let path = case.join(format!("blocks_{i}.ssz_snappy"));
        if !path.exists() {
            break;
        }
        blocks.push(files::read_ssz(&path)?);
    }
    if blocks.is_empty() {
        return Err(files::FileError { path: case.join("blocks_0.ssz_snappy"), reason: "no blocks: a chain seed needs one".to_string() });
    }
    Ok(blocks)
}

fn provenance_header<E: EthSpec>(target: Target, manifest: &Manifest) -> String {
    format!(
        "# Seed corpus of target `{}`, preset {}.\n\
         # Generator: diverge {} `diverge corpus build` from the official consensus-spec-tests {} (phase0).\n\
         # Input format: [state selector u16 LE][target body] (docs/architecture.md §5); the selector is the\n\
         # id of the case's pre-state in the pool corpora/states/{} ({} states, format {}).\n\
         # file\tsource vector case\n",
        target.name(),
        E::PRESET_BASE,
        env!("CARGO_PKG_VERSION"),
        manifest.spec_version,
        E::PRESET_BASE,
        manifest.states.len(),
        manifest.format,
    )
}

/// Writes [`diverge_oracle::p2p::corpus_files`] under `corpora`, removing other files of the `p2p_*` seed and
/// regression directories; returns the paths written.
///
/// # Errors
/// I/O failures, with the path.
pub fn write_p2p_corpus(corpora: &std::path::Path) -> Result<Vec<std::path::PathBuf>, String> {
    for t in diverge_oracle::p2p::P2pTarget::ALL {
        for dir in [corpora.join(t.name()), corpora.join("regressions").join(t.name())] {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().filter_map(Result::ok) {
                std::fs::remove_file(entry.path()).map_err(|e| format!("{}: {e}", entry.path().display()))?;
            }
        }
    }
    let mut written = Vec::new();
    for (rel, bytes) in diverge_oracle::p2p::corpus_files() {
        let path = corpora.join(&rel);
        crate::findings::write_atomic(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

