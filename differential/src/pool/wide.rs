//! The wide crafted states (issue 21 item 7), appended after [`super::CRAFTED`]: registries of
//! 1,024 and 4,096 active validators (the second and later 256-position blocks of the shuffle,
//! committees at `MAX_COMMITTEES_PER_SLOT`, minimal's churn limit above its minimum), long
//! non-finality with validators one step from ejection, effective balances on every hysteresis
//! boundary, many slashed validators around the proportional cap, deposit trees with more than
//! `MAX_DEPOSITS` outstanding and at power-of-two index boundaries, full `eth1_data_votes` and full
//! pending-attestation lists.
//!
//! Deterministic like the rest of the pool: each state is a vector's `pre` state changed by a pure
//! function (a ChaCha8 RNG with a fixed seed where subsets are drawn). Every state is checked
//! before it enters the pool: both implementations (spec and fast) must prepare it and run it to
//! the end of its epoch (`process_slots` through `process_epoch`) with the same post-state root;
//! one that fails is left out with a warning (the states after it take the next ids).
//!
//! Where a state needs a later slot than its vector state (an epoch far from finality, the last
//! slot of an eth1 voting period) the slot is set directly, without the epoch transitions between:
//! the ring buffers (`block_roots`, `state_roots`, `randao_mixes`) keep their values, which every
//! implementation reads the same way; the pending attestations are rebuilt for the new epochs.

use super::{add_state, craft, total_active_balance, Craft, PoolEntry, PoolError, DEPOSIT_CASE, EXIT_CASE, HEADER_CASE, JUSTIFICATION_CASE};
use crate::vectors::files;
use diverge_mutators::{keys, PoolView};
use diverge_types::constants::FAR_FUTURE_EPOCH;
use diverge_types::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use std::path::Path;

/// How a wide state differs from its vector state.
#[derive(Clone, Copy, Debug)]
enum Wide {
    /// The registry extended to `validators` (spec-test keys `len..validators`, 32 ETH, active
    /// since genesis); the previous epoch's attestations rebuilt with every validator attesting
    /// (inclusion delay 1), the current epoch's for the slots before `state.slot`.
    Registry { validators: u64 },
    /// [`Wide::Registry`], then the slot moved to the last slot of epoch
    /// `finalized_checkpoint.epoch + gap` (`get_finality_delay` is `gap - 1` at its
    /// `process_epoch`; the leak starts at `gap == MIN_EPOCHS_TO_INACTIVITY_PENALTY + 2`), one
    /// validator in three attesting to the previous epoch (no justification), and with
    /// `near_ejection` a cycle of 8 balance classes: effective balance at `EJECTION_BALANCE`
    /// (ejected by this epoch's `process_registry_updates`, more than the churn limit at once), one
    /// increment above with the balance on the downward hysteresis boundary (any penalty moves
    /// it to the ejection balance: ejected the epoch after), one Gwei past it (moved down at
    /// this epoch's update), on the upward boundary, and 32 ETH.
    Leak { validators: u64, gap: u64, near_ejection: bool },
    /// [`Wide::Registry`] with no pending attestations, and every validator's (effective
    /// balance, balance) pair on a point of a grid: effective balances 0, 1 increment,
    /// `EJECTION_BALANCE` ± 1 increment, the maximum and 1 and 2 increments below it; balances at
    /// each hysteresis threshold (`balance + DOWNWARD_THRESHOLD < effective_balance`,
    /// `effective_balance + UPWARD_THRESHOLD < balance`) and one Gwei either side, exact, and one
    /// increment above.
    Hysteresis { validators: u64 },
    /// [`Wide::Registry`], then every 16th validator slashed (`withdrawable_epoch == epoch +
    /// EPOCHS_PER_SLASHINGS_VECTOR / 2`, so `process_slashings` penalises all of them) and
    /// `sum(state.slashings) * PROPORTIONAL_SLASHING_MULTIPLIER` = the total active balance
    /// `+ delta` increments, spread over the four latest entries of the vector.
    Slashings { validators: u64, delta: i64 },
    /// [`Wide::Registry`], then [`Craft::ExitChurn`]: the churn limit of this registry size.
    ExitChurn { validators: u64, short: u64 },
    /// [`Craft::DepositTree`] on a longer tree (leaves past 16 are the generator's
    /// [`diverge_mutators::deposit::WIDE_LEAF_KINDS`]).
    DepositTree { index: u64, count: u64 },
    /// The slot moved to `short` slots before the last of the next eth1 voting period, with
    /// `EPOCHS_PER_ETH1_VOTING_PERIOD * SLOTS_PER_EPOCH - short` votes: half the period for the
    /// known 4-deposit tree, the rest distinct. `short == 0`: the list is full (no majority; the
    /// next slot resets it); `short == 1`: the next block's vote fills it, and a vote for the
    /// known tree is then a majority that requires its 4 deposits.
    Eth1VotesFull { short: u64 },
    /// `previous_epoch_attestations` at its limit (`MAX_ATTESTATIONS * SLOTS_PER_EPOCH`: copies of
    /// every committee with random subsets, inclusion delays and proposers), so a block with a
    /// previous-epoch attestation overflows it; with `both`, the slot moved to the epoch's last
    /// and `current_epoch_attestations` full too (the most pending attestations `process_epoch`
    /// can meet).
    Attestations { both: bool },
}

