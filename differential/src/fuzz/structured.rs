//! `diverge fuzz --mutator havoc|structured|mixed`: the structure-aware, state-aware mutators of
//! `diverge-mutators` (issue 13) behind the loop's [`Mutator`] trait. `attestation`,
//! `attester_slashing`, `proposer_slashing`, `voluntary_exit`, `block_header`, `deposit` and
//! `block` get them ([`Kind::from_name`]); `chain` gets the chain generator
//! ([`diverge_mutators::chain`], with the spec implementation as its next-state oracle); the DKG
//! targets `dkg_packet` and `dkg_sequence` get [`DkgMutator`] (no pool view needed: the DKG node
//! states are `dkg_types::pool`); every other target keeps [`Havoc`].

use super::mutate::{Havoc, Mutator};
use crate::pool::PoolError;
use crate::target::Target;
use diverge_mutators::chain::{ChainInput, ChainPool, StateTransition};
use diverge_mutators::dkg::{DkgKind, DkgMutator};
use diverge_mutators::{Config, Kind, PoolView, Structured};
use diverge_types::{BeaconState, BlsMode, EthSpec, MainnetSpec, MinimalSpec, Operation, Phase0Impl, Preset, SignedBeaconBlock};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// Which mutator the built-in loop uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MutatorKind {
    /// Byte havoc with SSZ-aware integer moves (`fuzz/mutate.rs`).
    Havoc,
    /// The structured mutator alone (undecodable inputs still get byte havoc inside it).
    Structured,
    /// Each mutation picks structured or havoc with equal odds; a havoc mutant that no longer
    /// decodes is replaced by a structured mutation with probability 0.9 ([`MIXED_REPAIR`]).
    #[default]
    Mixed,
}

impl MutatorKind {
    /// `havoc`, `structured` or `mixed`.
    pub fn name(self) -> &'static str {
        match self {
            MutatorKind::Havoc => "havoc",
            MutatorKind::Structured => "structured",
            MutatorKind::Mixed => "mixed",
        }
    }
}

impl std::str::FromStr for MutatorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "havoc" => Ok(MutatorKind::Havoc),
            "structured" => Ok(MutatorKind::Structured),
            "mixed" => Ok(MutatorKind::Mixed),
            _ => Err(format!("unknown mutator {s:?} (havoc, structured, mixed)")),
        }
    }
}

struct Typed<E: EthSpec> {
    structured: Structured<E>,
    /// The pool states (for `chain`, whose generator runs blocks on them) and their views.
    states: Vec<BeaconState<E>>,
    views: Vec<PoolView<E>>,
}

impl<E: EthSpec> Typed<E> {
    fn chain(&self, data: &mut Vec<u8>, rng: &mut ChaCha8Rng, max_len: usize) {
        let pool = ChainPool { states: &self.states, views: &self.views, executor: &SpecTransition };
        diverge_mutators::chain::mutate_chain(&self.structured.config, &pool, data, rng, max_len);
    }
}

/// The `chain` generator's next-state oracle ([`StateTransition`]): the spec implementation's
/// `state_transition` with `validate_result` off and BLS assumed valid. It only steers generation
/// (the runner compares what the implementations do with the chain), so either implementation
/// would do (fast measured no faster here: `diverge bench --target chain --mutator structured`,
/// 190 exec/s against 188); spec is the one that mirrors consensus-specs.
struct SpecTransition;

impl<E: EthSpec> StateTransition<E> for SpecTransition {
    fn state_transition(&self, state: &BeaconState<E>, block: &SignedBeaconBlock<E>) -> Option<BeaconState<E>> {
        let mut s = Phase0Impl::<E>::prepare(&diverge_spec::SpecImpl, state).ok()?;
        let op = Operation::Block { block: block.clone(), validate_result: false };
        diverge_spec::SpecImpl.apply(&mut s, &op, BlsMode::AssumeValid).ok()?;
        Some(Phase0Impl::<E>::export_owned(&diverge_spec::SpecImpl, s))
    }
}

enum Views {
    Minimal(Typed<MinimalSpec>),
    Mainnet(Typed<MainnetSpec>),
}

/// The mutator of a campaign: [`MutatorKind`] over the views of one pool.
pub struct PoolMutator {
    kind: MutatorKind,
    views: Option<Views>,
    dkg: DkgMutator,
}

impl PoolMutator {
    /// Plain havoc (no pool needed).
    pub fn havoc() -> Self {
        Self::without_pool(MutatorKind::Havoc)
    }

    /// `kind` without pool views: the DKG targets get their structured mutator, the phase0
    /// targets havoc.
    pub fn without_pool(kind: MutatorKind) -> Self {
        PoolMutator { kind, views: None, dkg: DkgMutator::default() }
    }

