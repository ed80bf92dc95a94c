//! `block`: valid chain extensions of a pool state, then one field broken.
//!
//! The `block` target (`differential/oracle/src/target.rs`) runs `state_transition(state,
//! signed_block, validate_result)` with `validate_result = flags & 1`. With the flag set, the
//! block signature and `block.state_root == hash_tree_root(post-state)` are checked; the
//! generator cannot know the post-state root without running a state transition, so generated
//! blocks carry flags `0` (no signature or state-root check, as the harness defines it) and one
//! perturbation sets the flag (a `StateRootMismatch` or signature reject).
//!
//! A generated block at slot `s` (`state.slot < s`, sometimes across an epoch boundary) has
//! the proposer of `s` ([`PoolView::proposer_at`]), `parent_root` =
//! [`PoolView::parent_root_after_slots`], an eth1 vote (the current data, one already voted,
//! or a fresh one), exactly the deposits `process_operations` requires (from the known
//! [`crate::deposit::DepositTree`] when the state or a winning vote commits to one), and
//! operations built for the state after `process_slots(state, s)`: attestations whose inclusion
//! window and source checkpoint are those of slot `s`, proposer and attester slashings and
//! voluntary exits of disjoint validators (so an earlier operation does not invalidate a later
//! one). RANDAO reveal and signatures are random under `--bls assume-valid`; under `--bls real`
//! ([`crate::Config::sign`]) [`crate::sign::sign_block`] signs the operations, the reveal and the
//! block.

use crate::deposit::perturb_deposit;
use crate::generate::{bits_of, gen_attester_slashing, gen_proposer_slashing, gen_voluntary_exit, perturb_attestation, pick, root, signature};
use crate::view::PoolView;
use diverge_types::ssz_types::VariableList;
use diverge_types::*;
use rand::Rng;
use std::collections::BTreeSet;

/// A `block` input's body: `[flags: u8][SSZ SignedBeaconBlock]`.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockInput<E: EthSpec> {
    /// Bit 0: `validate_result` (block signature and state root checked).
    pub flags: u8,
    /// The block.
    pub block: SignedBeaconBlock<E>,
}

/// The block root at `slot` in the state after `process_slots(state, s)`, for `slot < s`.
fn root_at<E: EthSpec>(view: &PoolView<E>, slot: u64) -> Option<Root> {
    if slot >= view.slot {
        Some(view.parent_root_after_slots)
    } else {
        view.block_root_at_slot(slot)
    }
}

/// An attestation includable in a block at slot `s`: `data.slot + MIN_ATTESTATION_INCLUSION_DELAY
/// <= s <= data.slot + SLOTS_PER_EPOCH`, its epoch the current or previous one of slot `s`
/// (across an epoch boundary only the previous one, whose shuffling and source the view knows),
/// the source checkpoint as `process_justification_and_finalization` leaves it.
pub fn attestation_at<E: EthSpec, R: Rng>(view: &PoolView<E>, s: u64, rng: &mut R) -> Option<Attestation<E>> {
    let spe = E::SLOTS_PER_EPOCH;
    let e = view.current_epoch();
    let es = s.checked_div(spe)?;
    let mut lo = s.saturating_sub(spe);
    let mut hi = s.checked_sub(E::MIN_ATTESTATION_INCLUSION_DELAY)?;
    if es > e {
        lo = lo.max(e.checked_mul(spe)?);
        hi = hi.min(e.checked_add(1)?.checked_mul(spe)?.checked_sub(1)?);
    }
    if lo > hi {
        return None;
    }
    let slot = rng.gen_range(lo..=hi);
    let epoch = slot.checked_div(spe)?;
    let index = rng.gen_range(0..view.committee_count_per_slot(epoch)?);
    let committee = view.beacon_committee(slot, index)?;
    if committee.is_empty() {
        return None;
    }
    let mut set: Vec<bool> = committee.iter().map(|_| rng.gen_bool(0.5)).collect();
    let one = rng.gen_range(0..set.len());
    if let Some(b) = set.get_mut(one) {
        *b = true;
    }
    let source = if es == e {
        if epoch == e {
            view.current_justified_checkpoint
        } else {
            view.previous_justified_checkpoint
        }
    } else if e <= 1 {
        // process_justification_and_finalization returns early at epochs 0 and 1.
        view.previous_justified_checkpoint
    } else {
        view.current_justified_checkpoint
    };
    Some(Attestation {
        aggregation_bits: bits_of::<E>(&set)?,
        data: AttestationData {
            slot,
            index,
            beacon_block_root: root_at(view, slot).unwrap_or_default(),
            source,
            target: Checkpoint { epoch, root: root_at(view, epoch.checked_mul(spe)?).unwrap_or_default() },
        },
        signature: signature(rng),
    })
}