/// One wide state: the manifest name, the vector case whose `pre` state it changes, the presets it
/// is built for, the change.
struct WideCrafted {
    name: &'static str,
    case: &'static str,
    presets: &'static [&'static str],
    craft: Wide,
}

const BOTH: &[&str] = &["minimal", "mainnet"];

/// A healthy vector state at epoch >= 2 (justification runs): the registry base.
const REGISTRY_CASE: &str = JUSTIFICATION_CASE;

/// The wide states, in this order after [`super::CRAFTED`] (existing ids never move; add new ones
/// at the end). Three have 1,024 or more validators; the threshold states use 256 (minimal's churn
/// limit is then 8, above its minimum of 4): an epoch transition on a large registry is dear in the
/// spec implementation (`get_attesting_indices` shuffles each committee member by
/// `compute_shuffled_index`, per pending attestation and per reward component), and `block` crosses
/// an epoch in about half its generated inputs.
const WIDE: &[WideCrafted] = &[
    WideCrafted { name: "registry-1024", case: REGISTRY_CASE, presets: BOTH, craft: Wide::Registry { validators: 1024 } },
    WideCrafted { name: "registry-4096", case: REGISTRY_CASE, presets: BOTH, craft: Wide::Registry { validators: 4096 } },
    WideCrafted { name: "leak-gap-5", case: REGISTRY_CASE, presets: BOTH, craft: Wide::Leak { validators: 0, gap: 5, near_ejection: false } },
    WideCrafted { name: "leak-gap-6", case: REGISTRY_CASE, presets: BOTH, craft: Wide::Leak { validators: 0, gap: 6, near_ejection: false } },
    WideCrafted { name: "leak-gap-1100-near-ejection-1024", case: REGISTRY_CASE, presets: BOTH, craft: Wide::Leak { validators: 1024, gap: 1100, near_ejection: true } },
    WideCrafted { name: "leak-gap-70-near-ejection", case: REGISTRY_CASE, presets: BOTH, craft: Wide::Leak { validators: 0, gap: 70, near_ejection: true } },
    WideCrafted { name: "hysteresis-grid-256", case: REGISTRY_CASE, presets: BOTH, craft: Wide::Hysteresis { validators: 256 } },
    WideCrafted { name: "slashings-many-below-cap-256", case: REGISTRY_CASE, presets: BOTH, craft: Wide::Slashings { validators: 256, delta: -1 } },
    WideCrafted { name: "slashings-many-at-cap-256", case: REGISTRY_CASE, presets: BOTH, craft: Wide::Slashings { validators: 256, delta: 0 } },
    WideCrafted { name: "slashings-many-above-cap-256", case: REGISTRY_CASE, presets: BOTH, craft: Wide::Slashings { validators: 256, delta: 1 } },
    WideCrafted { name: "exit-churn-one-short-256", case: EXIT_CASE, presets: BOTH, craft: Wide::ExitChurn { validators: 256, short: 1 } },
    WideCrafted { name: "exit-churn-full-256", case: EXIT_CASE, presets: BOTH, craft: Wide::ExitChurn { validators: 256, short: 0 } },
    WideCrafted { name: "deposit-tree-300-at-16", case: DEPOSIT_CASE, presets: BOTH, craft: Wide::DepositTree { index: 16, count: 300 } },
    WideCrafted { name: "deposit-tree-300-at-250", case: DEPOSIT_CASE, presets: BOTH, craft: Wide::DepositTree { index: 250, count: 300 } },
    WideCrafted { name: "deposit-tree-300-at-284", case: DEPOSIT_CASE, presets: BOTH, craft: Wide::DepositTree { index: 284, count: 300 } },
    WideCrafted { name: "deposit-tree-300-at-290", case: DEPOSIT_CASE, presets: BOTH, craft: Wide::DepositTree { index: 290, count: 300 } },
    WideCrafted { name: "deposit-tree-256-at-240", case: DEPOSIT_CASE, presets: BOTH, craft: Wide::DepositTree { index: 240, count: 256 } },
    WideCrafted { name: "deposit-tree-257-at-255", case: DEPOSIT_CASE, presets: BOTH, craft: Wide::DepositTree { index: 255, count: 257 } },
    WideCrafted { name: "eth1-votes-full", case: HEADER_CASE, presets: BOTH, craft: Wide::Eth1VotesFull { short: 0 } },
    WideCrafted { name: "eth1-votes-one-below-full", case: HEADER_CASE, presets: BOTH, craft: Wide::Eth1VotesFull { short: 1 } },
    WideCrafted { name: "attestations-previous-full", case: REGISTRY_CASE, presets: BOTH, craft: Wide::Attestations { both: false } },
    WideCrafted { name: "attestations-both-full", case: REGISTRY_CASE, presets: BOTH, craft: Wide::Attestations { both: true } },
];

