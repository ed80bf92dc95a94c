//! Signature checks of a block, collected as [`SignatureSet`]s in spec order and verified in one
//! batch (`bls::verify_signature_sets`): as production clients do (Lighthouse
//! `crypto/bls/src/impls/blst.rs` `verify_signature_sets`), each set is weighted by a random nonzero
//! 64-bit scalar, drawn from a CSPRNG keyed by the run's secret seed and the batch
//! ([`bls::batch_scalars`]). Whoever chooses the signatures cannot predict the scalars, so two bad
//! signatures cannot be made to cancel; a replay with the recorded seed draws the same scalars.
//!
//! Verdicts stay spec-equal: every set is added at the spec's `assert bls.Verify(...)`, after the
//! structural asserts that precede it. When a structural assert fails later, the sets collected
//! so far (exactly the signatures the spec would already have checked) are verified first, and the
//! first failing one wins ([`SigVerifier::resolve`]). On a batch failure the sets are re-checked
//! one by one in order, so the reason names the first bad signature in spec order.
//! Single operations verify immediately (no batch).

use diverge_types::bls::{self, BlsMode, PublicKey, SignatureSet};
use diverge_types::{BlsSignature, Reject, Root};

/// Collects or checks signatures.
#[derive(Debug)]
pub struct SigVerifier {
    mode: BlsMode,
    batch: bool,
    pending: Vec<(SignatureSet, Reject)>,
}

impl SigVerifier {
    /// Verifies each signature when it is added.
    pub fn immediate(mode: BlsMode) -> Self {
        SigVerifier { mode, batch: false, pending: Vec::new() }
    }

    /// Defers signatures to [`SigVerifier::finish`].
    pub fn batched(mode: BlsMode) -> Self {
        SigVerifier { mode, batch: true, pending: Vec::new() }
    }

    /// Whether signatures are checked at all (`AssumeValid` skips building sets).
    pub fn checks(&self) -> bool {
        self.mode == BlsMode::Real
    }

    /// `assert bls.FastAggregateVerify(keys, message, signature)` failing with `reject`. A `None`
    /// key is an invalid public key: the check fails.
    ///
    /// # Errors
    /// `reject` when the check fails (immediately, or after earlier pending sets pass).
    pub fn add(&mut self, keys: Option<Vec<PublicKey>>, message: Root, signature: BlsSignature, reject: Reject) -> Result<(), Reject> {
        if !self.checks() {
            return Ok(());
        }
        let Some(pubkeys) = keys else { return Err(self.resolve(reject)) };
        let set = SignatureSet { pubkeys, message, signature };
        if self.batch {
            self.pending.push((set, reject));
            Ok(())
        } else if bls::verify_signature_set(self.mode, &set) {
            Ok(())
        } else {
            Err(reject)
        }
    }

    /// The verdict when a structural assert fails with `err`: the first pending signature that
    /// fails (the spec checked it earlier), else `err`.
    pub fn resolve(&mut self, err: Reject) -> Reject {
        match self.verify_pending() {
            Ok(()) => err,
            Err(sig) => sig,
        }
    }

    fn verify_pending(&mut self) -> Result<(), Reject> {
        let pending = std::mem::take(&mut self.pending);
        if pending.is_empty() {
            return Ok(());
        }
        let sets: Vec<SignatureSet> = pending.iter().map(|(s, _)| s.clone()).collect();
        if bls::verify_signature_sets(self.mode, &sets) {
            return Ok(());
        }
        for (set, reject) in &pending {
            if !bls::verify_signature_set(self.mode, set) {
                return Err(*reject);
            }
        }
        // The batch failed but every set passes alone: only possible with negligible probability.
        Err(Reject::Internal)
    }

    /// Verifies every pending set in one batch.
    ///
    /// # Errors
    /// The reason of the first failing set in spec order.
    pub fn finish(&mut self) -> Result<(), Reject> {
        self.verify_pending()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]
mod tests {
    use super::*;
    use diverge_types::bls::testing::Keypair;

    fn set(i: u64, good: bool) -> (Option<Vec<PublicKey>>, Root, BlsSignature) {
        let kp = Keypair::deterministic(b"sig", i).unwrap();
        let msg = Root::repeat_byte(u8::try_from(i).unwrap());
        let sig = kp.sign(if good { &msg } else { &Root::ZERO });
        (Some(vec![PublicKey::from_bytes(&kp.pubkey).unwrap()]), msg, sig)
    }

    #[test]
    fn batch_names_the_first_failing_set_in_order() {
        let mut v = SigVerifier::batched(BlsMode::Real);
        let (k, m, s) = set(1, true);
        v.add(k, m, s, Reject::InvalidRandaoReveal).unwrap();
        let (k, m, s) = set(2, false);
        v.add(k, m, s, Reject::InvalidIndexedAttestationSignature).unwrap();
        let (k, m, s) = set(3, false);
        v.add(k, m, s, Reject::InvalidVoluntaryExitSignature).unwrap();
        assert_eq!(v.finish(), Err(Reject::InvalidIndexedAttestationSignature));
    }

    #[test]
    fn structural_failure_loses_to_an_earlier_bad_signature_only() {
        let mut v = SigVerifier::batched(BlsMode::Real);
        let (k, m, s) = set(1, true);
        v.add(k, m, s, Reject::InvalidRandaoReveal).unwrap();
        assert_eq!(v.resolve(Reject::AttestationTooLate), Reject::AttestationTooLate);
        let (k, m, s) = set(2, false);
        v.add(k, m, s, Reject::InvalidProposerSlashingSignature).unwrap();
        assert_eq!(v.resolve(Reject::AttestationTooLate), Reject::InvalidProposerSlashingSignature);
        // An invalid key fails at once, after earlier pending sets pass.
        let (k, m, s) = set(3, true);
        v.add(k, m, s, Reject::InvalidRandaoReveal).unwrap();
        assert_eq!(v.add(None, m, s, Reject::InvalidVoluntaryExitSignature), Err(Reject::InvalidVoluntaryExitSignature));
    }

    #[test]
    fn immediate_and_assume_valid() {
        let mut v = SigVerifier::immediate(BlsMode::Real);
        let (k, m, s) = set(4, false);
        assert_eq!(v.add(k.clone(), m, s, Reject::InvalidBlockSignature), Err(Reject::InvalidBlockSignature));
        let mut a = SigVerifier::batched(BlsMode::AssumeValid);
        assert_eq!(a.add(k, m, s, Reject::InvalidBlockSignature), Ok(()));
        assert_eq!(a.add(None, m, s, Reject::InvalidBlockSignature), Ok(()));
        assert_eq!(a.finish(), Ok(()));
    }
}