/// The chance that a generated block tries to carry the maximum of every operation
/// (`MAX_PROPOSER_SLASHINGS`, `MAX_ATTESTER_SLASHINGS`, `MAX_ATTESTATIONS`, `MAX_VOLUNTARY_EXITS`;
/// deposits are always exactly the required number, up to `MAX_DEPOSITS`): the list limits and
/// the per-block loops at their longest. A kind the state cannot fill (too few slashable or
/// exitable validators) gets as many as it has.
pub const FULL_BLOCK: f64 = 1.0 / 16.0;

/// How many of `max` to include: mostly none or a few, sometimes up to the limit; `max` itself
/// in a full block.
fn count<R: Rng>(rng: &mut R, none: f64, max: u64, full: bool) -> u64 {
    if full {
        max
    } else if rng.gen_bool(none) {
        0
    } else if rng.gen_bool(0.85) {
        rng.gen_range(1..=max.min(3))
    } else {
        rng.gen_range(1..=max)
    }
}

/// The eth1 data after `process_eth1_data` for `vote` at slot `s`, and the deposits
/// `process_operations` then requires (`None`: a count below `eth1_deposit_index`, or deposits
/// from a tree the generator does not know).
fn eth1_after<E: EthSpec>(view: &PoolView<E>, s: u64, vote: &Eth1Data) -> Option<Vec<Deposit>> {
    let period = E::EPOCHS_PER_ETH1_VOTING_PERIOD.checked_mul(E::SLOTS_PER_EPOCH)?;
    let e = view.current_epoch();
    let es = s.checked_div(E::SLOTS_PER_EPOCH)?;
    // process_eth1_data_reset at the end of each epoch e with (e + 1) % PERIOD_EPOCHS == 0.
    let reset = (e..es).any(|x| x.checked_add(1).and_then(|y| y.checked_rem(E::EPOCHS_PER_ETH1_VOTING_PERIOD)) == Some(0));
    let prior = if reset { 0 } else { view.eth1_data_votes.iter().filter(|v| *v == vote).count() as u64 };
    let eth1 = if prior.checked_add(1)?.checked_mul(2)? > period { vote } else { &view.eth1_data };
    let required = eth1.deposit_count.checked_sub(view.eth1_deposit_index)?.min(E::MAX_DEPOSITS);
    if required == 0 {
        return Some(Vec::new());
    }
    let tree = view.known_tree(eth1)?;
    (0..required).map(|i| tree.deposit(view.eth1_deposit_index.checked_add(i)?)).collect()
}

