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
           BeaconBlockHeader, AttestationData);

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

impl<E: EthSpec> Diff for BeaconState<E> {
    fn first_difference(&self, other: &Self, path: &str) -> Option<FieldDiff> {
        let sep = if path.is_empty() { "" } else { "." };
        macro_rules! fields { ($($field:ident),*) => { $(
            if let Some(d) = Diff::first_difference(&self.$field, &other.$field, &format!("{path}{sep}{}", stringify!($field))) {
                return Some(d);
            }
        )* }; }
        fields!(genesis_time, genesis_validators_root, slot, fork, latest_block_header, block_roots,
            state_roots, historical_roots, eth1_data, eth1_data_votes, eth1_deposit_index, validators,
            balances, randao_mixes, slashings, previous_epoch_attestations, current_epoch_attestations,
            justification_bits, previous_justified_checkpoint, current_justified_checkpoint,
            finalized_checkpoint);
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