/// Appends [`WIDE`] for preset `E`: a missing vector, a craft that does not apply, or a state
/// the implementations do not both run to the epoch's end identically is a warning.
pub(super) fn append<E: EthSpec>(tests_root: &Path, out_dir: &Path, seen: &mut BTreeSet<String>, states: &mut Vec<PoolEntry>, warnings: &mut Vec<String>) -> Result<(), PoolError> {
    let phase0 = tests_root.join(E::PRESET_BASE).join("phase0");
    for c in WIDE.iter().filter(|c| c.presets.contains(&E::PRESET_BASE)) {
        let pre = phase0.join(c.case).join("pre.ssz_snappy");
        let mut state: BeaconState<E> = match files::read_ssz(&pre) {
            Ok(s) => s,
            Err(e) => {
                warnings.push(format!("crafted state {}: {e}", c.name));
                continue;
            }
        };
        if let Err(e) = craft_wide(c.craft, &mut state).and_then(|()| runs_in_both(&state)) {
            warnings.push(format!("crafted state {} from {}: {e}", c.name, pre.display()));
            continue;
        }
        let source = format!("crafted:{} from {}/phase0/{}", c.name, E::PRESET_BASE, c.case);
        add_state(&state, source, out_dir, seen, states)?;
    }
    Ok(())
}

/// Both implementations prepare `state` and run it to its epoch's end (`process_slots` to the
/// next epoch's first slot, so `process_epoch` runs) with the same post-state root.
///
/// # Errors
/// Which implementation failed how, or the two roots.
pub fn runs_in_both<E: EthSpec>(state: &BeaconState<E>) -> Result<(), String> {
    fn run<E: EthSpec, I: Phase0Impl<E>>(imp: &I, state: &BeaconState<E>) -> Result<Root, String> {
        let mut s = imp.prepare(state).map_err(|e| format!("{} does not prepare it: {e:?}", imp.name()))?;
        let n = E::SLOTS_PER_EPOCH - state.slot % E::SLOTS_PER_EPOCH;
        imp.apply(&mut s, &Operation::Slots(n), BlsMode::AssumeValid).map_err(|e| format!("{} rejects {n} slots: {e:?}", imp.name()))?;
        Ok(imp.export_owned(s).tree_hash_root())
    }
    let spec = run(&diverge_spec::SpecImpl, state)?;
    let fast = run(&diverge_fast::FastImpl, state)?;
    if spec == fast {
        Ok(())
    } else {
        Err(format!("post-state roots differ after the epoch: spec {spec:#x}, fast {fast:#x}"))
    }
}