/// A valid (up to signatures, under flags 0) block extending the view's state.
pub fn gen_block<E: EthSpec, R: Rng>(view: &PoolView<E>, rng: &mut R) -> Option<BlockInput<E>> {
    let spe = E::SLOTS_PER_EPOCH;
    let e = view.current_epoch();
    let next_epoch_start = e.checked_add(1)?.checked_mul(spe)?;
    let s = match rng.gen_range(0..10u8) {
        0..=3 => view.slot.checked_add(1)?,
        4..=6 => rng.gen_range(view.slot.checked_add(1)?..=next_epoch_start.max(view.slot.checked_add(1)?)),
        _ => next_epoch_start.max(view.slot.checked_add(1)?).checked_add(rng.gen_range(0..=2))?,
    };
    let es = s.checked_div(spe)?;
    if s <= view.latest_block_header.slot {
        return None;
    }
    let proposer_index = view.proposer_at(s)?;
    if view.validators.get(usize::try_from(proposer_index).ok()?)?.slashed {
        return None;
    }
    // The eth1 vote: the current data, an earlier vote (toward a majority), or a fresh one.
    let fresh = Eth1Data { deposit_root: root(rng), deposit_count: view.eth1_deposit_index, block_hash: root(rng) };
    let earlier: Vec<Eth1Data> = view.eth1_data_votes.iter().cloned().collect();
    let mut vote = match rng.gen_range(0..10u8) {
        0..=4 => view.eth1_data.clone(),
        5..=7 => earlier.get(rng.gen_range(0..earlier.len().max(1))).cloned().unwrap_or_else(|| view.eth1_data.clone()),
        _ => fresh,
    };
    let deposits = match eth1_after(view, s, &vote) {
        Some(d) => d,
        None => {
            vote = view.eth1_data.clone();
            eth1_after(view, s, &vote)?
        }
    };

    // A full block draws up to 4 times its count (duplicates of a validator are dropped), and
    // stops at the count.
    let full = rng.gen_bool(FULL_BLOCK);
    let tries = |n: u64| if full { n.saturating_mul(4) } else { n };
    let mut used: BTreeSet<u64> = BTreeSet::new();
    let mut proposer_slashings = Vec::new();
    let n = count(rng, 0.7, E::MAX_PROPOSER_SLASHINGS, full);
    for _ in 0..tries(n) {
        if proposer_slashings.len() as u64 >= n {
            break;
        }
        if let Some(ps) = gen_proposer_slashing(view, rng) {
            if used.insert(ps.signed_header_1.message.proposer_index) {
                proposer_slashings.push(ps);
            }
        }
    }
    let mut attester_slashings = Vec::new();
    let n = count(rng, 0.8, E::MAX_ATTESTER_SLASHINGS, full);
    for _ in 0..tries(n) {
        if attester_slashings.len() as u64 >= n {
            break;
        }
        if let Some(a) = gen_attester_slashing(view, rng) {
            let i1: BTreeSet<u64> = a.attestation_1.attesting_indices.iter().copied().collect();
            let common: Vec<u64> = a.attestation_2.attesting_indices.iter().copied().filter(|i| i1.contains(i)).collect();
            if common.iter().all(|i| !used.contains(i)) {
                used.extend(common);
                attester_slashings.push(a);
            }
        }
    }
    let mut attestations = Vec::new();
    let n = count(rng, 0.3, E::MAX_ATTESTATIONS, full);
    for _ in 0..tries(n) {
        if attestations.len() as u64 >= n {
            break;
        }
        attestations.extend(attestation_at(view, s, rng));
    }
    let mut exits = Vec::new();
    let n = count(rng, 0.7, E::MAX_VOLUNTARY_EXITS, full);
    for _ in 0..tries(n) {
        if exits.len() as u64 >= n {
            break;
        }
        if let Some(x) = gen_voluntary_exit(view, rng) {
            // Across an epoch boundary, process_registry_updates ejects every active validator
            // at EJECTION_BALANCE or below before the block: its exit is already initiated.
            let ejected = es > e && view.validators.get(usize::try_from(x.message.validator_index).unwrap_or(usize::MAX)).is_some_and(|v| v.effective_balance <= E::EJECTION_BALANCE);
            if !ejected && used.insert(x.message.validator_index) {
                exits.push(x);
            }
        }
    }
    // At least one operation in most blocks.
    if proposer_slashings.is_empty() && attester_slashings.is_empty() && attestations.is_empty() && deposits.is_empty() && exits.is_empty() && rng.gen_bool(0.8) {
        attestations.extend(attestation_at(view, s, rng));
    }
    let body = BeaconBlockBody {
        randao_reveal: signature(rng),
        eth1_data: vote,
        graffiti: root(rng),
        proposer_slashings: VariableList::new(proposer_slashings).ok()?,
        attester_slashings: VariableList::new(attester_slashings).ok()?,
        attestations: VariableList::new(attestations).ok()?,
        deposits: VariableList::new(deposits).ok()?,
        voluntary_exits: VariableList::new(exits).ok()?,
    };
    let message = BeaconBlock { slot: s, proposer_index, parent_root: view.parent_root_after_slots, state_root: root(rng), body };
    Some(BlockInput { flags: 0, block: SignedBeaconBlock { message, signature: signature(rng) } })
}

