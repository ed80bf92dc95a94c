//! Per-runner case logic: what each runner's files mean and how a result is judged.
//! Formats: consensus-specs v1.1.10 `tests/formats/<runner>/`.

use super::files::{self, FileError};
use super::{Case, Outcome};
use crate::diff::first_state_difference;
use crate::registry::{implementations, Implementation};
use diverge_types::ssz::{Decode, Encode};
use diverge_types::ssz_types::{typenum::U1099511627776, VariableList};
use diverge_types::*;
use ssz_derive::{Decode as DeriveDecode, Encode as DeriveEncode};
use std::path::Path;

/// Runners Diverge understands. Any other runner found is listed as skipped.
pub const SUPPORTED_RUNNERS: &[&str] =
    &["ssz_static", "shuffling", "operations", "epoch_processing", "sanity", "finality", "random", "rewards", "genesis"];

/// The pseudo-implementation name under which `ssz_static` results are reported: SSZ and
/// merkleization are shared by all implementations (diverge-types).
pub const SSZ_IMPLEMENTATION: &str = "ssz";

const OPERATION_HANDLERS: &[&str] =
    &["attestation", "attester_slashing", "block_header", "deposit", "proposer_slashing", "voluntary_exit"];
const SANITY_HANDLERS: &[&str] = &["blocks", "slots"];
const REWARDS_HANDLERS: &[&str] = &["basic", "leak", "random"];
const GENESIS_HANDLERS: &[&str] = &["initialization", "validity"];

/// `None` when the runner/handler pair is supported, else why it is skipped.
pub(super) fn unsupported_reason(runner: &str, handler: &str) -> Option<String> {
    let known_handler = match runner {
        "ssz_static" => crate::ssz_types::SSZ_TYPES.contains(&handler),
        "shuffling" => handler == "core",
        "operations" => OPERATION_HANDLERS.contains(&handler),
        "epoch_processing" => EpochStep::from_handler_name(handler).is_some(),
        "sanity" => SANITY_HANDLERS.contains(&handler),
        "finality" => handler == "finality",
        "random" => handler == "random",
        "rewards" => REWARDS_HANDLERS.contains(&handler),
        "genesis" => GENESIS_HANDLERS.contains(&handler),
        _ => return Some(format!("runner {runner:?} is not a phase0 runner Diverge knows (supported: {})", SUPPORTED_RUNNERS.join(", "))),
    };
    (!known_handler).then(|| format!("handler {handler:?} of runner {runner:?} is not part of phase0"))
}

/// `Deltas` container of the `rewards` format.
#[derive(DeriveEncode, DeriveDecode)]
struct SszDeltas {
    rewards: VariableList<u64, U1099511627776>,
    penalties: VariableList<u64, U1099511627776>,
}

/// A case's inputs and expected result, read once and shared by every implementation. One per
/// case, so the variants' size difference does not matter.
#[allow(clippy::large_enum_variant, reason = "one short-lived value per case")]
enum Loaded<E: EthSpec> {
    Transition { pre: BeaconState<E>, ops: Vec<Operation<E>>, bls: BlsMode, post: Option<BeaconState<E>> },
    Shuffling { seed: Root, count: u64, mapping: Vec<u64> },
    Rewards { pre: BeaconState<E>, expected: RewardsDeltas },
    Genesis { block_hash: Root, timestamp: u64, deposits: Vec<Deposit>, expected: BeaconState<E> },
    GenesisValidity { state: BeaconState<E>, expected: bool },
}

fn bls_mode(dir: &Path) -> Result<BlsMode, FileError> {
    // bls_setting 2: signatures are fake and must not be checked. 0 (optional) and 1 (required):
    // the vectors carry real signatures, so they are verified.
    Ok(if files::read_meta(dir)?.bls_setting == 2 { BlsMode::AssumeValid } else { BlsMode::Real })
}

fn operation<E: EthSpec>(handler: &str, dir: &Path) -> Result<Operation<E>, FileError> {
    Ok(match handler {
        "attestation" => Operation::Attestation(files::read_ssz(&dir.join("attestation.ssz_snappy"))?),
        "attester_slashing" => Operation::AttesterSlashing(files::read_ssz(&dir.join("attester_slashing.ssz_snappy"))?),
        "block_header" => Operation::BlockHeader(files::read_ssz(&dir.join("block.ssz_snappy"))?),
        "deposit" => Operation::Deposit(files::read_ssz(&dir.join("deposit.ssz_snappy"))?),
        "proposer_slashing" => Operation::ProposerSlashing(files::read_ssz(&dir.join("proposer_slashing.ssz_snappy"))?),
        _ => Operation::VoluntaryExit(files::read_ssz(&dir.join("voluntary_exit.ssz_snappy"))?),
    })
}

fn read_deltas(dir: &Path, name: &str) -> Result<Deltas, FileError> {
    let d: SszDeltas = files::read_ssz(&dir.join(format!("{name}_deltas.ssz_snappy")))?;
    Ok(Deltas { rewards: d.rewards.to_vec(), penalties: d.penalties.to_vec() })
}