fn err(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

/// The BLS withdrawal credentials of `pubkey` (`0x00 ++ sha256(pubkey)[1:]`).
fn bls_credentials(pubkey: &BlsPubkey) -> Root {
    let mut c = hash(pubkey.as_slice());
    c[0] = 0;
    Root::from(c)
}

/// Extends the registry to `n` validators with the spec tests' keys `len..n` (32 ETH, active
/// since genesis, BLS credentials); a key already in the registry is an error.
fn extend_registry<E: EthSpec>(state: &mut BeaconState<E>, n: u64) -> Result<(), String> {
    let have: BTreeSet<BlsPubkey> = state.validators.iter().map(|v| v.pubkey).collect();
    for k in state.validators.len() as u64..n {
        let pubkey = keys::public_key(k).ok_or("no spec-test key")?;
        if have.contains(&pubkey) {
            return Err(format!("spec-test key {k} is already in the registry"));
        }
        let v = Validator {
            pubkey,
            withdrawal_credentials: bls_credentials(&pubkey),
            effective_balance: E::MAX_EFFECTIVE_BALANCE,
            slashed: false,
            activation_eligibility_epoch: 0,
            activation_epoch: 0,
            exit_epoch: FAR_FUTURE_EPOCH,
            withdrawable_epoch: FAR_FUTURE_EPOCH,
        };
        state.validators.push(v).map_err(err)?;
        state.balances.push(E::MAX_EFFECTIVE_BALANCE).map_err(err)?;
    }
    Ok(())
}

/// Pending attestations of `epoch` for the slots in `slots`: round 0 every committee with the
/// members `attests` picks and inclusion delay 1, then (with [`Fill::Limit`], until the list's
/// limit) further rounds with random non-empty subsets, inclusion delays in
/// `1..=SLOTS_PER_EPOCH` and proposers.
fn pending<E: EthSpec>(
    state: &BeaconState<E>,
    epoch: u64,
    slots: std::ops::Range<u64>,
    source: Checkpoint,
    attests: &dyn Fn(u64) -> bool,
    fill: Fill,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<PendingAttestation<E>>, String> {
    let limit = usize::try_from(E::MAX_ATTESTATIONS * E::SLOTS_PER_EPOCH).map_err(err)?;
    let view = PoolView::new(state);
    let shuffling = view.shuffling(epoch).ok_or("no shuffling")?;
    let target = Checkpoint { epoch, root: view.block_root(epoch).unwrap_or_default() };
    let n = state.validators.len() as u64;
    let mut out = Vec::new();
    let mut round = 0u64;
    while out.len() < limit {
        let before = out.len();
        for slot in slots.clone() {
            for index in 0..shuffling.committees_per_slot {
                if out.len() >= limit {
                    break;
                }
                let committee = view.beacon_committee(slot, index).ok_or("no committee")?;
                let mut set: Vec<bool> = if round == 0 { committee.iter().map(|v| attests(*v)).collect() } else { committee.iter().map(|_| rng.gen_bool(0.5)).collect() };
                if round > 0 && !set.iter().any(|b| *b) {
                    if let Some(b) = set.get_mut(rng.gen_range(0..committee.len().max(1))) {
                        *b = true;
                    }
                }
                if round == 0 && !set.iter().any(|b| *b) {
                    continue;
                }
                let mut bits = ssz_types::BitList::with_capacity(committee.len()).map_err(err)?;
                for (k, b) in set.iter().enumerate() {
                    bits.set(k, *b).map_err(err)?;
                }
                let (delay, proposer) = if round == 0 { (1, view.proposer_index().unwrap_or(0)) } else { (rng.gen_range(1..=E::SLOTS_PER_EPOCH), rng.gen_range(0..n.max(1))) };
                out.push(PendingAttestation {
                    aggregation_bits: bits,
                    data: AttestationData { slot, index, beacon_block_root: view.block_root_at_slot(slot).unwrap_or_default(), source, target },
                    inclusion_delay: delay,
                    proposer_index: proposer,
                });
            }
        }
        round += 1;
        if fill == Fill::OneRound || (out.len() == before && round > 1) {
            break;
        }
    }
    Ok(out)
}

/// How many pending attestations [`pending`] makes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fill {
    /// Every committee once (none for a committee of which `attests` picks no member).
    OneRound,
    /// Rounds until the list's limit, `MAX_ATTESTATIONS * SLOTS_PER_EPOCH`.
    Limit,
}

/// Rebuilds both pending-attestation lists for the state's epochs: the previous epoch's whole,
/// the current epoch's slots before `state.slot`.
fn rebuild_attestations<E: EthSpec>(state: &mut BeaconState<E>, attests: &dyn Fn(u64) -> bool, prev: Fill, cur: Fill, seed: u64) -> Result<(), String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let epoch = state.slot / E::SLOTS_PER_EPOCH;
    let spe = E::SLOTS_PER_EPOCH;
    let previous = if epoch == 0 {
        Vec::new()
    } else {
        let p = epoch - 1;
        pending(state, p, p * spe..(p + 1) * spe, state.previous_justified_checkpoint, attests, prev, &mut rng)?
    };
    let current = pending(state, epoch, epoch * spe..state.slot, state.current_justified_checkpoint, attests, cur, &mut rng)?;
    *state.previous_epoch_attestations = ssz_types::VariableList::new(previous).map_err(err)?;
    *state.current_epoch_attestations = ssz_types::VariableList::new(current).map_err(err)?;
    Ok(())
}

