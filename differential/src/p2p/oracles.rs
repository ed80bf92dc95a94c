//! The oracles of the network targets (architecture.md §12.3): what each implementation must do
//! on its own, whatever the other does. Each returns the violation's detail (one line); the
//! runner turns it into the signature `<target>: <implementation>: <oracle>`. Bounds come from
//! the component's [`Properties`] (written from the protocol's intent, never from an
//! implementation): the message and byte budget ([`Properties::budget`]) and the bytes a node may
//! retain ([`Properties::retained_bound`]), each derived in docs/network-oracles.md.

use p2p_types::sim::{Stats, Stop, StepReport};
use p2p_types::{Budget, Fault, Millis, NodeId, Properties, Resources};

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

/// Amplification: the messages and the bytes sent so far stay within the component's budget
/// for the events so far ([`Properties::budget`] of the run's counters and virtual time).
pub fn amplification(stats: &Stats, budget: Budget) -> Option<Violation> {
    let events = format!(
        "{} commands, {} joins ({} commands before them), {} leaves, {} duplicates",
        stats.commands, stats.joins, stats.commands_before_joins, stats.leaves, stats.duplicates
    );
    if stats.sent > budget.messages {
        return v("amplification", format!("{} messages sent for {events}: budget {} messages", stats.sent, budget.messages));
    }
    if stats.sent_bytes > budget.bytes {
        return v("amplification", format!("{} bytes sent for {events}: budget {} bytes", stats.sent_bytes, budget.bytes));
    }
    None
}

/// Resources: every bounded table within its capacity, and each node's retained bytes within
/// `byte_bound` ([`Properties::retained_bound`]). `resources` is `(node, resources)` of the live
/// nodes.
pub fn resources(resources: &[(NodeId, Resources)], byte_bound: usize) -> Option<Violation> {
    for (node, r) in resources {
        for (table, entries, capacity) in &r.tables {
            if let Some(cap) = capacity {
                if entries > cap {
                    return v("resources", format!("node {node}: table {table} holds {entries} entries, capacity {cap}"));
                }
            }
        }
        if r.retained_bytes > byte_bound {
            return v("resources", format!("node {node}: retains {} bytes, bound {byte_bound}", r.retained_bytes));
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
    fn amplification_budget_is_inclusive_in_messages_and_in_bytes() {
        let stats = |sent, sent_bytes| Stats { sent, sent_bytes, ..Stats::default() };
        let budget = Budget { messages: 16, bytes: 40 };
        assert_eq!(amplification(&stats(16, 40), budget), None);
        let over = amplification(&stats(17, 40), budget).unwrap();
        assert_eq!(over.oracle, "amplification");
        assert!(over.detail.contains("17 messages"), "{}", over.detail);
        let over = amplification(&stats(16, 41), budget).unwrap();
        assert!(over.detail.contains("41 bytes"), "{}", over.detail);
    }

    #[test]
    fn resources_capacity_and_bytes() {
        let r = |entries, cap, bytes| vec![(3u8, Resources { tables: vec![("cache", entries, cap)], retained_bytes: bytes })];
        assert_eq!(resources(&r(4, Some(4), 0), 64), None);
        assert_eq!(resources(&r(9, None, 0), 64), None, "unbounded tables have no capacity to exceed");
        let over = resources(&r(5, Some(4), 0), 64).unwrap();
        assert_eq!(over.oracle, "resources");
        assert!(over.detail.contains("node 3") && over.detail.contains("cache"), "{}", over.detail);
        assert_eq!(resources(&r(0, None, 64), 64), None);
        assert!(resources(&r(0, None, 65), 64).is_some());
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
