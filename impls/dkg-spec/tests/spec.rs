//! dkg-spec on its own: the edge table, base-state selection, rule order, and the historical
//! sequences' fixed behaviour (Real BLS).

use dkg_spec::{base_state, edges, rules, Purpose, Spec};
use dkg_types::pool::{self, pool_state};
use dkg_types::{run_steps, scenarios, BlsMode, DkgError, DkgImpl, Status};

#[test]
fn edge_table_has_one_row_per_status_and_37_edges() {
    for s in Status::ALL {
        assert_eq!(edges::EDGES.iter().filter(|(f, _)| *f == s).count(), 1, "{s:?}");
    }
    assert_eq!(edges::EDGES.iter().map(|(_, t)| t.len()).sum::<usize>(), 37);
    assert!(edges::allowed(Status::Failed, Status::Left));
    assert!(!edges::allowed(Status::Rejected, Status::Executing));
    assert_eq!(edges::require(Status::Complete, Status::Aborted), Err(DkgError::InvalidStateChange(Status::Complete, Status::Aborted)));
}

#[test]
fn base_state_swaps_only_terminal_states_and_only_for_packets_and_commands() {
    let aborted = pool_state(4);
    assert_eq!(base_state(&aborted, Purpose::PacketOrCommand).state, Status::Complete);
    assert_eq!(base_state(&aborted, Purpose::ExecutionOutcome).state, Status::Aborted);
    let aborted_e1 = pool_state(14);
    assert_eq!(base_state(&aborted_e1, Purpose::PacketOrCommand).state, Status::Fresh);
    let left = pool_state(8);
    assert_eq!(base_state(&left, Purpose::PacketOrCommand).state, Status::Left);
    assert_eq!(base_state(&pool_state(0), Purpose::PacketOrCommand).state, Status::Fresh);
}

#[test]
fn validation_rules_are_named_and_ordered_as_documented() {
    let names: Vec<&str> = rules::VALIDATE_PROPOSAL.iter().map(|r| r.name).collect();
    let pos = |n: &str| names.iter().position(|x| x.starts_with(n)).unwrap();
    assert!(pos("beacon id") < pos("scheme") && pos("scheme") < pos("every joiner") && pos("every joiner") < pos("timeout"));
    assert!(pos("threshold <=") < pos("threshold >=") && pos("threshold >=") < pos("epoch not below"));
    assert!(pos("reshare: someone") < pos("remainers: genesis time"));
    assert!(pos("remainers: remaining+leaving within") < pos("remainers: the final group within"));
}

#[test]
fn historical_sequences_have_the_fixed_outcomes() {
    let run = |c: &dkg_types::input::SequenceCase| {
        let (n, s) = c.resolve(BlsMode::Real);
        run_steps(&Spec, &n, &s, BlsMode::Real).1
    };
    assert_eq!(run(&scenarios::abort_restart_4_1()), vec![Ok(()), Ok(()), Ok(())]);
    assert_eq!(run(&scenarios::abort_restart_3a())[2], Err(DkgError::RemainingAndLeavingNodesMustExistInCurrentEpoch));
    assert_eq!(run(&scenarios::abort_restart_3b())[2], Err(DkgError::InvalidEpoch));
    let (node, p, now) = scenarios::followup_1343(false).resolve(BlsMode::Real);
    assert_eq!(Spec.packet(&node, &p, now, BlsMode::Real).unwrap().current.unwrap().state, Status::Proposed);
    let (node, p, now) = scenarios::short_signature().resolve(BlsMode::Real);
    assert_eq!(Spec.packet(&node, &p, now, BlsMode::Real), Err(DkgError::PacketSignatureTooShort));
}

#[test]
fn proposal_timeout_boundary_is_strict_and_execute_boundary_inclusive() {
    // Validation: timeout < now fails, timeout == now passes.
    let (node, p, _) = scenarios::followup_1343(false).resolve(BlsMode::Real);
    let at = dkg_types::GoTime::unix(pool::INTERIM_TIMEOUT, 0);
    assert!(Spec.packet(&node, &p, at, BlsMode::Real).is_ok());
    assert_eq!(Spec.packet(&node, &p, at.add_seconds(1), BlsMode::Real), Err(DkgError::TimeoutReached));
}
