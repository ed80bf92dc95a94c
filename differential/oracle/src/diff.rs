//! Structural comparison of post-states: the first differing field path (`validators[17].slashed`,
//! `balances[3]`) with both values, computed only when two states are not equal.

use diverge_types::*;
use std::fmt::Debug;

/// The first place two values differ.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldDiff {
    /// Field path from the root, e.g. `validators[17].slashed`.
    pub path: String,
    /// The left value, rendered with `Debug`.
    pub left: String,
    /// The right value, rendered with `Debug`.
    pub right: String,
}

impl std::fmt::Display for FieldDiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} != {}", self.path, self.left, self.right)
    }
}

/// Values whose first difference can be located below the value itself.
pub trait Diff: PartialEq + Debug {
    /// The first difference between `self` and `other` at `path`, or `None` when equal.
    fn first_difference(&self, other: &Self, path: &str) -> Option<FieldDiff> {
        (self != other).then(|| leaf(path, self, other))
    }
}

fn leaf<T: Debug + ?Sized>(path: &str, a: &T, b: &T) -> FieldDiff {
    FieldDiff { path: path.to_string(), left: format!("{a:?}"), right: format!("{b:?}") }
}

macro_rules! leaf_diff { ($($t:ty),*) => { $(impl Diff for $t {})* }; }
leaf_diff!(u64, bool, Root, [u8; 4], BlsPubkey, BlsSignature, Checkpoint, Eth1Data, Fork,
           AttestationData);

impl<T: Diff> Diff for [T] {
    fn first_difference(&self, other: &Self, path: &str) -> Option<FieldDiff> {
        for (i, (a, b)) in self.iter().zip(other.iter()).enumerate() {
            if let Some(d) = a.first_difference(b, &format!("{path}[{i}]")) {
                return Some(d);
            }
        }
        (self.len() != other.len()).then(|| FieldDiff {
            path: format!("{path}.len()"),
            left: self.len().to_string(),
            right: other.len().to_string(),
        })
    }
}

macro_rules! container_diff {
    ($t:ty { $($field:ident),* $(,)? }) => {
        impl Diff for $t {
            fn first_difference(&self, other: &Self, path: &str) -> Option<FieldDiff> {
                let sep = if path.is_empty() { "" } else { "." };
                $(
                    if let Some(d) = Diff::first_difference(&self.$field, &other.$field, &format!("{path}{sep}{}", stringify!($field))) {
                        return Some(d);
                    }
                )*
                None
            }
        }
    };
}

impl<N: diverge_types::ssz_types::typenum::Unsigned + Clone + std::fmt::Debug> Diff for diverge_types::ssz_types::BitList<N> {}
impl<N: diverge_types::ssz_types::typenum::Unsigned + Clone + std::fmt::Debug> Diff for diverge_types::ssz_types::BitVector<N> {}
impl<T: Diff, N: diverge_types::ssz_types::typenum::Unsigned> Diff for diverge_types::ssz_types::VariableList<T, N> {
    fn first_difference(&self, other: &Self, path: &str) -> Option<FieldDiff> {
        (**self).first_difference(&**other, path)
    }
}
impl<T: Diff, N: diverge_types::ssz_types::typenum::Unsigned> Diff for diverge_types::ssz_types::FixedVector<T, N> {
    fn first_difference(&self, other: &Self, path: &str) -> Option<FieldDiff> {
        (**self).first_difference(&**other, path)
    }
}
impl<T: Diff + Clone> Diff for diverge_types::Shared<T> {
    fn first_difference(&self, other: &Self, path: &str) -> Option<FieldDiff> {
        if Shared::ptr_eq(self, other) {
            return None;
        }
        (**self).first_difference(&**other, path)
    }
}

container_diff!(BeaconBlockHeader { slot, proposer_index, parent_root, state_root, body_root });
container_diff!(Validator { pubkey, withdrawal_credentials, effective_balance, slashed,
    activation_eligibility_epoch, activation_epoch, exit_epoch, withdrawable_epoch });
impl<E: EthSpec> Diff for PendingAttestation<E> {
    fn first_difference(&self, b: &Self, path: &str) -> Option<FieldDiff> {
        let a = self;
        a.aggregation_bits.first_difference(&b.aggregation_bits, &format!("{path}.aggregation_bits"))
        .or_else(|| a.data.first_difference(&b.data, &format!("{path}.data")))
        .or_else(|| a.inclusion_delay.first_difference(&b.inclusion_delay, &format!("{path}.inclusion_delay")))
        .or_else(|| a.proposer_index.first_difference(&b.proposer_index, &format!("{path}.proposer_index")))
    }
}

/// Calls `$m!(field)` for every `BeaconState` field, in SSZ order.
macro_rules! state_fields {
    ($m:ident) => {
        $m!(genesis_time, genesis_validators_root, slot, fork, latest_block_header, block_roots,
            state_roots, historical_roots, eth1_data, eth1_data_votes, eth1_deposit_index, validators,
            balances, randao_mixes, slashings, previous_epoch_attestations, current_epoch_attestations,
            justification_bits, previous_justified_checkpoint, current_justified_checkpoint,
            finalized_checkpoint)
    };
}

impl<E: EthSpec> Diff for BeaconState<E> {
    fn first_difference(&self, other: &Self, path: &str) -> Option<FieldDiff> {
        let sep = if path.is_empty() { "" } else { "." };
        macro_rules! fields { ($($field:ident),*) => { $(
            if let Some(d) = Diff::first_difference(&self.$field, &other.$field, &format!("{path}{sep}{}", stringify!($field))) {
                return Some(d);
            }
        )* }; }
        state_fields!(fields);
        None
    }
}

