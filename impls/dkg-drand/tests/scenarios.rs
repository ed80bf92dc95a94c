//! dkg-drand on drand's scenarios and the historical-bug sequences, in Real BLS mode.

use dkg_drand::Drand;
use dkg_types::input::ResolvedStep;
use dkg_types::scenarios;
use dkg_types::{run_steps, BlsMode, DkgError, Status};

fn run_seq(case: &dkg_types::input::SequenceCase) -> (dkg_types::NodeState, Vec<Result<(), DkgError>>) {
    let (node, steps) = case.resolve(BlsMode::Real);
    run_steps(&Drand, &node, &steps, BlsMode::Real)
}

fn status(n: &dkg_types::NodeState) -> Status {
    n.current.as_ref().map(|c| c.state).unwrap_or(Status::Fresh)
}

#[test]
fn seeds_run_as_drand_runs_them() {
    for s in scenarios::sequence_seeds() {
        let (node, out) = run_seq(&s.case);
        if cfg!(feature = "pre1318") && matches!(s.name, "abort-then-restart" | "failed-then-repropose") {
            // The re-proposal is checked against the interim e2 state that still lists D.
            assert!(out.contains(&Err(DkgError::MissingNodesInProposal)), "{}: {out:?}", s.name);
            continue;
        }
        match s.name {
            "first-epoch" => {
                assert_eq!(out, vec![Ok(()); 4], "{}", s.name);
                assert_eq!(status(&node), Status::Complete);
                assert_eq!(node.finished.as_ref().unwrap().epoch, 1);
            }
            "reshare-joiners-leavers" => {
                assert_eq!(out, vec![Ok(()); 5], "{}", s.name);
                let f = node.finished.as_ref().unwrap();
                assert_eq!((f.epoch, f.state), (2, Status::Complete));
                assert_eq!(f.acceptors.len(), 2);
            }
            "abort-then-restart" => {
                assert_eq!(out, vec![Ok(()); 5], "{}", s.name);
                assert_eq!(status(&node), Status::Executing);
            }
            "leaver-execute" => {
                assert_eq!(out, vec![Ok(())], "{}", s.name);
                assert_eq!(status(&node), Status::Left);
            }
            "duplicate-packets" => {
                assert_eq!(out, vec![Ok(()); 4], "{}", s.name);
                assert_eq!(node.current.as_ref().unwrap().acceptors.len(), 1);
                assert_eq!(node.seen.len(), 2);
            }
            "failed-then-repropose" => {
                assert_eq!(out, vec![Ok(()); 2], "{}", s.name);
                assert_eq!(status(&node), Status::Proposed);
            }
            "joiner-after-first-epoch" => {
                assert_eq!(out, vec![Ok(()); 3], "{}", s.name);
                assert_eq!(status(&node), Status::Executing);
            }
            "leader-commands" => {
                assert_eq!(out, vec![Ok(()); 2], "{}", s.name);
                assert_eq!(status(&node), Status::Executing);
                assert_eq!(node.current.as_ref().unwrap().epoch, 2);
                // B's own proposal and execute were gossiped, hence seen.
                assert_eq!(node.seen.len(), 2);
            }
            other => panic!("unexpected seed {other}"),
        }
    }
}

#[test]
fn a_tampered_signature_is_rejected_and_leaves_the_node_unchanged() {
    let (node, steps) = scenarios::abort_restart_4_1().resolve(BlsMode::Real);
    let ResolvedStep::Packet(mut p, now) = steps[0].clone() else { panic!() };
    p.metadata.as_mut().unwrap().signature[5] ^= 1;
    assert_eq!(dkg_types::DkgImpl::packet(&Drand, &node, &p, now, BlsMode::Real), Err(DkgError::BadSignature));
    // AssumeValid skips only the pairing check.
    assert!(dkg_types::DkgImpl::packet(&Drand, &node, &p, now, BlsMode::AssumeValid).is_ok());
}

#[cfg(not(any(feature = "pre1318", feature = "pre1343")))]
#[test]
fn fixed_behaviour_on_the_historical_sequences() {
    let (node, out) = run_seq(&scenarios::abort_restart_4_1());
    assert_eq!(out, vec![Ok(()), Ok(()), Ok(())]);
    assert_eq!((status(&node), node.current.as_ref().unwrap().epoch), (Status::Proposed, 2));
    let (_, out) = run_seq(&scenarios::abort_restart_3a());
    assert_eq!(out[2], Err(DkgError::RemainingAndLeavingNodesMustExistInCurrentEpoch));
    let (_, out) = run_seq(&scenarios::abort_restart_3b());
    assert_eq!(out[2], Err(DkgError::InvalidEpoch));
    for (with_c, want) in [(false, Ok(Status::Proposed)), (true, Err(DkgError::RemainingAndLeavingNodesMustExistInCurrentEpoch))] {
        let (node, p, now) = scenarios::followup_1343(with_c).resolve(BlsMode::Real);
        let got = dkg_types::DkgImpl::packet(&Drand, &node, &p, now, BlsMode::Real).map(|n| status(&n));
        assert_eq!(got, want, "with_c={with_c}");
    }
}

#[cfg(feature = "pre1318")]
#[test]
fn pre1318_reproduces_the_incident() {
    let (_, out) = run_seq(&scenarios::abort_restart_4_1());
    assert_eq!(out[2], Err(DkgError::MissingNodesInProposal));
    let (node, out) = run_seq(&scenarios::abort_restart_3a());
    assert_eq!(out[2], Ok(()));
    assert_eq!(node.current.as_ref().unwrap().remaining.len(), 4);
    let (node, out) = run_seq(&scenarios::abort_restart_3b());
    assert_eq!(out[2], Ok(()));
    assert_eq!(node.current.as_ref().unwrap().epoch, 3);
}

#[cfg(feature = "pre1343")]
#[test]
fn pre1343_reproduces_the_followup() {
    for (with_c, want) in [(false, Err(DkgError::MissingNodesInProposal)), (true, Ok(Status::Proposed))] {
        let (node, p, now) = scenarios::followup_1343(with_c).resolve(BlsMode::Real);
        let got = dkg_types::DkgImpl::packet(&Drand, &node, &p, now, BlsMode::Real).map(|n| status(&n));
        assert_eq!(got, want, "with_c={with_c}");
    }
}

#[cfg(not(feature = "short-signature-slice"))]
#[test]
fn short_signature_is_an_error() {
    let (node, p, now) = scenarios::short_signature().resolve(BlsMode::Real);
    assert_eq!(dkg_types::DkgImpl::packet(&Drand, &node, &p, now, BlsMode::Real), Err(DkgError::PacketSignatureTooShort));
}

#[cfg(feature = "short-signature-slice")]
#[test]
#[should_panic(expected = "byte index 8 is out of bounds")]
fn short_signature_panics_in_the_bug_build() {
    let (node, p, now) = scenarios::short_signature().resolve(BlsMode::Real);
    let _ = dkg_types::DkgImpl::packet(&Drand, &node, &p, now, BlsMode::Real);
}
