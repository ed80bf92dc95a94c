//! The oracles of the network targets (architecture.md §12.3): what each implementation must do
//! on its own, whatever the other does. Each returns the violation's detail (one line); the
//! runner turns it into the signature `<target>: <implementation>: <oracle>`. Bounds come from
//! the component's [`Properties`] (written from the protocol's intent, never from an
//! implementation), except the retained-bytes bound, which is one rule for every component.

use p2p_types::sim::{Stats, Stop, StepReport};
use p2p_types::{Fault, Millis, NodeId, Properties, Resources};

/// Bytes a node may retain per node of the network ([`p2p_types::Resources::retained_bytes`],
/// wire sizes of retained entries): every component's tables hold a few entries of at most some
/// tens of bytes per peer, so 1 KiB per peer is an order of magnitude of headroom, and a leak that
/// grows with time (nearcore PR 1706) crosses it within a schedule of a few hundred steps.
pub const RETAINED_BYTES_PER_PEER: usize = 1024;

/// The oracles, by the name used in signatures.
pub const ORACLES: &[&str] = &["crash", "internal", "amplification", "timer-storm", "resources", "quiescence", "convergence", "liveness"];

/// A violation: the oracle's name and what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// One of [`ORACLES`].
    pub oracle: &'static str,
    /// What happened, for people (names the node, the table, the numbers).
    pub detail: String,
}

fn v(oracle: &'static str, detail: String) -> Option<Violation> {
    Some(Violation { oracle, detail })
}

/// No panic: a [`Fault`] raised during a step (`crash` or `internal`), the first one.
pub fn fault(report: &StepReport) -> Option<Violation> {
    let (node, f) = report.faults.first()?;
    match f {
        Fault::Crash(m) => v("crash", format!("node {node}: {m}")),
        Fault::Internal(m) => v("internal", format!("node {node}: {m}")),
    }
}

/// The simulation's own limits: more messages in flight than it holds is an amplification
/// storm, more timer firings in one advance than it allows is a timer storm.
pub fn stopped(stop: Option<&Stop>) -> Option<Violation> {
    match stop? {
        Stop::InFlight(n) => v("amplification", format!("{n} messages in flight at once (simulation limit)")),
        Stop::TimerStorm(n) => v("timer-storm", format!("{n} timer firings within one advance of time (simulation limit)")),
    }
}

/// Amplification: the messages sent so far stay within `bound` per event: external events
/// (commands, joins, leaves) and network faults the schedule injected (drops, duplicates); at
/// least one, so the start of the network has a budget too.
pub fn amplification(stats: &Stats, bound: u64) -> Option<Violation> {
    let events = stats.external_events.saturating_add(stats.injected).max(1);
    let allowed = bound.saturating_mul(events);
    if stats.sent > allowed {
        return v("amplification", format!("{} messages sent for {events} events (external or injected): bound {bound} per event ({allowed})", stats.sent));
    }
    None
}

/// Resources: every bounded table within its capacity, and each node's retained bytes within
/// [`RETAINED_BYTES_PER_PEER`] × nodes. `resources` is `(node, resources)` of the live nodes.
pub fn resources(resources: &[(NodeId, Resources)], nodes: u8) -> Option<Violation> {
    let byte_bound = RETAINED_BYTES_PER_PEER.saturating_mul(usize::from(nodes));
    for (node, r) in resources {
        for (table, entries, capacity) in &r.tables {
            if let Some(cap) = capacity {
                if entries > cap {
                    return v("resources", format!("node {node}: table {table} holds {entries} entries, capacity {cap}"));
                }
            }
        }
        if r.retained_bytes > byte_bound {
            return v("resources", format!("node {node}: retains {} bytes, bound {byte_bound} ({RETAINED_BYTES_PER_PEER} per peer)", r.retained_bytes));
        }
    }
    None
}

/// Quiescence: after the schedule, the drain within its budget left nothing in flight and no
/// timer due within its horizon.
pub fn quiescence(quiet: bool, in_flight: usize, pending_timers: usize, budget: (usize, Millis)) -> Option<Violation> {
    if quiet {
        return None;
    }
    v("quiescence", format!("not quiet after {} events / {} ms of drain: {in_flight} messages in flight, {pending_timers} timers pending", budget.0, budget.1))
}

/// Convergence: [`Properties::check_converged`] over the live nodes' observations after the drain.
pub fn convergence<C: Properties>(config: &C::Config, obs: &[Option<C::Obs>]) -> Option<Violation> {
    C::check_converged(config, obs).err().and_then(|e| v("convergence", e))
}

/// Liveness: [`Properties::check_liveness`] after the drain.
pub fn liveness<C: Properties>(config: &C::Config, obs: &[Option<C::Obs>], stats: &Stats, now: Millis) -> Option<Violation> {
    C::check_liveness(config, obs, stats, now).err().and_then(|e| v("liveness", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amplification_bound_is_per_event_and_inclusive() {
        let stats = |sent, external_events| Stats { sent, external_events, ..Stats::default() };
        assert_eq!(amplification(&stats(16, 1), 16), None);
        assert_eq!(amplification(&stats(17, 1), 16).map(|x| x.oracle), Some("amplification"));
        assert_eq!(amplification(&stats(32, 2), 16), None);
        // No external event yet: one event's budget.
        assert_eq!(amplification(&stats(16, 0), 16), None);
        assert!(amplification(&stats(17, 0), 16).is_some());
        // Injected drops and duplicates count as events.
        assert_eq!(amplification(&Stats { sent: 32, external_events: 1, injected: 1, ..Stats::default() }, 16), None);
        assert!(amplification(&Stats { sent: 33, external_events: 1, injected: 1, ..Stats::default() }, 16).is_some());
    }

    #[test]
    fn resources_capacity_and_bytes() {
        let r = |entries, cap, bytes| vec![(3u8, Resources { tables: vec![("cache", entries, cap)], retained_bytes: bytes })];
        assert_eq!(resources(&r(4, Some(4), 0), 4), None);
        assert_eq!(resources(&r(9, None, 0), 4), None, "unbounded tables have no capacity to exceed");
        let over = resources(&r(5, Some(4), 0), 4).unwrap();
        assert_eq!(over.oracle, "resources");
        assert!(over.detail.contains("node 3") && over.detail.contains("cache"), "{}", over.detail);
        assert_eq!(resources(&r(0, None, 4 * RETAINED_BYTES_PER_PEER), 4), None);
        assert!(resources(&r(0, None, 4 * RETAINED_BYTES_PER_PEER + 1), 4).is_some());
    }

    #[test]
    fn stops_and_faults_name_their_oracle() {
        assert_eq!(stopped(None), None);
        assert_eq!(stopped(Some(&Stop::InFlight(5))).map(|x| x.oracle), Some("amplification"));
        assert_eq!(stopped(Some(&Stop::TimerStorm(5))).map(|x| x.oracle), Some("timer-storm"));
        let report = |f| StepReport { sent: 0, faults: vec![(2, f)] };
        assert_eq!(fault(&StepReport::default()), None);
        assert_eq!(fault(&report(Fault::Crash("x".into()))).map(|x| x.oracle), Some("crash"));
        assert_eq!(fault(&report(Fault::Internal("x".into()))).map(|x| x.oracle), Some("internal"));
        assert_eq!(quiescence(true, 0, 0, (1, 1)), None);
        assert_eq!(quiescence(false, 3, 0, (1, 1)).map(|x| x.oracle), Some("quiescence"));
    }
}
