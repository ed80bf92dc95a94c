//! Table-driven state-machine tests over both DKG implementations: every edge of dkg.md §2's
//! table is accepted and every other edge is rejected with `InvalidStateChange(from, to)`, through
//! the public packet/command API (the operation whose first check is that edge), plus the raw edge
//! functions of both crates against this file's own copy of the table.

use dkg_types::pool::{complete_e1, interim_e2, participant, A, B, C, GENESIS, GENESIS_SEED, NOW0};
use dkg_types::{BlsMode, Command, DkgError, DkgImpl, GoTime, Group, NodeState, Status};
use std::collections::BTreeSet;
use Status::*;

/// dkg.md §2 "Allowed edges", typed in again here.
const TABLE: &[(Status, &[Status])] = &[
    (Fresh, &[Proposing, Proposed]),
    (Complete, &[Proposing, Proposed]),
    (Aborted, &[Proposing, Proposed]),
    (Proposing, &[Executing, Aborted, TimedOut]),
    (Accepted, &[Executing, Aborted, TimedOut]),
    (Proposed, &[Accepted, Rejected, Joined, Left, Aborted, TimedOut]),
    (Rejected, &[Aborted, TimedOut]),
    (Joined, &[Left, Executing, Aborted, TimedOut]),
    (Executing, &[Complete, TimedOut, Failed]),
    (Left, &[Joined, Aborted, Proposed]),
    (TimedOut, &[Proposing, Proposed, Aborted]),
    (Failed, &[Proposing, Proposed, Left, Aborted]),
];

fn allowed(from: Status, to: Status) -> bool {
    TABLE.iter().any(|(f, t)| *f == from && t.contains(&to))
}

#[cfg(not(feature = "pre1318"))]
fn terminal(s: Status) -> bool {
    matches!(s, Aborted | TimedOut | Failed)
}

fn impls() -> [&'static dyn DkgImpl; 2] {
    [&dkg_drand::Drand, &dkg_spec::Spec]
}

#[test]
fn raw_edge_functions_match_the_table() {
    for from in Status::ALL {
        for to in Status::ALL {
            let want = allowed(from, to);
            assert_eq!(dkg_drand::state_machine::is_valid_state_change(from, to), want, "drand {from:?}->{to:?}");
            assert_eq!(dkg_spec::edges::allowed(from, to), want, "spec {from:?}->{to:?}");
        }
        // TimedOut is reachable only through DBState.TimedOut (test-only in drand).
        let d = interim_e2(from, &[A, B, C], &[], &[], 2);
        match dkg_drand::state_machine::timed_out(&d) {
            Ok(n) => assert!(allowed(from, TimedOut) && n.state == TimedOut),
            Err(e) => assert_eq!(e, DkgError::InvalidStateChange(from, TimedOut)),
        }
    }
}

fn node(s: Status, me_leaving: bool) -> NodeState {
    let current = if me_leaving { interim_e2(s, &[A, C], &[], &[B], 2) } else { interim_e2(s, &[A, B, C], &[], &[], 2) };
    NodeState {
        beacon_id: "default".into(),
        me: participant(B),
        me_key: 1,
        current: Some(current),
        finished: Some(complete_e1(&[A, B, C])),
        seen: BTreeSet::new(),
    }
}

fn e1_group() -> Group {
    Group { nodes: vec![participant(A), participant(B), participant(C)], genesis_time: GENESIS, genesis_seed: GENESIS_SEED.to_vec(), threshold: 2 }
}

/// The operation whose first check is the edge to `to`, and whether the terminal swap applies.
#[cfg(not(feature = "pre1318"))]
fn operation(to: Status) -> Option<(Command, bool, bool)> {
    use dkg_types::pool::INTERIM_TIMEOUT;
    use dkg_types::{ProposalOptions, Timestamp};
    let reshare = ProposalOptions {
        threshold: 2,
        timeout: Some(Timestamp { seconds: INTERIM_TIMEOUT, nanos: 0 }),
        catchup_period_seconds: 5,
        remaining: vec![participant(A), participant(B), participant(C)],
        ..ProposalOptions::default()
    };
    // (command, swap applies, me is a leaver)
    Some(match to {
        Proposing => (Command::Resharing(reshare), true, false),
        Accepted => (Command::Accept, true, false),
        Rejected => (Command::Reject, true, false),
        Joined => (Command::Join(Some(e1_group())), true, false),
        Executing => (Command::Execute, true, false),
        Left => (Command::Execute, true, true),
        Aborted => (Command::Abort, true, false),
        Complete => (Command::Complete { final_group: Some(e1_group()), share: Some(b"s".to_vec()) }, false, false),
        Failed => (Command::Failed, false, false),
        Fresh | Proposed | TimedOut => return None,
    })
}

