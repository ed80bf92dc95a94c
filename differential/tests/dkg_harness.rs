//! The DKG harness itself: invariant checks catch a misbehaving implementation, signatures are
//! stable and number-free, and each allowlist entry matches the difference it documents.

use diverge::dkg::{compare, run_dkg_packet, run_dkg_sequence_with, DkgConfig, DkgOutcome, DkgTarget, Masked};
use dkg_types::input::{encode_sequence_case, ResolvedStep, SequenceCase, Step};
use dkg_types::pool::{pool_state, NOW0};
use dkg_types::{BlsMode, Command, DkgImpl, GoTime, GossipPacket, NodeState, StepResult, Status};

/// Wraps the spec and corrupts its result.
struct Broken(fn(NodeState) -> NodeState);
impl DkgImpl for Broken {
    fn name(&self) -> &'static str {
        "broken"
    }
    fn packet(&self, n: &NodeState, p: &GossipPacket, now: GoTime, m: BlsMode) -> StepResult {
        dkg_spec::Spec.packet(n, p, now, m).map(self.0)
    }
    fn command(&self, n: &NodeState, c: &Command, now: GoTime, m: BlsMode) -> StepResult {
        dkg_spec::Spec.command(n, c, now, m).map(self.0)
    }
}

fn abort_at_proposed() -> (NodeState, Vec<ResolvedStep>) {
    (pool_state(3), vec![ResolvedStep::Command(Command::Abort, GoTime::unix(NOW0, 0))])
}

#[test]
fn an_edge_outside_the_table_is_an_invariant_violation() {
    let (node, steps) = abort_at_proposed();
    let bad = Broken(|mut n| {
        if let Some(c) = n.current.as_mut() {
            c.state = Status::Complete; // Proposed -> Complete is not an edge
        }
        n
    });
    let o = compare(DkgTarget::Sequence, &node, &steps, &DkgConfig::default(), &dkg_drand::Drand, &bad);
    assert_eq!(o.signature(), Some("dkg_sequence: broken: invariant/edge-in-table"));
}

#[test]
fn finished_changing_outside_complete_is_an_invariant_violation() {
    let (node, steps) = abort_at_proposed();
    let bad = Broken(|mut n| {
        n.finished = None;
        n
    });
    let o = compare(DkgTarget::Sequence, &node, &steps, &DkgConfig::default(), &dkg_drand::Drand, &bad);
    assert_eq!(o.signature(), Some("dkg_sequence: broken: invariant/finished-monotone"));
}

#[test]
fn a_state_difference_names_the_first_differing_field() {
    let (node, steps) = abort_at_proposed();
    let bad = Broken(|mut n| {
        if let Some(c) = n.current.as_mut() {
            c.acceptors.clear();
            c.rejectors.push(dkg_types::pool::participant(4));
        }
        n
    });
    let o = compare(DkgTarget::Sequence, &node, &steps, &DkgConfig::default(), &dkg_drand::Drand, &bad);
    assert_eq!(o.signature(), Some("dkg_sequence: drand-vs-broken: Ok(current.rejectors)/Ok(current.rejectors)"));
}

#[test]
fn join_without_group_file_is_allowlisted() {
    // D's Proposed e2 (pool 10), `join` without a group file: drand's StartJoin rejects first.
    let case = SequenceCase { pool: 10, steps: vec![Step::Command { now: NOW0, command: Command::Join(None) }] };
    let o = run_dkg_sequence_with(&encode_sequence_case(&case), &DkgConfig::default());
    assert_eq!(o, DkgOutcome::Allowed { masked: vec![Masked { entry: "join-group-file-precheck", step: 0 }], kinds: vec!["allowed:join-group-file-precheck".into()] });
    // Comparing only Ok/Err, they agree.
    let o = run_dkg_sequence_with(&encode_sequence_case(&case), &DkgConfig { mode: BlsMode::Real, strict: false });
    assert_eq!(o, DkgOutcome::Agree { kinds: vec!["GroupFileRequired".into()] });
}

