//! Fuzz targets and their input format (architecture.md §5): the input names everything.
//!
//! - Single-operation targets: `[state selector: u16 LE][SSZ bytes of the operation]`.
//! - `block`: `[selector: u16 LE][flags: u8][SSZ SignedBeaconBlock]`; flag bit 0 = validate the
//!   state root (`validate_result`).
//! - `slots`: `[selector: u16 LE][n: u16 LE]`, `process_slots(state, state.slot + n)`.
//! - `epoch`: `[selector: u16 LE][step: u8]`, one `process_epoch` sub-function, or the whole
//!   `process_epoch` (index 10), by its index in [`EpochStep::ALL`].
//! - `chain`: `[selector: u16 LE][flags: u8][SSZ List[SignedBeaconBlock, 8]]`, 1 to
//!   [`MAX_CHAIN_BLOCKS`] blocks applied in order by `state_transition`; flag bit 0 = validate each
//!   block's state root, as for `block`. The list is SSZ's encoding of a list of variable-size
//!   items: a table of 4-byte little-endian offsets, one per block, then the blocks.
//!
//! - `ssz_decode`: `[type: u8][SSZ bytes]`, see [`crate::ssz_types::ssz_decode`]; the DKG targets:
//!   `dkg_types::input`; the network targets (`p2p_*`): a schedule, `p2p_types::schedule`.
//!
//! The selector picks a state of the pool modulo its size, so the same bytes select the same state
//! on any machine with the same pool version.

use diverge_types::ssz::Decode;
use diverge_types::*;

/// How strictly two rejections must agree.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strictness {
    /// Invalid vs invalid agrees whatever the reasons (block-level targets).
    Outcome,
    /// Invalid vs invalid agrees only with the same reason class (single-operation targets).
    Reason,
}

macro_rules! targets {
    ($($variant:ident => $name:literal, $strict:ident;)*) => {
        /// A phase0 fuzz target.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        pub enum Target { $(#[doc = concat!("`", $name, "`")] $variant,)* }
        impl Target {
            /// Every phase0 target.
            pub const ALL: &'static [Target] = &[$(Target::$variant,)*];
            /// The target's name, as used on the command line and in signatures.
            pub fn name(self) -> &'static str { match self { $(Target::$variant => $name,)* } }
            /// The default strictness of reason comparison.
            pub fn strictness(self) -> Strictness { match self { $(Target::$variant => Strictness::$strict,)* } }
        }
    };
}

targets! {
    Attestation => "attestation", Reason;
    AttesterSlashing => "attester_slashing", Reason;
    ProposerSlashing => "proposer_slashing", Reason;
    Deposit => "deposit", Reason;
    VoluntaryExit => "voluntary_exit", Reason;
    BlockHeader => "block_header", Reason;
    Block => "block", Outcome;
    Slots => "slots", Reason;
    Epoch => "epoch", Reason;
    Chain => "chain", Outcome;
    DkgPacket => "dkg_packet", Reason;
    DkgSequence => "dkg_sequence", Reason;
    SszDecode => "ssz_decode", Reason;
    P2pAnnounce => "p2p_announce", Outcome;
    P2pSessionCache => "p2p_session_cache", Outcome;
    P2pStreamSetup => "p2p_stream_setup", Outcome;
}

impl Target {
    /// Whether this is a drand DKG target (preset-independent; run by [`crate::dkg`]).
    pub fn is_dkg(self) -> bool {
        matches!(self, Target::DkgPacket | Target::DkgSequence)
    }

    /// Whether this is a network-incident target (a schedule over a simulated network; run by
    /// [`crate::p2p`], no state pool, no preset).
    pub fn is_p2p(self) -> bool {
        matches!(self, Target::P2pAnnounce | Target::P2pSessionCache | Target::P2pStreamSetup)
    }

    /// Whether inputs of this target select a state of the phase0 pool (all but the DKG, network
    /// and `ssz_decode` targets).
    pub fn uses_pool(self) -> bool {
        !(self.is_dkg() || self.is_p2p() || self == Target::SszDecode)
    }

    /// The network target's runner, for a network target.
    pub fn p2p(self) -> Option<crate::p2p::P2pTarget> {
        crate::p2p::P2pTarget::from_name(self.name())
    }

