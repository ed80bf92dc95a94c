//! The 27 phase0 SSZ container types by name, for the `ssz_static` vectors and the `ssz_decode`
//! target: one table, visited generically.

use diverge_types::ssz::{Decode, Encode};
use diverge_types::*;

/// Receives a container type chosen by name.
pub trait SszVisitor {
    /// What the visit returns.
    type Output;
    /// Called with the concrete type `T` named `name`.
    fn visit<T: Encode + Decode + TreeHash + 'static>(self, name: &'static str) -> Self::Output;
}

macro_rules! ssz_table {
    ($E:ident; $($name:ident $(<$g:ident>)?),* $(,)?) => {
        /// Every phase0 container name, sorted.
        pub const SSZ_TYPES: &[&str] = &[$(stringify!($name)),*];

        /// Calls `visitor` with the type named `name` for preset `E`; `None` for an unknown name.
        pub fn with_ssz_type<$E: EthSpec, V: SszVisitor>(name: &str, visitor: V) -> Option<V::Output> {
            match name {
                $(stringify!($name) => Some(visitor.visit::<$name $(<$g>)?>(stringify!($name))),)*
                _ => None,
            }
        }
    };
}

ssz_table!(E;
    AggregateAndProof<E>, Attestation<E>, AttestationData, AttesterSlashing<E>, BeaconBlock<E>,
    BeaconBlockBody<E>, BeaconBlockHeader, BeaconState<E>, Checkpoint, Deposit, DepositData,
    DepositMessage, Eth1Block, Eth1Data, Fork, ForkData, HistoricalBatch<E>, IndexedAttestation<E>,
    PendingAttestation<E>, ProposerSlashing, SignedAggregateAndProof<E>, SignedBeaconBlock<E>,
    SignedBeaconBlockHeader, SignedVoluntaryExit, SigningData, Validator, VoluntaryExit,
);

/// What `ssz_decode` found for one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SszDecodeOutcome {
    /// The bytes are not valid SSZ of the type (rejected from the corpus).
    Rejected,
    /// Decoded, re-encoded to the same bytes, hashed: consistent.
    Consistent {
        /// Type name.
        name: &'static str,
    },
    /// Decoded, but the encoding of the decoded value differs from the input: the decoder
    /// accepted a non-canonical encoding (two byte strings for one value).
    NonCanonical {
        /// Type name.
        name: &'static str,
    },
    /// Decoding, encoding or hashing panicked.
    Crash {
        /// Type name.
        name: &'static str,
        /// The panic message.
        message: String,
    },
}

struct RoundTrip<'a>(&'a [u8]);

impl SszVisitor for RoundTrip<'_> {
    type Output = SszDecodeOutcome;
    fn visit<T: Encode + Decode + TreeHash + 'static>(self, name: &'static str) -> SszDecodeOutcome {
        let bytes = self.0;
        let run = crate::panics::catch(|| match T::from_ssz_bytes(bytes) {
            Err(_) => SszDecodeOutcome::Rejected,
            Ok(value) => {
                let _ = value.tree_hash_root();
                if value.as_ssz_bytes() == bytes {
                    SszDecodeOutcome::Consistent { name }
                } else {
                    SszDecodeOutcome::NonCanonical { name }
                }
            }
        });
        run.unwrap_or_else(|p| SszDecodeOutcome::Crash {
            name,
            message: p.downcast_ref::<&str>().map(|s| (*s).to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_default(),
        })
    }
}

/// The `ssz_decode` target: `[type: u8 (index into SSZ_TYPES, modulo)][SSZ bytes]`. Decodes,
/// re-encodes and hashes: the decoder must never panic, and must accept only canonical encodings.
pub fn ssz_decode<E: EthSpec>(data: &[u8]) -> SszDecodeOutcome {
    let Some((selector, body)) = data.split_first() else { return SszDecodeOutcome::Rejected };
    let name = SSZ_TYPES.get(usize::from(*selector) % SSZ_TYPES.len()).copied().unwrap_or("Checkpoint");
    with_ssz_type::<E, _>(name, RoundTrip(body)).unwrap_or(SszDecodeOutcome::Rejected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_outcomes() {
        let cp = Checkpoint { epoch: 3, root: Root::repeat_byte(1) };
        let idx = SSZ_TYPES.iter().position(|n| *n == "Checkpoint").unwrap() as u8;
        let mut input = vec![idx];
        input.extend(cp.as_ssz_bytes());
        assert_eq!(ssz_decode::<MinimalSpec>(&input), SszDecodeOutcome::Consistent { name: "Checkpoint" });
        input.push(0);
        assert_eq!(ssz_decode::<MinimalSpec>(&input), SszDecodeOutcome::Rejected);
        assert_eq!(ssz_decode::<MinimalSpec>(&[]), SszDecodeOutcome::Rejected);
        assert_eq!(SSZ_TYPES.len(), 27);
    }
}
