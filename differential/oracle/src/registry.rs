//! The registered phase0 implementations. Adding one is one line in [`visit_implementations`]; the
//! runners see them either unprepared ([`Implementation`], for spec vectors) or with a prepared
//! state pool ([`crate::runner::PreparedImpl`], for fuzzing and replay).

use diverge_types::*;

/// Receives every registered implementation with its concrete type.
pub trait Visitor<E: EthSpec> {
    /// Called once per implementation, in registry order.
    fn visit<I: Phase0Impl<E> + 'static>(&mut self, implementation: I);
}

/// Calls `visitor` with every registered implementation, in a fixed order.
pub fn visit_implementations<E: EthSpec>(visitor: &mut impl Visitor<E>) {
    #[cfg(not(feature = "fault-injection"))]
    {
        visitor.visit(diverge_spec::SpecImpl);
        visitor.visit(diverge_fast::FastImpl);
    }
    // Test builds only: the same implementations, misbehaving on magic inputs (src/faults.rs).
    #[cfg(feature = "fault-injection")]
    {
        visitor.visit(crate::faults::Faulty(diverge_spec::SpecImpl));
        visitor.visit(crate::faults::Faulty(diverge_fast::FastImpl));
    }
}

/// What the spec-vector runner needs of an implementation, object-safe. Blanket-implemented for
/// every [`Phase0Impl`].
pub trait Implementation<E: EthSpec>: Send + Sync {
    /// Name used in tables and signatures.
    fn name(&self) -> &'static str;
    /// Version recorded in findings.
    fn version(&self) -> &'static str;
    /// Prepares `pre`, applies every operation in order, exports the post-state.
    ///
    /// # Errors
    /// The first rejection.
    fn transition(&self, pre: &BeaconState<E>, ops: &[Operation<E>], bls: BlsMode) -> Result<BeaconState<E>, Reject>;
    /// `compute_shuffled_index`.
    ///
    /// # Errors
    /// As the implementation's.
    fn compute_shuffled_index(&self, index: u64, index_count: u64, seed: &Root) -> Result<u64, Reject>;
    /// Every `get_*_deltas` of `pre`.
    ///
    /// # Errors
    /// As the implementation's.
    fn get_rewards_deltas(&self, pre: &BeaconState<E>) -> Result<RewardsDeltas, Reject>;
    /// `initialize_beacon_state_from_eth1`.
    ///
    /// # Errors
    /// As the implementation's.
    fn initialize_beacon_state_from_eth1(&self, block_hash: Root, timestamp: u64, deposits: &[Deposit]) -> Result<BeaconState<E>, Reject>;
    /// `is_valid_genesis_state`.
    ///
    /// # Errors
    /// As the implementation's.
    fn is_valid_genesis_state(&self, state: &BeaconState<E>) -> Result<bool, Reject>;
}

impl<E: EthSpec, T: Phase0Impl<E>> Implementation<E> for T {
    fn name(&self) -> &'static str {
        Phase0Impl::name(self)
    }
    fn version(&self) -> &'static str {
        Phase0Impl::version(self)
    }
    fn transition(&self, pre: &BeaconState<E>, ops: &[Operation<E>], bls: BlsMode) -> Result<BeaconState<E>, Reject> {
        let mut state = self.prepare(pre)?;
        for op in ops {
            self.apply(&mut state, op, bls)?;
        }
        Ok(self.export_owned(state))
    }
    fn compute_shuffled_index(&self, index: u64, index_count: u64, seed: &Root) -> Result<u64, Reject> {
        Phase0Impl::compute_shuffled_index(self, index, index_count, seed)
    }
    fn get_rewards_deltas(&self, pre: &BeaconState<E>) -> Result<RewardsDeltas, Reject> {
        let state = self.prepare(pre)?;
        Phase0Impl::get_rewards_deltas(self, &state)
    }
    fn initialize_beacon_state_from_eth1(&self, block_hash: Root, timestamp: u64, deposits: &[Deposit]) -> Result<BeaconState<E>, Reject> {
        Phase0Impl::initialize_beacon_state_from_eth1(self, block_hash, timestamp, deposits)
    }
    fn is_valid_genesis_state(&self, state: &BeaconState<E>) -> Result<bool, Reject> {
        Phase0Impl::is_valid_genesis_state(self, state)
    }
}

/// Every registered phase0 implementation for preset `E`, in registry order.
pub fn implementations<E: EthSpec>() -> Vec<Box<dyn Implementation<E>>> {
    struct Collect<E: EthSpec>(Vec<Box<dyn Implementation<E>>>);
    impl<E: EthSpec> Visitor<E> for Collect<E> {
        fn visit<I: Phase0Impl<E> + 'static>(&mut self, implementation: I) {
            self.0.push(Box::new(implementation));
        }
    }
    let mut c = Collect(Vec::new());
    visit_implementations(&mut c);
    c.0
}

/// Names of the registered implementations, in registry order.
pub fn implementation_names() -> Vec<&'static str> {
    implementations::<MinimalSpec>().iter().map(|i| i.name()).collect()
}