#[test]
fn reject_as_joiner_and_leaver_is_allowlisted() {
    let mut node = pool_state(3);
    if let Some(c) = node.current.as_mut() {
        c.joining.push(node.me.clone());
        c.leaving.push(node.me.clone());
    }
    let steps = vec![ResolvedStep::Command(Command::Reject, GoTime::unix(NOW0, 0))];
    let o = compare(DkgTarget::Sequence, &node, &steps, &DkgConfig::default(), &dkg_drand::Drand, &dkg_spec::Spec);
    assert_eq!(o, DkgOutcome::Allowed { masked: vec![Masked { entry: "reject-role-order", step: 0 }], kinds: vec!["allowed:reject-role-order".into()] });
}

#[test]
fn seen_without_recipients_is_allowlisted() {
    // A first-epoch proposal {leader B, joining [B]} signed with B's own key, received by B. Go's gossip has
    // no recipient left after removing B, so it does not mark the packet seen; the spec does.
    use dkg_types::input::resolve_packet;
    use dkg_types::scenarios::{first_epoch_terms, signed};
    let mut t = first_epoch_terms(&[1], 1);
    t.leader = Some(dkg_types::pool::participant(1));
    let p = resolve_packet(&signed(1, dkg_types::Packet::Proposal(t)), &Default::default(), BlsMode::Real);
    let steps = vec![ResolvedStep::Packet(p, GoTime::unix(NOW0, 0))];
    let o = compare(DkgTarget::Sequence, &pool_state(0), &steps, &DkgConfig::default(), &dkg_drand::Drand, &dkg_spec::Spec);
    assert_eq!(o, DkgOutcome::Allowed { masked: vec![Masked { entry: "seen-without-recipients", step: 0 }], kinds: vec!["allowed:seen-without-recipients".into()] });
    // The same packet again: the spec ignores it as seen, drand processes it again without
    // changing its stored state. Masked as exactly that, and every step is still compared.
    let again = vec![steps[0].clone(), steps[0].clone()];
    let o = compare(DkgTarget::Sequence, &pool_state(0), &again, &DkgConfig::default(), &dkg_drand::Drand, &dkg_spec::Spec);
    let DkgOutcome::Allowed { masked, kinds } = o else { panic!("{o:?}") };
    assert_eq!(masked[0], Masked { entry: "seen-without-recipients", step: 0 });
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(masked.len() == 1 || masked[1] == Masked { entry: "replay-of-unmarked-packet", step: 1 }, "{masked:?}");
}

#[test]
fn comparison_goes_on_after_an_allowlisted_step() {
    // Step 0 is masked (join-group-file-precheck); step 1 is a broken result: still found.
    let case = SequenceCase { pool: 10, steps: vec![Step::Command { now: NOW0, command: Command::Join(None) }] };
    let (node, mut steps) = dkg_types::input::decode_sequence_case(&encode_sequence_case(&case)).resolve(BlsMode::Real);
    steps.push(ResolvedStep::Command(Command::Abort, GoTime::unix(NOW0, 0)));
    let bad = Broken(|mut n| {
        if let Some(c) = n.current.as_mut() {
            c.rejectors.push(dkg_types::pool::participant(4));
        }
        n
    });
    struct SpecNamedDrand;
    impl DkgImpl for SpecNamedDrand {
        fn name(&self) -> &'static str {
            "drand"
        }
        fn packet(&self, n: &NodeState, p: &GossipPacket, now: GoTime, m: BlsMode) -> StepResult {
            dkg_drand::Drand.packet(n, p, now, m)
        }
        fn command(&self, n: &NodeState, c: &Command, now: GoTime, m: BlsMode) -> StepResult {
            dkg_drand::Drand.command(n, c, now, m)
        }
    }
    let good = compare(DkgTarget::Sequence, &node, &steps, &DkgConfig::default(), &SpecNamedDrand, &dkg_spec::Spec);
    assert!(matches!(&good, DkgOutcome::Allowed { masked, .. } if masked.len() == 1), "{good:?}");
    let o = compare(DkgTarget::Sequence, &node, &steps, &DkgConfig::default(), &SpecNamedDrand, &bad);
    let DkgOutcome::Diverge(d) = o else { panic!("the step after the masked one was not compared: {o:?}") };
    assert_eq!(d.step, 1);
    assert_eq!(d.signature, "dkg_sequence: drand-vs-broken: Ok(current.rejectors)/Ok(current.rejectors)");
}

#[test]
fn empty_and_garbage_inputs_are_typed_outcomes() {
    assert_eq!(run_dkg_packet(&[]), DkgOutcome::Agree { kinds: vec!["PacketMissingMetadata".into()] });
    let o = run_dkg_packet(&[0xff; 64]);
    assert!(matches!(o, DkgOutcome::Agree { .. }), "{o:?}");
}

