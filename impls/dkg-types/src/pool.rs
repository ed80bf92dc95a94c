//! The pool of stored node states a fuzz input selects from (architecture.md §5: the input names
//! its own pre-state), built deterministically from the test key set. Participants A..H are test
//! keys 0..7. Times are relative to [`NOW0`]. Data only, no logic under test.

use crate::bls::{test_keys, DEFAULT_SCHEME};
use crate::model::{DbState, Group, NodeState, Participant, Status};
use crate::time::GoTime;
use std::collections::BTreeSet;

/// The reference "now" (Unix seconds) that input times are relative to: 2023-11-14T22:13:20Z.
pub const NOW0: i64 = 1_700_000_000;
/// Genesis time (Unix seconds) of the pool's network.
pub const GENESIS: i64 = 1_690_000_000;
/// Beacon id of every pool node.
pub const BEACON_ID: &str = "default";
/// Genesis seed of the pool's network (set by its epoch-1 Complete).
pub const GENESIS_SEED: &[u8] = b"diverge-dkg-genesis-seed-000001";
/// Timeout of the pool's interim states (one hour after [`NOW0`]).
pub const INTERIM_TIMEOUT: i64 = NOW0 + 3600;

/// Test participant `i % 8` (A=0, B=1, ...).
pub fn participant(i: usize) -> Participant {
    let idx = i.checked_rem(crate::bls::TEST_KEYS).unwrap_or(0);
    match test_keys().get(idx) {
        Some(k) => Participant { address: k.address.clone(), key: k.public.clone(), signature: k.pop.clone() },
        None => Participant::default(),
    }
}

/// A, B, C, D, E as indices.
pub const A: usize = 0;
/// B.
pub const B: usize = 1;
/// C.
pub const C: usize = 2;
/// D.
pub const D: usize = 3;
/// E.
pub const E: usize = 4;

fn ps(ix: &[usize]) -> Vec<Participant> {
    ix.iter().map(|i| participant(*i)).collect()
}

/// The epoch-1 Complete state: leader A, Joining [A,B,C], threshold 2, FinalGroup `qual`.
pub fn complete_e1(qual: &[usize]) -> DbState {
    DbState {
        beacon_id: BEACON_ID.into(),
        epoch: 1,
        state: Status::Complete,
        threshold: 2,
        timeout: GoTime::unix(NOW0 - 86_400, 0),
        scheme_id: DEFAULT_SCHEME.into(),
        genesis_time: GoTime::unix(GENESIS, 0),
        genesis_seed: GENESIS_SEED.to_vec(),
        catchup_period: 5,
        beacon_period: 30,
        leader: Some(participant(A)),
        remaining: vec![],
        joining: ps(&[A, B, C]),
        leaving: vec![],
        acceptors: vec![],
        rejectors: vec![],
        final_group: Some(Group { nodes: ps(qual), genesis_time: GENESIS, genesis_seed: GENESIS_SEED.to_vec(), threshold: 2 }),
        key_share: Some(b"share".to_vec()),
    }
}

/// An epoch-2 interim state after the proposal {leader A, remaining `remaining`, joining
/// `joining`, leaving `leaving`, threshold `t`} (as `Proposed` builds it), with status `status`.
pub fn interim_e2(status: Status, remaining: &[usize], joining: &[usize], leaving: &[usize], t: u32) -> DbState {
    DbState {
        beacon_id: BEACON_ID.into(),
        epoch: 2,
        state: status,
        threshold: t,
        timeout: GoTime::unix(INTERIM_TIMEOUT, 0),
        scheme_id: DEFAULT_SCHEME.into(),
        genesis_time: GoTime::unix(GENESIS, 0),
        genesis_seed: GENESIS_SEED.to_vec(),
        catchup_period: 5,
        beacon_period: 30,
        leader: Some(participant(A)),
        remaining: ps(remaining),
        joining: ps(joining),
        leaving: ps(leaving),
        acceptors: vec![],
        rejectors: vec![],
        final_group: None,
        key_share: None,
    }
}

/// The epoch-1 interim state after the first-epoch proposal {leader A, joining [A,B,C], t 2}.
pub fn interim_e1(status: Status) -> DbState {
    let mut s = interim_e2(status, &[], &[A, B, C], &[], 2);
    s.epoch = 1;
    s.genesis_seed = Vec::new();
    s
}

fn node(me: usize, current: Option<DbState>, finished: Option<DbState>) -> NodeState {
    NodeState {
        beacon_id: BEACON_ID.into(),
        me: participant(me),
        me_key: u8::try_from(me).unwrap_or(0),
        current,
        finished,
        seen: BTreeSet::new(),
    }
}

/// Number of pool states.
pub const POOL_SIZE: usize = 16;

/// Names of the pool states, by selector.
pub const POOL_NAMES: [&str; POOL_SIZE] = [
    "fresh-B",
    "complete-e1-B",
    "complete-e1-qual-AB-B",
    "proposed-e2-joinerD-B",
    "aborted-e2-joinerD-B",
    "accepted-e2-B",
    "executing-e2-B",
    "failed-e2-B",
    "left-e2-C",
    "fresh-D",
    "proposed-e2-D",
    "joined-e2-D",
    "proposed-e1-B",
    "proposed-e2-leaverC-C",
    "aborted-e1-B",
    "timedout-e2-B",
];

/// Pool state `selector % POOL_SIZE`.
pub fn pool_state(selector: u8) -> NodeState {
    let e1 = complete_e1(&[A, B, C]);
    let with_d = |s: Status| interim_e2(s, &[A, B, C], &[D], &[], 3);
    match usize::from(selector).checked_rem(POOL_SIZE).unwrap_or(0) {
        1 => node(B, Some(e1.clone()), Some(e1)),
        2 => {
            let e = complete_e1(&[A, B]);
            node(B, Some(e.clone()), Some(e))
        }
        3 => node(B, Some(with_d(Status::Proposed)), Some(e1)),
        4 => node(B, Some(with_d(Status::Aborted)), Some(e1)),
        5 => {
            let mut s = with_d(Status::Accepted);
            s.acceptors = ps(&[B]);
            node(B, Some(s), Some(e1))
        }
        6 => node(B, Some(with_d(Status::Executing)), Some(e1)),
        7 => node(B, Some(with_d(Status::Failed)), Some(e1)),
        8 => node(C, Some(interim_e2(Status::Left, &[A, B], &[], &[C], 2)), Some(e1)),
        9 => node(D, None, None),
        10 => node(D, Some(with_d(Status::Proposed)), None),
        11 => {
            let mut s = with_d(Status::Joined);
            s.final_group = e1.final_group.clone();
            node(D, Some(s), None)
        }
        12 => node(B, Some(interim_e1(Status::Proposed)), None),
        13 => node(C, Some(interim_e2(Status::Proposed, &[A, B], &[], &[C], 2)), Some(e1)),
        14 => node(B, Some(interim_e1(Status::Aborted)), None),
        15 => node(B, Some(with_d(Status::TimedOut)), Some(e1)),
        _ => node(B, None, None),
    }
}