/// The first difference between two states, `None` when they are equal.
pub fn first_state_difference<E: EthSpec>(a: &BeaconState<E>, b: &BeaconState<E>) -> Option<FieldDiff> {
    if a == b {
        return None;
    }
    a.first_difference(b, "").or_else(|| Some(leaf("<state>", "unequal", "unequal")))
}

/// Every differing field of two states: the first difference within each field (and within
/// each field of `latest_block_header`), in SSZ field order; empty when they are equal.
pub fn state_differences<E: EthSpec>(a: &BeaconState<E>, b: &BeaconState<E>) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    if a == b {
        return out;
    }
    macro_rules! fields { ($($field:ident),*) => { $(
        if stringify!($field) == "latest_block_header" {
            header_differences(&a.latest_block_header, &b.latest_block_header, &mut out);
        } else if let Some(d) = Diff::first_difference(&a.$field, &b.$field, stringify!($field)) {
            out.push(d);
        }
    )* }; }
    state_fields!(fields);
    if out.is_empty() {
        out.push(leaf("<state>", "unequal", "unequal"));
    }
    out
}

fn header_differences(x: &BeaconBlockHeader, y: &BeaconBlockHeader, out: &mut Vec<FieldDiff>) {
    macro_rules! header { ($($h:ident),*) => { $(
        if let Some(d) = x.$h.first_difference(&y.$h, concat!("latest_block_header.", stringify!($h))) {
            out.push(d);
        }
    )* }; }
    header!(slot, proposer_index, parent_root, state_root, body_root);
}

/// Whether the field at `path` is derived from the rest of the state by the slot machinery:
/// the per-slot `state_roots[]` and `block_roots[]`, `historical_roots[]` (batches of those) and
/// `latest_block_header.state_root` (filled with the previous state root). Once any field differs
/// after a slot, these differ too, whatever the cause.
pub fn is_derived(path: &str) -> bool {
    ["state_roots", "block_roots", "historical_roots", "latest_block_header.state_root"]
        .iter()
        .any(|f| path.strip_prefix(f).is_some_and(|rest| rest.is_empty() || rest.starts_with(['[', '.'])))
}

/// The difference a signature names: the first one not [derived](is_derived) from others, or the
/// first one when every difference is derived (a wrong root computation itself).
pub fn cause(diffs: &[FieldDiff]) -> Option<&FieldDiff> {
    diffs.iter().find(|d| !is_derived(&d.path)).or_else(|| diffs.first())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_validator_field_and_balance() {
        let mut a = zero_state::<MinimalSpec>();
        a.validators.push(Validator::default()).unwrap();
        a.validators.push(Validator::default()).unwrap();
        a.balances.push(5).unwrap();
        let mut b = a.clone();
        assert_eq!(first_state_difference(&a, &b), None);
        b.validators[1].slashed = true;
        let d = first_state_difference(&a, &b).unwrap();
        assert_eq!(d.path, "validators[1].slashed");
        assert_eq!((d.left.as_str(), d.right.as_str()), ("false", "true"));
        let mut c = a.clone();
        c.balances[0] = 6;
        assert_eq!(first_state_difference(&a, &c).unwrap().path, "balances[0]");
        c.balances.push(1).unwrap();
        let mut d2 = a.clone();
        d2.balances.push(1).unwrap();
        assert_eq!(first_state_difference(&a, &d2).unwrap().path, "balances.len()");
    }

    #[test]
    fn every_differing_field_is_listed_and_the_cause_skips_derived_roots() {
        let mut a = zero_state::<MinimalSpec>();
        a.validators.push(Validator::default()).unwrap();
        a.balances.push(5).unwrap();
        let mut b = a.clone();
        b.state_roots[3] = Root::repeat_byte(1);
        b.latest_block_header.state_root = Root::repeat_byte(2);
        b.balances[0] = 6;
        let diffs = state_differences(&a, &b);
        let paths: Vec<&str> = diffs.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["latest_block_header.state_root", "state_roots[3]", "balances[0]"]);
        assert_eq!(cause(&diffs).unwrap().path, "balances[0]");
        // Only derived fields differ: the first one is named.
        b.balances[0] = 5;
        assert_eq!(cause(&state_differences(&a, &b)).unwrap().path, "latest_block_header.state_root");
        assert!(state_differences(&a, &a.clone()).is_empty());
        assert!(is_derived("block_roots[7]") && is_derived("historical_roots.len()") && !is_derived("latest_block_header.slot"));
        assert!(!is_derived("state_rootsx") && !is_derived("balances[0]"));
    }

    fn zero_state<E: EthSpec>() -> BeaconState<E> {
        BeaconState {
            genesis_time: 0,
            genesis_validators_root: Root::ZERO,
            slot: 0,
            fork: Fork::default(),
            latest_block_header: BeaconBlockHeader::default(),
            block_roots: Default::default(),
            state_roots: Default::default(),
            historical_roots: Default::default(),
            eth1_data: Eth1Data::default(),
            eth1_data_votes: Default::default(),
            eth1_deposit_index: 0,
            validators: Default::default(),
            balances: Default::default(),
            randao_mixes: Default::default(),
            slashings: Default::default(),
            previous_epoch_attestations: Default::default(),
            current_epoch_attestations: Default::default(),
            justification_bits: Default::default(),
            previous_justified_checkpoint: Checkpoint::default(),
            current_justified_checkpoint: Checkpoint::default(),
            finalized_checkpoint: Checkpoint::default(),
        }
    }
}