#[test]
fn ex_leaver_nil_final_group_is_reproduced_by_both() {
    // dkg.md 4.3: a Left state reached from Proposed has no FinalGroup and Left is not terminal,
    // so a reshare proposal at an ex-leaver dereferences nil FinalGroup.Nodes (a gRPC-recovered
    // panic in Go). Seed corpora/dkg_packet/proposal-at-left.bin.
    let seed = dkg_types::scenarios::packet_seeds().into_iter().find(|n| n.name == "proposal-at-left").unwrap();
    let o = run_dkg_packet(&dkg_types::input::encode_packet_case(&seed.case));
    // A known upstream hazard both reproduce: a finding, marked known with its reference.
    let DkgOutcome::Diverge(d) = o else { panic!("{o:?}") };
    assert_eq!(d.signature, "dkg_packet: drand+spec: NilDereference/NilDereference");
    let known = d.known.expect("marked known");
    assert_eq!(known.hazard, "NilDereference");
    assert!(known.reference.contains("drand/drand@f45e7e04"), "{}", known.reference);
}

#[test]
fn a_known_hazard_never_hides_a_later_new_divergence() {
    // Step 0: the nil FinalGroup dereference both reproduce (known); step 1: a broken result.
    let seed = dkg_types::scenarios::packet_seeds().into_iter().find(|n| n.name == "proposal-at-left").unwrap();
    let (node, packet, now) = seed.case.resolve(BlsMode::Real);
    let steps = vec![ResolvedStep::Packet(packet, now), ResolvedStep::Command(Command::Abort, now)];
    /// The spec for packets; accepts every command without changing the node.
    struct AcceptsCommands;
    impl DkgImpl for AcceptsCommands {
        fn name(&self) -> &'static str {
            "spec"
        }
        fn packet(&self, n: &NodeState, p: &GossipPacket, now: GoTime, m: BlsMode) -> StepResult {
            dkg_spec::Spec.packet(n, p, now, m)
        }
        fn command(&self, n: &NodeState, _: &Command, _: GoTime, _: BlsMode) -> StepResult {
            Ok(n.clone())
        }
    }
    let bad = AcceptsCommands;
    let only_known = compare(DkgTarget::Sequence, &node, &steps[..1], &DkgConfig::default(), &dkg_drand::Drand, &dkg_spec::Spec);
    assert!(matches!(&only_known, DkgOutcome::Diverge(d) if d.known.is_some()), "{only_known:?}");
    let o = compare(DkgTarget::Sequence, &node, &steps, &DkgConfig::default(), &dkg_drand::Drand, &bad);
    match o {
        DkgOutcome::Diverge(d) => {
            assert!(d.known.is_none() && d.step == 1, "{d:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_crash_in_both_is_a_finding() {
    struct Panics;
    impl DkgImpl for Panics {
        fn name(&self) -> &'static str {
            "panics"
        }
        fn packet(&self, _: &NodeState, _: &GossipPacket, _: GoTime, _: BlsMode) -> StepResult {
            panic!("index out of range")
        }
        fn command(&self, _: &NodeState, _: &Command, _: GoTime, _: BlsMode) -> StepResult {
            panic!("index out of range")
        }
    }
    let (node, steps) = abort_at_proposed();
    let o = compare(DkgTarget::Sequence, &node, &steps, &DkgConfig::default(), &Panics, &Panics);
    assert_eq!(o.signature(), Some("dkg_sequence: panics+panics: Crash/Crash"));
}

#[test]
fn swapped_leader_key_is_accepted_by_both() {
    // dkg.md 4.3 "Key binding": remainers are matched with FinalGroup by address only and the
    // signature is checked with the key the proposal itself lists, so a proposal that puts E's key
    // (and PoP) under A's address, signed with E's key, is accepted (Real BLS). Both models agree:
    // a protocol weakness, not a divergence. Seed corpora/dkg_packet/swapped-leader-key.bin.
    let seed = dkg_types::scenarios::packet_seeds().into_iter().find(|n| n.name == "swapped-leader-key").unwrap();
    let o = run_dkg_packet(&dkg_types::input::encode_packet_case(&seed.case));
    assert_eq!(o, DkgOutcome::Agree { kinds: vec!["Ok".into()] });
}