// pre1318 removes the terminal-state base swap from dkg-drand on purpose (dkg_regressions.rs).
#[cfg(not(feature = "pre1318"))]
#[test]
fn every_edge_through_commands_in_both_implementations() {
    let now = GoTime::unix(NOW0, 0);
    let mut accepted = 0;
    let mut rejected = 0;
    for from in Status::ALL {
        for to in Status::ALL {
            let Some((cmd, swap, leaving)) = operation(to) else { continue };
            if matches!(to, Left | Executing) && terminal(from) {
                // Execute checks the timeout before any edge, and the swapped base (the finished
                // e1 state) has timed out long ago: TimeoutReached, asserted below.
                for imp in impls() {
                    assert_eq!(imp.command(&node(from, leaving), &cmd, now, BlsMode::Real), Err(DkgError::TimeoutReached));
                }
                continue;
            }
            let base = if swap && terminal(from) { Complete } else { from };
            for imp in impls() {
                let r = imp.command(&node(from, leaving), &cmd, now, BlsMode::Real);
                if allowed(base, to) {
                    assert_ne!(r.as_ref().err(), Some(&DkgError::InvalidStateChange(base, to)), "{} {from:?}->{to:?}", imp.name());
                    accepted += 1;
                } else {
                    assert_eq!(r, Err(DkgError::InvalidStateChange(base, to)), "{} {from:?}->{to:?}", imp.name());
                    rejected += 1;
                }
            }
        }
    }
    assert!(accepted >= 30 && rejected >= 120, "{accepted} {rejected}");
}

#[test]
fn allowed_edges_without_further_checks_succeed() {
    let now = GoTime::unix(NOW0, 0);
    for imp in impls() {
        for from in [Proposing, Proposed, Accepted, Rejected, Joined, Left] {
            let n = imp.command(&node(from, false), &Command::Abort, now, BlsMode::Real).unwrap();
            assert_eq!(n.current.unwrap().state, Aborted, "{}", imp.name());
        }
        let n = imp.command(&node(Executing, false), &Command::Failed, now, BlsMode::Real).unwrap();
        assert_eq!(n.current.unwrap().state, Failed);
        let n = imp.command(&node(Executing, false), &Command::Complete { final_group: Some(e1_group()), share: Some(vec![1]) }, now, BlsMode::Real).unwrap();
        assert_eq!((n.finished.as_ref().unwrap().state, n.finished.unwrap().epoch), (Complete, 2));
        // Execute as a leaver from Proposed leaves.
        let n = imp.command(&node(Proposed, true), &Command::Execute, now, BlsMode::Real).unwrap();
        assert_eq!(n.current.unwrap().state, Left, "{}", imp.name());
    }
}

// pre1318 removes the terminal-state base swap from dkg-drand on purpose (dkg_regressions.rs).
#[cfg(not(feature = "pre1318"))]
#[test]
fn every_edge_to_proposed_through_a_received_proposal() {
    use dkg_types::input::resolve_packet;
    use dkg_types::scenarios::{reshare_terms, signed};
    let now = GoTime::unix(NOW0, 0);
    let p = resolve_packet(&signed(A, dkg_types::Packet::Proposal(reshare_terms(2, &[A, B, C], &[], &[], 2))), &Default::default(), BlsMode::Real);
    for from in Status::ALL {
        let base = if terminal(from) { Complete } else { from };
        for imp in impls() {
            let r = imp.packet(&node(from, false), &p, now, BlsMode::Real);
            if allowed(base, Proposed) {
                assert_ne!(r.as_ref().err(), Some(&DkgError::InvalidStateChange(base, Proposed)), "{} {from:?}", imp.name());
            } else {
                assert_eq!(r, Err(DkgError::InvalidStateChange(base, Proposed)), "{} {from:?}", imp.name());
            }
            // From the terminal states the base is the finished e1: the e2 re-proposal is accepted.
            if terminal(from) {
                assert_eq!(r.unwrap().current.unwrap().state, Proposed, "{} {from:?}", imp.name());
            }
        }
    }
}