    /// Loads the pool at `pool_dir` again (the runner releases its plain states once the
    /// implementations prepared them) and keeps a [`PoolView`] of every state, in manifest order
    /// so that a view's index is the selector that picks its state. With an unavailable state the
    /// indices would shift, so the mutator then falls back to havoc (said on standard error).
    ///
    /// # Errors
    /// A missing or malformed pool manifest.
    pub fn new(kind: MutatorKind, preset: Preset, pool_dir: &Path) -> Result<Self, PoolError> {
        if kind == MutatorKind::Havoc {
            return Ok(Self::havoc());
        }
        fn typed<E: EthSpec>(pool_dir: &Path) -> Result<Option<Typed<E>>, PoolError> {
            let pool = crate::pool::load::<E>(pool_dir)?;
            let states: Option<Vec<BeaconState<E>>> = pool.states.into_iter().map(|s| s.ok().flatten()).collect();
            if states.is_none() {
                eprintln!("diverge fuzz: a state of the pool at {} is unavailable; the structured mutator falls back to havoc", pool_dir.display());
            }
            Ok(states.map(|states| Typed { structured: Structured::new(Config::default()), views: states.iter().map(PoolView::new).collect(), states }))
        }
        let views = match preset {
            Preset::Minimal => typed::<MinimalSpec>(pool_dir)?.map(Views::Minimal),
            Preset::Mainnet => typed::<MainnetSpec>(pool_dir)?.map(Views::Mainnet),
        };
        Ok(PoolMutator { kind, views, dkg: DkgMutator::default() })
    }

    /// Signs generated inputs for real under [`BlsMode::Real`] ([`Config::sign`]: the spec tests'
    /// keys, aggregates for attestations; a mutation keeps, re-signs, corrupts or swaps them), so a
    /// `--bls real` campaign compares the signature paths. Off under `assume-valid`, where signing
    /// would only cost time.
    pub fn with_bls(mut self, mode: BlsMode) -> Self {
        let sign = mode == BlsMode::Real;
        match &mut self.views {
            Some(Views::Minimal(t)) => t.structured.config.sign = sign,
            Some(Views::Mainnet(t)) => t.structured.config.sign = sign,
            None => {}
        }
        self
    }

    /// The kind in use.
    pub fn kind(&self) -> MutatorKind {
        self.kind
    }

    /// Whether `target`'s structured mutator needs the pool (the phase0 [`Kind`]s and `chain`;
    /// the DKG mutators carry their own states): a worker loads it only then.
    pub fn needs_pool(target: Target) -> bool {
        Kind::from_name(target.name()).is_some() || target == Target::Chain
    }
}

/// In `mixed` mode, the chance that a havoc mutant which no longer decodes is thrown away for a
/// structured mutation of the same input. Byte havoc breaks the SSZ framing of about two thirds of
/// its mutants (60–66 % undecodable on the operation targets), which test nothing past the
/// decoder (`ssz_decode` exists for that); keeping a tenth of them keeps the decoders' reject paths
/// exercised, and the campaign's undecodable share near 3 %.
const MIXED_REPAIR: f64 = 0.9;

impl PoolMutator {
    /// Whether `data` decodes for `target`'s structured mutator (`None`: the target has none).
    fn decodes(&self, target: Target, data: &[u8]) -> Option<bool> {
        if let Some(dkg) = DkgKind::from_name(target.name()) {
            return Some(diverge_mutators::dkg::canonical(dkg, data));
        }
        if target == Target::Chain {
            let body = diverge_mutators::generate::split(data).map(|(_, body)| body);
            return Some(match &self.views {
                Some(Views::Minimal(_)) => body.and_then(ChainInput::<MinimalSpec>::decode).is_some(),
                Some(Views::Mainnet(_)) => body.and_then(ChainInput::<MainnetSpec>::decode).is_some(),
                None => return None,
            });
        }
        let kind = Kind::from_name(target.name())?;
        let body = diverge_mutators::generate::split(data).map(|(_, body)| body);
        Some(match &self.views {
            Some(Views::Minimal(_)) => body.and_then(|b| diverge_mutators::generate::Op::<MinimalSpec>::decode(kind, b)).is_some(),
            Some(Views::Mainnet(_)) => body.and_then(|b| diverge_mutators::generate::Op::<MainnetSpec>::decode(kind, b)).is_some(),
            None => return None,
        })
    }

    fn structured(&self, target: Target, data: &mut Vec<u8>, corpus: &[Vec<u8>], rng: &mut ChaCha8Rng, max_len: usize) {
        if let Some(dkg) = DkgKind::from_name(target.name()) {
            return self.dkg.mutate(dkg, data, rng, max_len);
        }
        match (target, &self.views) {
            (Target::Chain, Some(Views::Minimal(t))) => return t.chain(data, rng, max_len),
            (Target::Chain, Some(Views::Mainnet(t))) => return t.chain(data, rng, max_len),
            _ => {}
        }
        match (Kind::from_name(target.name()), &self.views) {
            (Some(kind), Some(Views::Minimal(t))) => t.structured.mutate(kind, data, &t.views, rng, max_len),
            (Some(kind), Some(Views::Mainnet(t))) => t.structured.mutate(kind, data, &t.views, rng, max_len),
            _ => Havoc.mutate(target, data, corpus, rng, max_len),
        }
    }
}

impl Mutator for PoolMutator {
    fn mutate(&self, target: Target, data: &mut Vec<u8>, corpus: &[Vec<u8>], rng: &mut ChaCha8Rng, max_len: usize) {
        match self.kind {
            MutatorKind::Havoc => Havoc.mutate(target, data, corpus, rng, max_len),
            MutatorKind::Structured => self.structured(target, data, corpus, rng, max_len),
            MutatorKind::Mixed if rng.gen_bool(0.5) => self.structured(target, data, corpus, rng, max_len),
            MutatorKind::Mixed => {
                let original = data.clone();
                Havoc.mutate(target, data, corpus, rng, max_len);
                if self.decodes(target, data) == Some(false) && rng.gen_bool(MIXED_REPAIR) {
                    *data = original;
                    self.structured(target, data, corpus, rng, max_len);
                }
            }
        }
    }
}
