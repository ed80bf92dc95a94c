//! The structure-aware generators (`mutators/src`) speak the harness's input format (issue 21
//! item 8): every generated input, as the bytes an engine would hand over, decodes through the
//! fuzz harness's own decoder for its target (`diverge::target::decode`, the one `diverge fuzz`,
//! `run` and the engine binaries call), into the operation the generator built, on the shipped
//! minimal pool. A generator framing its body differently from the target (selector, block flag
//! byte, container type) fails here, whatever the mutators' own `Op::decode` says.

use diverge::pool::StatePool;
use diverge::session::default_pool_dir;
use diverge::target::{decode, Target};
use diverge_mutators::generate::{split, Op};
use diverge_mutators::{Config, Kind, PoolView, Structured};
use diverge_types::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

type E = MinimalSpec;

/// The harness's operation for a mutator operation (the mapping `diverge fuzz` relies on).
fn expected(op: Op<E>) -> Operation<E> {
    match op {
        Op::Attestation(a) => Operation::Attestation(a),
        Op::AttesterSlashing(s) => Operation::AttesterSlashing(s),
        Op::ProposerSlashing(s) => Operation::ProposerSlashing(s),
        Op::VoluntaryExit(e) => Operation::VoluntaryExit(e),
        Op::BlockHeader(b) => Operation::BlockHeader(b),
        Op::Deposit(d) => Operation::Deposit(d),
        Op::Block(b) => Operation::Block { block: b.block, validate_result: b.flags & 1 == 1 },
    }
}

#[test]
fn every_generated_input_decodes() {
    let pool = StatePool::<E>::load(&default_pool_dir(Preset::Minimal)).expect("the shipped minimal pool loads");
    let states: Vec<&BeaconState<E>> = pool.states.iter().map(|s| s.as_ref().ok().and_then(Option::as_ref).expect("every shipped state loads")).collect();
    let views: Vec<PoolView<E>> = states.iter().map(|s| PoolView::new(*s)).collect();
    let m = Structured::<E>::new(Config::default());
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for &kind in Kind::ALL {
        let target = Target::from_name(kind.name()).unwrap_or_else(|| panic!("{}: no harness target of that name", kind.name()));
        let mut drawn = std::collections::BTreeSet::new();
        for i in 0..2_000 {
            let input = m.generate(kind, &views, &mut rng).unwrap_or_else(|| panic!("{}: draw {i} generated nothing", kind.name()));
            let decoded = decode::<E>(target, &input).unwrap_or_else(|e| panic!("{}: draw {i} is rejected by the harness's decoder: {e}", kind.name()));
            // The same selector and the same operation the generator built.
            let (sel, body) = split(&input).expect("a framed input");
            assert_eq!(decoded.selector, sel, "{}: draw {i}", kind.name());
            let op = Op::<E>::decode(kind, body).expect("the mutator reads its own input back");
            assert_eq!(decoded.operation, expected(op), "{}: draw {i} decodes to another operation", kind.name());
            // And the harness re-encodes it to the very bytes (canonical SSZ).
            assert_eq!(diverge::target::encode::<E>(decoded.selector, &decoded.operation), (target, input.clone()), "{}: draw {i}", kind.name());
            drawn.insert(pool.select(sel));
        }
        // Spread over the pool, not stuck on one state (9 minimal pool states are past
        // SHARD_COMMITTEE_PERIOD, the only ones a valid voluntary exit exists on).
        println!("{}: {} pool states drawn", kind.name(), drawn.len());
        assert!(drawn.len() >= 9, "{}: only {} pool states drawn", kind.name(), drawn.len());
    }
}
