//! Intended differences between `dkg-drand` (Go, quirks included) and `dkg-spec` (dkg.md's plain
//! reading). Each entry says why the difference is not a bug in either implementation and matches
//! one exact condition (the step, both verdicts, both nodes before the step); it masks that step
//! only, and the comparison goes on ([`super::compare`]). Anything not matched is a finding. Like
//! regex's `testdata/`: a readable table, one reason each. Each entry is tested with an input it
//! masks and a near miss it must not (`tests` below and `differential/tests/dkg_harness.rs`).

use super::Verdict;
use dkg_types::input::ResolvedStep;
use dkg_types::{Command, DkgError, NodeState, Participant};
use std::collections::BTreeSet;

/// What an entry sees of one step.
pub struct Context<'a> {
    /// The step.
    pub step: &'a ResolvedStep,
    /// drand's node before the step.
    pub drand_before: &'a NodeState,
    /// spec's node before the step.
    pub spec_before: &'a NodeState,
    /// drand's verdict.
    pub drand: &'a Verdict,
    /// spec's verdict.
    pub spec: &'a Verdict,
    /// Seen-set entries drand did not mark at earlier masked steps (`seen-without-recipients`).
    pub unmarked: &'a BTreeSet<String>,
}

/// One allowed difference.
pub struct Entry {
    /// Stable name.
    pub name: &'static str,
    /// Why it is intended.
    pub reason: &'static str,
    /// Whether the step is exactly this difference.
    pub matches: fn(&Context<'_>) -> bool,
    /// What the comparison must remember after masking it (the seen-set entries one side lacks).
    pub after: fn(&Context<'_>, &mut BTreeSet<String>),
}

fn nothing(_: &Context<'_>, _: &mut BTreeSet<String>) {}

/// Go's `gossip` recipients other than `me` (non-empty address, full equality), over the next
/// state's joining, remaining and leaving lists.
fn others_to_gossip_to(node: &NodeState) -> usize {
    node.current.as_ref().map_or(0, |c| {
        c.joining.iter().chain(&c.remaining).chain(&c.leaving).filter(|p: &&Participant| !p.address.is_empty() && **p != node.me).count()
    })
}

/// The table.
pub const ALLOWLIST: &[Entry] = &[
    Entry {
        name: "join-group-file-precheck",
        reason: "drand's StartJoin (actions_active.go) rejects a missing group file after epoch 1 with an unnamed error before DBState.Joined runs; the spec applies the state machine's checks in dkg.md order (edge, timeout, joiner membership, then the group file, ErrJoiningAfterFirstEpochNeedsGroupFile). Both reject; the spec's error is one of the checks it runs up to the group file.",
        matches: |c| {
            matches!(c.step, ResolvedStep::Command(Command::Join(None), _))
                && matches!(c.drand, Verdict::Err(DkgError::GroupFileRequired))
                && matches!(
                    c.spec,
                    Verdict::Err(
                        DkgError::InvalidStateChange(..)
                            | DkgError::TimeoutReached
                            | DkgError::CannotJoinIfNotInJoining
                            | DkgError::JoiningAfterFirstEpochNeedsGroupFile
                    )
                )
        },
        after: nothing,
    },
    Entry {
        name: "reject-role-order",
        reason: "Go's DBState.Rejected checks joining before leaving while Accepted checks leaving first; dkg.md lists Leaving/Joining for both and the spec keeps one order. Differs only for a node listed as both joiner and leaver; both reject.",
        matches: |c| {
            let both_roles = c.drand_before.current.as_ref().is_some_and(|s| s.joining.contains(&c.drand_before.me) && s.leaving.contains(&c.drand_before.me));
            matches!(c.step, ResolvedStep::Command(Command::Reject, _))
                && both_roles
                && matches!(c.drand, Verdict::Err(DkgError::CannotRejectProposalWhereJoining))
                && matches!(c.spec, Verdict::Err(DkgError::CannotRejectProposalWhereLeaving))
        },
        after: nothing,
    },
    Entry {
        name: "seen-without-recipients",
        reason: "Go's gossip (actions.go) returns before marking SeenPackets when no recipient other than the node itself is left; dkg.md says gossip marks the packet and the spec marks every accepted packet. Same stored state; drand's seen set lacks exactly the one entry the spec added. The comparison remembers that entry.",
        matches: |c| match (c.drand, c.spec) {
            (Verdict::Ok(x), Verdict::Ok(y)) => {
                let added: Vec<&String> = y.seen.difference(&c.spec_before.seen).collect();
                let mut x_as_spec = (**x).clone();
                x_as_spec.seen.clone_from(&y.seen);
                x.seen == c.drand_before.seen && added.len() == 1 && x_as_spec == **y && others_to_gossip_to(x) == 0
            }
            _ => false,
        },
        after: |c, unmarked| {
            if let Verdict::Ok(y) = c.spec {
                unmarked.extend(y.seen.difference(&c.spec_before.seen).cloned());
            }
        },
    },
    Entry {
        name: "replay-of-unmarked-packet",
        reason: "A packet whose seen mark drand skipped (seen-without-recipients, earlier in this input) comes again: the spec ignores it as seen (Ok, node unchanged), drand processes it again. Masked only when drand's stored state does not change either (an error, or Ok with the same current and finished states); a replay that changes drand's state is a finding.",
        matches: |c| {
            let ResolvedStep::Packet(p, _) = c.step else { return false };
            let replayed = p.metadata.as_ref().is_some_and(|m| c.unmarked.contains(&hex::encode(&m.signature)));
            let spec_ignored = matches!(c.spec, Verdict::Ok(y) if **y == *c.spec_before);
            let drand_unchanged = match c.drand {
                Verdict::Err(_) => true,
                Verdict::Ok(x) => x.current == c.drand_before.current && x.finished == c.drand_before.finished,
                Verdict::Crash(_) => false,
            };
            replayed && spec_ignored && drand_unchanged
        },
        after: nothing,
    },
];

/// The entry explaining the step's difference, if any.
pub fn find(ctx: &Context<'_>) -> Option<&'static Entry> {
    ALLOWLIST.iter().find(|e| (e.matches)(ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dkg_types::pool::{participant, pool_state, NOW0};
    use dkg_types::GoTime;

    fn ctx<'a>(step: &'a ResolvedStep, before: &'a NodeState, drand: &'a Verdict, spec: &'a Verdict, unmarked: &'a BTreeSet<String>) -> Context<'a> {
        Context { step, drand_before: before, spec_before: before, drand, spec, unmarked }
    }

    fn entry(c: &Context<'_>) -> Option<&'static str> {
        find(c).map(|e| e.name)
    }

    #[test]
    fn join_precheck_masks_only_the_checks_before_the_group_file() {
        let node = pool_state(10);
        let none = BTreeSet::new();
        let join = ResolvedStep::Command(Command::Join(None), GoTime::unix(NOW0, 0));
        let drand = Verdict::Err(DkgError::GroupFileRequired);
        let spec = Verdict::Err(DkgError::JoiningAfterFirstEpochNeedsGroupFile);
        assert_eq!(entry(&ctx(&join, &node, &drand, &spec, &none)), Some("join-group-file-precheck"));
        // Near misses: the spec rejects for a check after the group file; the spec accepts; a
        // join with a group file.
        let later = Verdict::Err(DkgError::GenesisSeedCannotChange);
        assert_eq!(entry(&ctx(&join, &node, &drand, &later, &none)), None);
        let ok = Verdict::Ok(Box::new(node.clone()));
        assert_eq!(entry(&ctx(&join, &node, &drand, &ok, &none)), None);
        let with_group = ResolvedStep::Command(Command::Join(Some(Default::default())), GoTime::unix(NOW0, 0));
        assert_eq!(entry(&ctx(&with_group, &node, &drand, &spec, &none)), None);
    }

    #[test]
    fn reject_role_order_needs_both_roles() {
        let mut node = pool_state(3);
        let none = BTreeSet::new();
        let reject = ResolvedStep::Command(Command::Reject, GoTime::unix(NOW0, 0));
        let drand = Verdict::Err(DkgError::CannotRejectProposalWhereJoining);
        let spec = Verdict::Err(DkgError::CannotRejectProposalWhereLeaving);
        // Near miss: the node is in neither list.
        assert_eq!(entry(&ctx(&reject, &node, &drand, &spec, &none)), None);
        if let Some(c) = node.current.as_mut() {
            c.joining.push(node.me.clone());
            c.leaving.push(node.me.clone());
        }
        assert_eq!(entry(&ctx(&reject, &node, &drand, &spec, &none)), Some("reject-role-order"));
        // Near miss: the reasons the other way round.
        assert_eq!(entry(&ctx(&reject, &node, &spec, &drand, &none)), None);
    }

    #[test]
    fn seen_without_recipients_needs_exactly_one_unmarked_entry_and_no_recipient() {
        let mut before = pool_state(3);
        assert!(before.current.is_some());
        if let Some(c) = before.current.as_mut() {
            c.joining = vec![before.me.clone()];
            c.remaining.clear();
            c.leaving.clear();
        }
        let none = BTreeSet::new();
        let step = ResolvedStep::Command(Command::Accept, GoTime::unix(NOW0, 0));
        let drand = Verdict::Ok(Box::new(before.clone()));
        let mut spec_node = before.clone();
        spec_node.seen.insert("aa".into());
        let spec = Verdict::Ok(Box::new(spec_node.clone()));
        let c = ctx(&step, &before, &drand, &spec, &none);
        assert_eq!(entry(&c), Some("seen-without-recipients"));
        let mut unmarked = BTreeSet::new();
        (ALLOWLIST[2].after)(&c, &mut unmarked);
        assert_eq!(unmarked.into_iter().collect::<Vec<_>>(), ["aa"]);
        // Near misses: two entries added; a recipient other than me; another state difference.
        spec_node.seen.insert("bb".into());
        let two = Verdict::Ok(Box::new(spec_node));
        assert_eq!(entry(&ctx(&step, &before, &drand, &two, &none)), None);
        let mut with_peer = before.clone();
        if let Some(c) = with_peer.current.as_mut() {
            c.joining.push(participant(2));
        }
        let mut spec_peer = with_peer.clone();
        spec_peer.seen.insert("aa".into());
        let (dp, sp) = (Verdict::Ok(Box::new(with_peer.clone())), Verdict::Ok(Box::new(spec_peer)));
        assert_eq!(entry(&ctx(&step, &with_peer, &dp, &sp, &none)), None);
        let mut other = before.clone();
        other.seen.insert("aa".into());
        if let Some(c) = other.current.as_mut() {
            c.epoch = c.epoch.wrapping_add(1);
        }
        assert_eq!(entry(&ctx(&step, &before, &drand, &Verdict::Ok(Box::new(other)), &none)), None);
    }

    #[test]
    fn the_phase0_style_table_has_no_catch_all() {
        // Every entry rejects a step where both sides crash or where drand crashes.
        let node = pool_state(3);
        let none = BTreeSet::new();
        let crash = Verdict::Crash("boom".into());
        for step in [ResolvedStep::Command(Command::Join(None), GoTime::unix(NOW0, 0)), ResolvedStep::Command(Command::Reject, GoTime::unix(NOW0, 0))] {
            assert_eq!(entry(&ctx(&step, &node, &crash, &crash, &none)), None);
        }
    }
}
