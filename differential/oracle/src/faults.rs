//! Test-only fault injection (cargo feature `fault-injection`, never in a normal build): every
//! registered phase0 implementation is wrapped in [`Faulty`], which misbehaves on `voluntary_exit`
//! inputs whose `exit.epoch` carries [`MAGIC`]: the fault in bits 8..16, the implementations it
//! hits in bits 0..8 (1 = `spec`, 2 = `fast`, 3 = both), and whose `validator_index` is
//! `epoch ^ CHECK` (so a fuzzer's mutant of a fault input, which changes one of the two, is no
//! fault). Any other input runs the implementation unchanged. `tests/isolation.rs` drives `diverge fuzz`, `run` and `replay` with them.

use diverge_types::*;
use std::time::Duration;

/// High 32 bits of a faulting `exit.epoch`.
pub const MAGIC: u64 = 0xFA17_D1FE_0000_0000;
const MAGIC_MASK: u64 = 0xFFFF_FFFF_0000_0000;
/// `validator_index` of a fault input is `epoch ^ CHECK`.
pub const CHECK: u64 = 0x5EED_CAFE_F00D_0B0E;

/// What a faulting implementation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Fault {
    /// `panic!` (caught by the runner: a `crash` verdict).
    Panic = 1,
    /// Sleeps [`SLEEP`] (a hang).
    Sleep = 2,
    /// Returns `Reject::Internal`.
    Internal = 3,
    /// `std::process::abort()` (SIGABRT).
    Abort = 4,
    /// Unbounded recursion (stack overflow: SIGABRT after Rust's guard-page message).
    StackOverflow = 5,
    /// Allocates and touches [`ALLOC_BYTES`], then holds it for [`SLEEP`].
    Allocate = 6,
}

/// How long [`Fault::Sleep`] and [`Fault::Allocate`] hold (far beyond any test's `--timeout`).
pub const SLEEP: Duration = Duration::from_secs(600);
/// Memory [`Fault::Allocate`] touches, bytes (bounded, so a run without a limit does not take the
/// machine down).
pub const ALLOC_BYTES: usize = 1536 << 20;

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 6] = [Fault::Panic, Fault::Sleep, Fault::Internal, Fault::Abort, Fault::StackOverflow, Fault::Allocate];

    fn from_code(code: u64) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| *f as u64 == code)
    }
}

/// Bit of an implementation in the target mask.
fn bit(name: &str) -> u64 {
    match name {
        "spec" => 1,
        "fast" => 2,
        _ => 0,
    }
}

/// The `exit.epoch` that makes the implementations in `implementations` (`"spec"`, `"fast"`)
/// commit `fault`.
pub fn epoch(fault: Fault, implementations: &[&str]) -> u64 {
    MAGIC | ((fault as u64) << 8) | implementations.iter().map(|n| bit(n)).fold(0, |a, b| a | b)
}

/// A `voluntary_exit` input (selector 0) that triggers `fault` in `implementations`.
pub fn input(fault: Fault, implementations: &[&str]) -> Vec<u8> {
    let epoch = epoch(fault, implementations);
    let exit = SignedVoluntaryExit { message: VoluntaryExit { epoch, validator_index: epoch ^ CHECK }, signature: Default::default() };
    crate::target::encode::<MinimalSpec>(0, &Operation::VoluntaryExit(exit)).1
}

#[inline(never)]
#[allow(unconditional_recursion, reason = "the stack overflow is the fault injected")]
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 64]);
    let below = recurse(std::hint::black_box(depth.wrapping_add(1)));
    frame.iter().fold(below, |a, b| a.wrapping_add(*b))
}

fn commit(fault: Fault, name: &str) -> Result<(), Reject> {
    match fault {
        Fault::Panic => panic!("injected fault: panic in {name}"),
        Fault::Sleep => std::thread::sleep(SLEEP),
        Fault::Internal => return Err(Reject::Internal),
        Fault::Abort => std::process::abort(),
        Fault::StackOverflow => {
            std::hint::black_box(recurse(0));
        }
        Fault::Allocate => {
            let mut held: Vec<Vec<u8>> = Vec::new();
            let chunk = 64 << 20;
            while held.len() * chunk < ALLOC_BYTES {
                held.push(vec![1u8; chunk]);
            }
            std::thread::sleep(SLEEP);
            std::hint::black_box(&held);
        }
    }
    Ok(())
}

/// An implementation that commits the fault its magic inputs ask of it, else is `I` unchanged.
pub struct Faulty<I>(pub I);

impl<E: EthSpec, I: Phase0Impl<E>> Phase0Impl<E> for Faulty<I> {
    type State = I::State;
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn version(&self) -> &'static str {
        self.0.version()
    }
    fn prepare(&self, state: &BeaconState<E>) -> Result<Self::State, Reject> {
        self.0.prepare(state)
    }
    fn export(&self, state: &Self::State) -> BeaconState<E> {
        self.0.export(state)
    }
    fn export_owned(&self, state: Self::State) -> BeaconState<E> {
        self.0.export_owned(state)
    }
    fn apply(&self, state: &mut Self::State, op: &Operation<E>, bls: BlsMode) -> Result<(), Reject> {
        if let Operation::VoluntaryExit(exit) = op {
            let e = exit.message.epoch;
            if e & MAGIC_MASK == MAGIC && exit.message.validator_index == e ^ CHECK && e & bit(self.0.name()) != 0 {
                if let Some(fault) = Fault::from_code((e >> 8) & 0xFF) {
                    commit(fault, self.0.name())?;
                }
            }
        }
        self.0.apply(state, op, bls)
    }
    fn apply_chain(&self, state: &mut Self::State, blocks: &[SignedBeaconBlock<E>], validate_result: bool, bls: BlsMode) -> Result<(), ChainRejection> {
        self.0.apply_chain(state, blocks, validate_result, bls)
    }
    fn compute_shuffled_index(&self, index: u64, index_count: u64, seed: &Root) -> Result<u64, Reject> {
        self.0.compute_shuffled_index(index, index_count, seed)
    }
    fn get_rewards_deltas(&self, state: &Self::State) -> Result<RewardsDeltas, Reject> {
        self.0.get_rewards_deltas(state)
    }
    fn initialize_beacon_state_from_eth1(&self, eth1_block_hash: Root, eth1_timestamp: u64, deposits: &[Deposit]) -> Result<BeaconState<E>, Reject> {
        self.0.initialize_beacon_state_from_eth1(eth1_block_hash, eth1_timestamp, deposits)
    }
    fn is_valid_genesis_state(&self, state: &BeaconState<E>) -> Result<bool, Reject> {
        self.0.is_valid_genesis_state(state)
    }
}
