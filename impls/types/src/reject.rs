//! The shared rejection taxonomy (architecture.md §3): every variant names the spec assertion that
//! failed, so two implementations that reject the same input for the same reason return the same
//! variant, and the runner can compare reasons (strictness `reason`) or only outcomes (`outcome`).
//!
//! Spec references are to `specs/phase0/beacon-chain.md` at v1.1.10. Python raises on uint64
//! overflow and on out-of-range list access; in the spec's test format such an input is invalid, so
//! both are typed rejections here ([`Reject::ArithmeticOverflow`], [`Reject::ValidatorIndexOutOfRange`]).

macro_rules! rejects {
    ($( $(#[doc = $doc:literal])* $name:ident, )*) => {
        /// Why an implementation refused an input. The variant is the reason class compared by the
        /// runner; no variant carries numbers, so signatures built from it stay stable.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Reject {
            $( $(#[doc = $doc])* $name, )*
        }

        impl Reject {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Reject] = &[$(Reject::$name,)*];

            /// The variant's name, e.g. `"CommitteeIndexOutOfRange"`: the reason class.
            pub fn name(self) -> &'static str {
                match self { $( Reject::$name => stringify!($name), )* }
            }

            /// Parses a name produced by [`Reject::name`].
            pub fn from_name(name: &str) -> Option<Reject> {
                Reject::ALL.iter().copied().find(|r| r.name() == name)
            }
        }
    };
}

rejects! {
    // ---- generic ----
    /// A uint64 computation overflowed or underflowed, or divided by zero (Python raises).
    ArithmeticOverflow,
    /// A validator index is not in `state.validators` (Python `IndexError`).
    ValidatorIndexOutOfRange,
    /// An implementation's own failure that is not a spec assertion (cache miss, broken invariant).
    /// Always a finding.
    Internal,
    /// The input does not decode as SSZ of the expected type.
    SszDecode,
    // ---- state transition / slots ----
    /// `process_slots`: `assert state.slot < slot`.
    SlotNotAfterState,
    /// `process_slots`: the target slot is further ahead than this harness allows (a bound, not a
    /// spec rule: keeps an execution short).
    SlotsTooFar,
    /// `state_transition`: `verify_block_signature` failed.
    InvalidBlockSignature,
    /// `state_transition`: `assert block.state_root == hash_tree_root(state)`.
    StateRootMismatch,
    // ---- process_block_header ----
    /// `assert block.slot == state.slot`.
    BlockSlotMismatch,
    /// `assert block.slot > state.latest_block_header.slot`.
    BlockNotNewerThanLatestHeader,
    /// `assert block.proposer_index == get_beacon_proposer_index(state)`.
    ProposerIndexMismatch,
    /// `assert block.parent_root == hash_tree_root(state.latest_block_header)`.
    ParentRootMismatch,
    /// `assert not proposer.slashed`.
    ProposerSlashed,
    // ---- process_randao / process_operations ----
    /// `process_randao`: `assert bls.Verify(proposer.pubkey, signing_root, body.randao_reveal)`.
    InvalidRandaoReveal,
    /// `process_operations`: `assert len(body.deposits) == min(MAX_DEPOSITS, ...)`.
    DepositCountMismatch,
    // ---- process_proposer_slashing ----
    /// `assert header_1.slot == header_2.slot`.
    ProposerSlashingSlotMismatch,
    /// `assert header_1.proposer_index == header_2.proposer_index`.
    ProposerSlashingProposerMismatch,
    /// `assert header_1 != header_2`.
    ProposerSlashingHeadersEqual,
    /// `assert is_slashable_validator(proposer, get_current_epoch(state))`.
    ProposerNotSlashable,
    /// `assert bls.Verify(proposer.pubkey, signing_root, signed_header.signature)`.
    InvalidProposerSlashingSignature,
    // ---- process_attester_slashing / is_valid_indexed_attestation ----
    /// `assert is_slashable_attestation_data(attestation_1.data, attestation_2.data)`.
    AttesterSlashingNotSlashable,
    /// `assert slashed_any`.
    AttesterSlashingNoneSlashed,
    /// `is_valid_indexed_attestation`: `len(indices) == 0`.
    IndexedAttestationEmpty,
    /// `is_valid_indexed_attestation`: `indices != sorted(set(indices))`.
    IndexedAttestationNotSortedUnique,
    /// `is_valid_indexed_attestation`: the aggregate signature does not verify.
    InvalidIndexedAttestationSignature,
    // ---- process_attestation ----
    /// `assert data.target.epoch in (get_previous_epoch(state), get_current_epoch(state))`.
    AttestationTargetEpochOutOfRange,
    /// `assert data.target.epoch == compute_epoch_at_slot(data.slot)`.
    AttestationTargetEpochMismatch,
    /// `assert data.slot + MIN_ATTESTATION_INCLUSION_DELAY <= state.slot`.
    AttestationTooEarly,
    /// `assert state.slot <= data.slot + SLOTS_PER_EPOCH`.
    AttestationTooLate,
    /// `assert data.index < get_committee_count_per_slot(state, data.target.epoch)`.
    CommitteeIndexOutOfRange,
    /// `assert len(attestation.aggregation_bits) == len(committee)`.
    AggregationBitsLengthMismatch,
    /// `assert data.source == state.current_justified_checkpoint` (or previous).
    AttestationSourceMismatch,
    // ---- process_deposit ----
    /// `assert is_valid_merkle_branch(...)`.
    DepositInvalidMerkleProof,
    // ---- process_voluntary_exit ----
    /// `assert is_active_validator(validator, get_current_epoch(state))`.
    ExitValidatorNotActive,
    /// `assert validator.exit_epoch == FAR_FUTURE_EPOCH`.
    ExitAlreadyInitiated,
    /// `assert get_current_epoch(state) >= voluntary_exit.epoch`.
    ExitEpochInFuture,
    /// `assert get_current_epoch(state) >= validator.activation_epoch + SHARD_COMMITTEE_PERIOD`.
    ExitValidatorTooYoung,
    /// `assert bls.Verify(validator.pubkey, signing_root, signed_voluntary_exit.signature)`.
    InvalidVoluntaryExitSignature,
    // ---- helpers' own asserts and list bounds (reachable only from crafted states/inputs) ----
    /// `compute_shuffled_index`: `assert index < index_count` (e.g. a committee index beyond the
    /// committee count in a pending attestation of the state).
    ShuffleIndexOutOfRange,
    /// `compute_proposer_index`: `assert len(indices) > 0` (no active validator).
    NoActiveValidators,
    /// `get_block_root_at_slot`: `assert slot < state.slot <= slot + SLOTS_PER_HISTORICAL_ROOT`.
    BlockRootSlotOutOfRange,
    /// A list index that is not a validator index is out of range (Python `IndexError`), e.g.
    /// `bits[i]` of a pending attestation whose aggregation bits are shorter than its committee.
    IndexOutOfRange,
    /// An append to an SSZ list already at its limit (remerkleable raises), e.g.
    /// `state.eth1_data_votes.append(...)` or a pending-attestation list.
    ListFull,
}

impl core::fmt::Display for Reject {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for Reject {}

#[cfg(test)]
mod tests {
    use super::Reject;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for r in Reject::ALL {
            assert!(seen.insert(r.name()), "duplicate {r}");
            assert_eq!(Reject::from_name(r.name()), Some(*r));
        }
        assert_eq!(Reject::from_name("CommitteeIndexOutOfRange"), Some(Reject::CommitteeIndexOutOfRange));
        assert_eq!(Reject::from_name("nope"), None);
    }
}