#[derive(serde::Deserialize)]
struct ShufflingMapping {
    seed: String,
    count: u64,
    mapping: Vec<u64>,
}

#[derive(serde::Deserialize)]
struct Eth1Yaml {
    eth1_block_hash: String,
    eth1_timestamp: u64,
}

fn load<E: EthSpec>(case: &Case) -> Result<Loaded<E>, FileError> {
    let dir = case.dir.as_path();
    let pre = || files::read_ssz::<BeaconState<E>>(&dir.join("pre.ssz_snappy"));
    let post = || files::read_ssz_opt::<BeaconState<E>>(&dir.join("post.ssz_snappy"));
    Ok(match (case.runner.as_str(), case.handler.as_str()) {
        ("shuffling", _) => {
            let path = dir.join("mapping.yaml");
            let m: ShufflingMapping = files::read_yaml(&path)?;
            Loaded::Shuffling { seed: Root::from(files::parse_hex::<32>(&path, &m.seed)?), count: m.count, mapping: m.mapping }
        }
        ("operations", handler) => {
            Loaded::Transition { pre: pre()?, ops: vec![operation(handler, dir)?], bls: bls_mode(dir)?, post: post()? }
        }
        ("epoch_processing", handler) => {
            let step = EpochStep::from_handler_name(handler).unwrap_or(EpochStep::JustificationAndFinalization);
            Loaded::Transition { pre: pre()?, ops: vec![Operation::Epoch(step)], bls: bls_mode(dir)?, post: post()? }
        }
        ("sanity", "slots") => {
            let slots: u64 = files::read_yaml(&dir.join("slots.yaml"))?;
            Loaded::Transition { pre: pre()?, ops: vec![Operation::Slots(slots)], bls: bls_mode(dir)?, post: post()? }
        }
        ("sanity", _) | ("finality", _) | ("random", _) => {
            let meta = files::read_meta(dir)?;
            let count = meta.blocks_count.ok_or_else(|| FileError {
                path: dir.join("meta.yaml"),
                reason: "missing blocks_count".to_string(),
            })?;
            let ops = (0..count)
                .map(|i| {
                    files::read_ssz(&dir.join(format!("blocks_{i}.ssz_snappy")))
                        .map(|block| Operation::Block { block, validate_result: true })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Loaded::Transition { pre: pre()?, ops, bls: bls_mode(dir)?, post: post()? }
        }
        ("rewards", _) => Loaded::Rewards {
            pre: pre()?,
            expected: RewardsDeltas {
                source: read_deltas(dir, "source")?,
                target: read_deltas(dir, "target")?,
                head: read_deltas(dir, "head")?,
                inclusion_delay: read_deltas(dir, "inclusion_delay")?,
                inactivity_penalty: read_deltas(dir, "inactivity_penalty")?,
            },
        },
        ("genesis", "initialization") => {
            let path = dir.join("eth1.yaml");
            let eth1: Eth1Yaml = files::read_yaml(&path)?;
            let meta = files::read_meta(dir)?;
            let count = meta.deposits_count.ok_or_else(|| FileError {
                path: dir.join("meta.yaml"),
                reason: "missing deposits_count".to_string(),
            })?;
            let deposits = (0..count)
                .map(|i| files::read_ssz(&dir.join(format!("deposits_{i}.ssz_snappy"))))
                .collect::<Result<Vec<_>, _>>()?;
            Loaded::Genesis {
                block_hash: Root::from(files::parse_hex::<32>(&path, &eth1.eth1_block_hash)?),
                timestamp: eth1.eth1_timestamp,
                deposits,
                expected: files::read_ssz(&dir.join("state.ssz_snappy"))?,
            }
        }
        (_, _) => Loaded::GenesisValidity {
            state: files::read_ssz(&dir.join("genesis.ssz_snappy"))?,
            expected: files::read_yaml(&dir.join("is_valid.yaml"))?,
        },
    })
}

fn judge_transition<E: EthSpec>(got: Result<BeaconState<E>, Reject>, expected: Option<&BeaconState<E>>) -> Outcome {
    match (got, expected) {
        (Ok(state), Some(post)) => match first_state_difference(post, &state) {
            None => Outcome::Passed,
            Some(d) => Outcome::Failed(format!("post-state differs at {} (expected {}, got {})", d.path, d.left, d.right)),
        },
        (Err(reason), Some(_)) => Outcome::Failed(format!("rejected with {reason}, expected a valid post-state")),
        (Err(_), None) => Outcome::Passed,
        (Ok(_), None) => Outcome::Failed("accepted, expected the input to be rejected (no post-state)".to_string()),
    }
}

fn first_deltas_mismatch(expected: &RewardsDeltas, got: &RewardsDeltas) -> Option<String> {
    let parts = [
        ("source", &expected.source, &got.source),
        ("target", &expected.target, &got.target),
        ("head", &expected.head, &got.head),
        ("inclusion_delay", &expected.inclusion_delay, &got.inclusion_delay),
        ("inactivity_penalty", &expected.inactivity_penalty, &got.inactivity_penalty),
    ];
    for (name, e, g) in parts {
        for (kind, ev, gv) in [("rewards", &e.rewards, &g.rewards), ("penalties", &e.penalties, &g.penalties)] {
            if ev != gv {
                let at = ev.iter().zip(gv.iter()).position(|(a, b)| a != b);
                return Some(match at {
                    Some(i) => format!("{name}_deltas.{kind}[{i}]: expected {}, got {}", ev[i], gv[i]),
                    None => format!("{name}_deltas.{kind}: expected {} entries, got {}", ev.len(), gv.len()),
                });
            }
        }
    }
    None
}

fn run_one<E: EthSpec>(imp: &dyn Implementation<E>, loaded: &Loaded<E>) -> Outcome {
    match loaded {
        Loaded::Transition { pre, ops, bls, post } => judge_transition(imp.transition(pre, ops, *bls), post.as_ref()),
        Loaded::Shuffling { seed, count, mapping } => {
            for (i, want) in (0..*count).zip(mapping.iter()) {
                match imp.compute_shuffled_index(i, *count, seed) {
                    Ok(got) if got == *want => {}
                    Ok(got) => return Outcome::Failed(format!("compute_shuffled_index({i}, {count}) = {got}, expected {want}")),
                    Err(r) => return Outcome::Failed(format!("compute_shuffled_index({i}, {count}) rejected: {r}")),
                }
            }
            if mapping.len() as u64 != *count {
                return Outcome::Failed(format!("mapping has {} entries for count {count}", mapping.len()));
            }
            Outcome::Passed
        }
        Loaded::Rewards { pre, expected } => match imp.get_rewards_deltas(pre) {
            Ok(got) => match first_deltas_mismatch(expected, &got) {
                None => Outcome::Passed,
                Some(m) => Outcome::Failed(m),
            },
            Err(r) => Outcome::Failed(format!("rejected with {r}, expected deltas")),
        },
        Loaded::Genesis { block_hash, timestamp, deposits, expected } => {
            judge_transition(imp.initialize_beacon_state_from_eth1(*block_hash, *timestamp, deposits), Some(expected))
        }
        Loaded::GenesisValidity { state, expected } => match imp.is_valid_genesis_state(state) {
            Ok(got) if got == *expected => Outcome::Passed,
            Ok(got) => Outcome::Failed(format!("is_valid_genesis_state = {got}, expected {expected}")),
            Err(r) => Outcome::Failed(format!("rejected with {r}, expected {expected}")),
        },
    }
}

/// Runs `case` through the implementations named in `selected` (all when empty).
pub(super) fn run_case<E: EthSpec>(case: &Case, selected: &[String]) -> Vec<(String, Outcome)> {
    if case.runner == "ssz_static" {
        return vec![(SSZ_IMPLEMENTATION.to_string(), ssz_static::<E>(&case.handler, &case.dir))];
    }
    let imps: Vec<Box<dyn Implementation<E>>> = implementations::<E>()
        .into_iter()
        .filter(|i| selected.is_empty() || selected.iter().any(|s| s == i.name()))
        .collect();
    let loaded = load::<E>(case);
    imps.iter()
        .map(|imp| {
            let outcome = match &loaded {
                Err(e) => Outcome::Failed(format!("unreadable case file {e}")),
                Ok(l) => crate::panics::catch(|| run_one(imp.as_ref(), l))
                    .unwrap_or_else(|p| Outcome::Failed(format!("CRASH: {} panicked: {}", imp.name(), crate::panics::message(p.as_ref())))),
            };
            (imp.name().to_string(), outcome)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// ssz_static

#[derive(serde::Deserialize)]
struct Roots {
    root: String,
}

struct CheckStatic<'a>(&'a Path);

impl crate::ssz_types::SszVisitor for CheckStatic<'_> {
    type Output = Result<Option<String>, FileError>;
    fn visit<T: Encode + Decode + TreeHash + 'static>(self, _name: &'static str) -> Self::Output {
        let dir = self.0;
        let path = dir.join("serialized.ssz_snappy");
        let bytes = files::read_ssz_snappy_bytes(&path)?;
        let value = match T::from_ssz_bytes(&bytes) {
            Ok(v) => v,
            Err(e) => return Ok(Some(format!("decoding {} failed: {e:?}", path.display()))),
        };
        if value.as_ssz_bytes() != bytes {
            return Ok(Some("re-encoding differs from serialized.ssz_snappy".to_string()));
        }
        let roots_path = dir.join("roots.yaml");
        let roots: Roots = files::read_yaml(&roots_path)?;
        let want = Root::from(files::parse_hex::<32>(&roots_path, &roots.root)?);
        let got = value.tree_hash_root();
        Ok((got != want).then(|| format!("hash_tree_root {got} != expected {want}")))
    }
}

fn ssz_static<E: EthSpec>(handler: &str, dir: &Path) -> Outcome {
    match crate::ssz_types::with_ssz_type::<E, _>(handler, CheckStatic(dir)).unwrap_or_else(|| Ok(Some(format!("unknown ssz_static type {handler}")))) {
        Ok(None) => Outcome::Passed,
        Ok(Some(reason)) => Outcome::Failed(reason),
        Err(e) => Outcome::Failed(format!("unreadable case file {e}")),
    }
}