/// Applies `c` to `state`.
fn craft_wide<E: EthSpec>(c: Wide, state: &mut BeaconState<E>) -> Result<(), String> {
    let spe = E::SLOTS_PER_EPOCH;
    let inc = E::EFFECTIVE_BALANCE_INCREMENT;
    let limit = usize::try_from(E::MAX_ATTESTATIONS * spe).map_err(err)?;
    let registry = |state: &mut BeaconState<E>, n: u64| -> Result<(), String> {
        extend_registry(state, n)?;
        rebuild_attestations(state, &|_| true, Fill::OneRound, Fill::OneRound, 1)
    };
    match c {
        Wide::Registry { validators } => registry(state, validators)?,
        Wide::Leak { validators, gap, near_ejection } => {
            extend_registry(state, validators)?;
            let epoch = state.finalized_checkpoint.epoch + gap;
            if epoch * spe <= state.slot {
                return Err(format!("epoch {epoch} is not after the state's"));
            }
            state.slot = epoch * spe + spe - 1;
            if near_ejection {
                let ej = E::EJECTION_BALANCE;
                let down = inc / E::HYSTERESIS_QUOTIENT * E::HYSTERESIS_DOWNWARD_MULTIPLIER;
                let up = inc / E::HYSTERESIS_QUOTIENT * E::HYSTERESIS_UPWARD_MULTIPLIER;
                for (i, (v, b)) in state.validators.iter_mut().zip(state.balances.iter_mut()).enumerate() {
                    let (e, bal) = match i % 8 {
                        0 => (ej, ej + down),
                        1 => (ej + inc, ej + inc - down),
                        2 => (ej + inc, ej + inc - down - 1),
                        3 => (ej + inc, ej + inc + up),
                        4 => (ej, ej),
                        _ => (E::MAX_EFFECTIVE_BALANCE, E::MAX_EFFECTIVE_BALANCE - down),
                    };
                    v.effective_balance = e;
                    *b = bal;
                }
            }
            rebuild_attestations(state, &|v| v % 3 == 0, Fill::OneRound, Fill::OneRound, 2)?;
            *state.current_epoch_attestations = ssz_types::VariableList::empty();
        }
        Wide::Hysteresis { validators } => {
            extend_registry(state, validators)?;
            *state.previous_epoch_attestations = ssz_types::VariableList::empty();
            *state.current_epoch_attestations = ssz_types::VariableList::empty();
            let (max, ej) = (E::MAX_EFFECTIVE_BALANCE, E::EJECTION_BALANCE);
            let down = inc / E::HYSTERESIS_QUOTIENT * E::HYSTERESIS_DOWNWARD_MULTIPLIER;
            let up = inc / E::HYSTERESIS_QUOTIENT * E::HYSTERESIS_UPWARD_MULTIPLIER;
            let effective = [0, inc, ej - inc, ej, ej + inc, max - 2 * inc, max - inc, max];
            let mut grid = Vec::new();
            for e in effective {
                // Down: moved iff balance + down < e; up: moved iff e + up < balance.
                for b in [e.checked_sub(down + 1), e.checked_sub(down), e.checked_sub(down - 1), Some(e), Some(e + inc), Some(e + up - 1), Some(e + up), Some(e + up + 1)].into_iter().flatten() {
                    grid.push((e, b));
                }
            }
            for (i, (v, b)) in state.validators.iter_mut().zip(state.balances.iter_mut()).enumerate() {
                let (e, bal) = grid[i % grid.len()];
                v.effective_balance = e;
                *b = bal;
            }
        }
        Wide::Slashings { validators, delta } => {
            registry(state, validators)?;
            let epoch = state.slot / spe;
            let vector = E::EPOCHS_PER_SLASHINGS_VECTOR;
            for v in state.validators.iter_mut().step_by(16) {
                v.slashed = true;
                v.exit_epoch = epoch + 1 + E::MAX_SEED_LOOKAHEAD;
                v.withdrawable_epoch = epoch + vector / 2;
            }
            let total = total_active_balance(state, epoch);
            let target = total.checked_add_signed(delta * inc as i64).ok_or("slashings total out of range")?;
            let sum = target / E::PROPORTIONAL_SLASHING_MULTIPLIER;
            let mut slashings = vec![0u64; vector as usize];
            let quarter = sum / 4;
            for k in 0..4u64 {
                let at = ((epoch + vector - k) % vector) as usize;
                slashings[at] = if k == 3 { sum - 3 * quarter } else { quarter };
            }
            *state.slashings = ssz_types::FixedVector::new(slashings).map_err(err)?;
        }
        Wide::ExitChurn { validators, short } => {
            registry(state, validators)?;
            craft(&Craft::ExitChurn { short }, state)?;
        }
        Wide::DepositTree { index, count } => craft(&Craft::DepositTree { index, count }, state)?,
        Wide::Eth1VotesFull { short } => {
            let period = E::EPOCHS_PER_ETH1_VOTING_PERIOD * spe;
            let end = (state.slot / period + 1) * period;
            state.slot = end - 1 - short;
            state.eth1_data = super::known_tree_data(state, 0)?;
            state.eth1_deposit_index = 0;
            let known = super::known_tree_data(state, 4)?;
            let mut votes = Vec::new();
            for i in 0..period - short {
                if i % 2 == 0 {
                    votes.push(known.clone());
                } else {
                    let mut tag = b"diverge:eth1-votes-full:".to_vec();
                    tag.extend(i.to_le_bytes());
                    votes.push(Eth1Data { deposit_root: Root::from(hash(&tag)), deposit_count: 0, block_hash: Root::from(hash(&hash(&tag))) });
                }
            }
            // Half the period (rounded up for an odd count) for the known tree.
            *state.eth1_data_votes = ssz_types::VariableList::new(votes).map_err(err)?;
            rebuild_attestations(state, &|_| true, Fill::OneRound, Fill::OneRound, 3)?;
        }
        Wide::Attestations { both } => {
            if both {
                state.slot = state.slot / spe * spe + spe - 1;
            }
            rebuild_attestations(state, &|_| true, Fill::Limit, if both { Fill::Limit } else { Fill::OneRound }, 4)?;
            if state.previous_epoch_attestations.len() != limit || (both && state.current_epoch_attestations.len() != limit) {
                return Err(format!("pending lists {} and {} of {limit}", state.previous_epoch_attestations.len(), state.current_epoch_attestations.len()));
            }
        }
    }
    Ok(())
}