/// One field of the block broken: the slot, the proposer, the parent root (the header root
/// without the filled state root), the eth1 vote against the required deposits, the deposit
/// count, one attestation or deposit, a duplicated operation, or the `validate_result` flag.
pub fn perturb_block<E: EthSpec, R: Rng>(b: &mut BlockInput<E>, view: &PoolView<E>, rng: &mut R) {
    let m = &mut b.block.message;
    match rng.gen_range(0..11u8) {
        0 => {
            // No advance, the parent's slot, a later slot (another proposer), past
            // MAX_SLOTS_PER_TRANSITION, the top.
            m.slot = pick(rng, &[view.slot, view.latest_block_header.slot, m.slot.saturating_add(1), view.slot.saturating_add(257), u64::MAX]).unwrap_or(0)
        }
        1 => {
            let n = view.validator_count();
            m.proposer_index = match rng.gen_range(0..4u8) {
                0 => view.proposer_at(m.slot.saturating_add(1)).unwrap_or(n),
                1 => n,
                2 => m.proposer_index.wrapping_add(1),
                _ => (0..n).find(|i| view.validators.get(usize::try_from(*i).unwrap_or(usize::MAX)).is_some_and(|v| v.slashed)).unwrap_or(u64::MAX),
            }
        }
        2 => m.parent_root = if rng.gen() && view.latest_block_root != view.parent_root_after_slots { view.latest_block_root } else { root(rng) },
        // The deposit count one off.
        3 => {
            let mut d: Vec<Deposit> = m.body.deposits.iter().cloned().collect();
            if d.is_empty() || rng.gen() {
                if let Some(x) = view.deposit_tree().and_then(|t| t.deposit(view.eth1_deposit_index.saturating_add(d.len() as u64))) {
                    d.push(x);
                } else if let Some(x) = d.last().cloned() {
                    d.push(x);
                }
            } else {
                d.pop();
            }
            if let Ok(l) = VariableList::new(d) {
                m.body.deposits = l;
            }
        }
        4 => {
            let mut d: Vec<Deposit> = m.body.deposits.iter().cloned().collect();
            if let Some(x) = d.first_mut() {
                perturb_deposit(x, view, rng);
                if let Ok(l) = VariableList::new(d) {
                    m.body.deposits = l;
                }
            }
        }
        5 => {
            let mut a: Vec<Attestation<E>> = m.body.attestations.iter().cloned().collect();
            if a.is_empty() {
                a.extend(crate::generate::gen_attestation(view, rng));
            }
            let i = rng.gen_range(0..a.len().max(1));
            if let Some(x) = a.get_mut(i) {
                perturb_attestation(x, view, rng);
            }
            if let Ok(l) = VariableList::new(a) {
                m.body.attestations = l;
            }
        }
        // A duplicated slashing or exit (the second one's validator is already slashed or
        // exiting).
        6 => {
            let mut p: Vec<ProposerSlashing> = m.body.proposer_slashings.iter().cloned().collect();
            let mut x: Vec<SignedVoluntaryExit> = m.body.voluntary_exits.iter().cloned().collect();
            if let (Some(first), true) = (p.first().cloned(), rng.gen()) {
                p.push(first);
            } else if let Some(first) = x.first().cloned() {
                x.push(first);
            } else if let Some(ps) = gen_proposer_slashing(view, rng) {
                p.push(ps.clone());
                p.push(ps);
            }
            if let (Ok(pl), Ok(xl)) = (VariableList::new(p), VariableList::new(x)) {
                m.body.proposer_slashings = pl;
                m.body.voluntary_exits = xl;
            }
        }
        // An eth1 vote whose majority would change the required deposits.
        7 => {
            m.body.eth1_data = Eth1Data { deposit_root: root(rng), deposit_count: crate::generate::boundary(rng, view.eth1_data.deposit_count), block_hash: root(rng) };
        }
        8 => b.flags |= 1,
        9 => m.body.randao_reveal = signature(rng),
        _ => {
            // An exit of a validator another operation of the block slashes.
            if let Some(ps) = m.body.proposer_slashings.first() {
                let validator_index = ps.signed_header_1.message.proposer_index;
                let mut x: Vec<SignedVoluntaryExit> = m.body.voluntary_exits.iter().cloned().collect();
                x.push(SignedVoluntaryExit { message: VoluntaryExit { epoch: view.current_epoch(), validator_index }, signature: signature(rng) });
                if let Ok(l) = VariableList::new(x) {
                    m.body.voluntary_exits = l;
                }
            } else {
                m.state_root = root(rng);
                b.flags |= 1;
            }
        }
    }
}