    /// Parses a target name.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.iter().copied().find(|t| t.name() == name)
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an input does not decode.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Shorter than the fixed header.
    #[error("input too short: {0} bytes")]
    TooShort(usize),
    /// The SSZ body does not decode.
    #[error("SSZ decoding failed: {0}")]
    Ssz(String),
    /// An `epoch` step byte beyond the number of sub-functions.
    #[error("epoch step {0} out of range")]
    EpochStep(u8),
    /// A `chain` input with no block, or more than [`MAX_CHAIN_BLOCKS`].
    #[error("chain of {0} blocks (1 to 8 allowed)")]
    ChainLength(usize),
    /// A DKG target given to the phase0 decoder.
    #[error("{0} is not a phase0 target")]
    NotPhase0(&'static str),
}

/// A decoded input: the pool selector and the operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded<E: EthSpec> {
    /// Raw state selector (index into the pool modulo its size).
    pub selector: u16,
    /// The operation to apply.
    pub operation: Operation<E>,
}

fn ssz<T: Decode>(bytes: &[u8]) -> Result<T, DecodeError> {
    T::from_ssz_bytes(bytes).map_err(|e| DecodeError::Ssz(format!("{e:?}")))
}

/// Decodes `data` for `target`.
///
/// # Errors
/// [`DecodeError`] for a short header, bad SSZ or an out-of-range epoch step.
pub fn decode<E: EthSpec>(target: Target, data: &[u8]) -> Result<Decoded<E>, DecodeError> {
    let (sel, body) = match data {
        [a, b, rest @ ..] => (u16::from_le_bytes([*a, *b]), rest),
        _ => return Err(DecodeError::TooShort(data.len())),
    };
    let operation = match target {
        Target::Attestation => Operation::Attestation(ssz(body)?),
        Target::AttesterSlashing => Operation::AttesterSlashing(ssz(body)?),
        Target::ProposerSlashing => Operation::ProposerSlashing(ssz(body)?),
        Target::Deposit => Operation::Deposit(ssz(body)?),
        Target::VoluntaryExit => Operation::VoluntaryExit(ssz(body)?),
        Target::BlockHeader => Operation::BlockHeader(ssz(body)?),
        Target::Block => match body {
            [flags, rest @ ..] => Operation::Block { block: ssz(rest)?, validate_result: flags & 1 == 1 },
            [] => return Err(DecodeError::TooShort(data.len())),
        },
        Target::Slots => match body {
            [a, b, ..] => Operation::Slots(u64::from(u16::from_le_bytes([*a, *b]))),
            _ => return Err(DecodeError::TooShort(data.len())),
        },
        Target::Epoch => match body {
            [step, ..] => Operation::Epoch(*EpochStep::ALL.get(usize::from(*step)).ok_or(DecodeError::EpochStep(*step))?),
            [] => return Err(DecodeError::TooShort(data.len())),
        },
        Target::Chain => match body {
            [flags, rest @ ..] => {
                let blocks: Vec<SignedBeaconBlock<E>> = ssz(rest)?;
                if blocks.is_empty() || blocks.len() > MAX_CHAIN_BLOCKS {
                    return Err(DecodeError::ChainLength(blocks.len()));
                }
                Operation::Chain { blocks, validate_result: flags & 1 == 1 }
            }
            [] => return Err(DecodeError::TooShort(data.len())),
        },
        Target::DkgPacket | Target::DkgSequence | Target::SszDecode | Target::P2pAnnounce | Target::P2pSessionCache | Target::P2pStreamSetup => {
            return Err(DecodeError::NotPhase0(target.name()))
        }
    };
    Ok(Decoded { selector: sel, operation })
}

