//! Signature checks of a block, collected as [`SignatureSet`]s in spec order and verified in one
//! batch (`bls::verify_signature_sets`, deterministic seed).
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
        match self.verify_pending(0) {
            Ok(()) => err,
            Err(sig) => sig,
        }
    }

    fn verify_pending(&mut self, seed: u64) -> Result<(), Reject> {
        let pending = std::mem::take(&mut self.pending);
        if pending.is_empty() {
            return Ok(());
        }
        let sets: Vec<SignatureSet> = pending.iter().map(|(s, _)| s.clone()).collect();
        if bls::verify_signature_sets(self.mode, &sets, seed) {
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
    pub fn finish(&mut self, seed: u64) -> Result<(), Reject> {
        self.verify_pending(seed)
    }
}