/// Encodes an input for `target` from a selector and the operation's bytes / parameters: the
/// inverse of [`decode`], used to build seed corpora and regression files.
pub fn encode<E: EthSpec>(selector: u16, operation: &Operation<E>) -> (Target, Vec<u8>) {
    use diverge_types::ssz::Encode;
    let mut out = selector.to_le_bytes().to_vec();
    let target = match operation {
        Operation::Attestation(x) => { out.extend(x.as_ssz_bytes()); Target::Attestation }
        Operation::AttesterSlashing(x) => { out.extend(x.as_ssz_bytes()); Target::AttesterSlashing }
        Operation::ProposerSlashing(x) => { out.extend(x.as_ssz_bytes()); Target::ProposerSlashing }
        Operation::Deposit(x) => { out.extend(x.as_ssz_bytes()); Target::Deposit }
        Operation::VoluntaryExit(x) => { out.extend(x.as_ssz_bytes()); Target::VoluntaryExit }
        Operation::BlockHeader(x) => { out.extend(x.as_ssz_bytes()); Target::BlockHeader }
        Operation::Block { block, validate_result } => {
            out.push(u8::from(*validate_result));
            out.extend(block.as_ssz_bytes());
            Target::Block
        }
        Operation::Slots(n) => {
            out.extend(u16::try_from(*n).unwrap_or(u16::MAX).to_le_bytes());
            Target::Slots
        }
        Operation::Epoch(step) => {
            out.push(EpochStep::ALL.iter().position(|s| s == step).and_then(|i| u8::try_from(i).ok()).unwrap_or(0));
            Target::Epoch
        }
        Operation::Chain { blocks, validate_result } => {
            out.push(u8::from(*validate_result));
            out.extend(blocks.as_ssz_bytes());
            Target::Chain
        }
    };
    (target, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip_for_parameter_targets() {
        for op in [Operation::<MinimalSpec>::Slots(300), Operation::Epoch(EpochStep::Slashings)] {
            let (target, bytes) = encode(7, &op);
            let d = decode::<MinimalSpec>(target, &bytes).unwrap();
            assert_eq!((d.selector, d.operation), (7, op));
        }
        assert_eq!(decode::<MinimalSpec>(Target::Epoch, &[0, 0, 10]).map(|d| d.operation), Ok(Operation::Epoch(EpochStep::ProcessEpoch)));
        assert_eq!(decode::<MinimalSpec>(Target::Epoch, &[0, 0, 11]), Err(DecodeError::EpochStep(11)));
        assert_eq!(decode::<MinimalSpec>(Target::Attestation, &[1]), Err(DecodeError::TooShort(1)));
        assert!(matches!(decode::<MinimalSpec>(Target::Attestation, &[1, 0, 1, 2]), Err(DecodeError::Ssz(_))));
    }

    #[test]
    fn chain_round_trip_and_length_bounds() {
        // A real block: the shipped `block` seed of the sanity/blocks `attestation` case.
        let seed = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../corpora/block/attestation.bin")).unwrap();
        let Operation::Block { block, .. } = decode::<MinimalSpec>(Target::Block, &seed).unwrap().operation else { panic!("not a block") };
        let op = Operation::<MinimalSpec>::Chain { blocks: vec![block.clone(); 3], validate_result: true };
        let (target, bytes) = encode(5, &op);
        assert_eq!(target, Target::Chain);
        assert_eq!(bytes.get(2), Some(&1), "flags byte after the selector");
        let d = decode::<MinimalSpec>(target, &bytes).unwrap();
        assert_eq!((d.selector, d.operation), (5, op));
        for n in [0, MAX_CHAIN_BLOCKS + 1] {
            let (_, bytes) = encode(5, &Operation::<MinimalSpec>::Chain { blocks: vec![block.clone(); n], validate_result: false });
            assert_eq!(decode::<MinimalSpec>(Target::Chain, &bytes), Err(DecodeError::ChainLength(n)));
        }
        let (_, eight) = encode(5, &Operation::<MinimalSpec>::Chain { blocks: vec![block; MAX_CHAIN_BLOCKS], validate_result: false });
        assert!(decode::<MinimalSpec>(Target::Chain, &eight).is_ok());
        assert_eq!(decode::<MinimalSpec>(Target::Chain, &[5, 0]), Err(DecodeError::TooShort(2)));
    }

    #[test]
    fn names_round_trip() {
        for t in Target::ALL {
            assert_eq!(Target::from_name(t.name()), Some(*t));
        }
        assert_eq!(Target::Block.strictness(), Strictness::Outcome);
        assert_eq!(Target::Attestation.strictness(), Strictness::Reason);
    }
}
