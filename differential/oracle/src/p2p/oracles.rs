//! The oracles of the network targets (architecture.md §12.3): what each implementation must do
//! on its own, whatever the other does. Each returns the violation's detail (one line); the
//! runner turns it into the signature `<target>: <implementation>: <oracle>`. Bounds come from
//! the component's [`Properties`] (written from the protocol's intent, never from an
//! implementation): the message and byte budget ([`Properties::budget`]) and the bytes a node may
//! retain ([`Properties::retained_bound`]), each derived in docs/network-oracles.md.

use p2p_types::sim::{Stats, Stop, StepReport};
use p2p_types::{Budget, Fault, Millis, NodeId, Properties, Resources};

/// The oracles, by the name used in signatures.
pub const ORACLES: &[&str] = &["crash", "internal", "amplification", "timer-storm", "resources", "quiescence", "convergence", "liveness", "leak"];

/// Steps of the schedule the leak oracle repeats (its first ones): long enough for a join, a few
/// announcements or setups and their deliveries, short enough that the 15 repetitions of
/// [`LEAK_REPEATS`] cost about what the schedule itself may (512 steps).
pub const LEAK_SEGMENT_STEPS: usize = 32;

/// How many times the leak oracle repeats the segment: `k` = 1, 2, 4, 8.
pub const LEAK_REPEATS: [usize; 4] = [1, 2, 4, 8];

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

/// Leak (issue 25 item 4): `retained[i][node]` is the node's retained bytes once the network is
/// quiet after the segment was repeated [`LEAK_REPEATS`]`[i]` times. State the protocol needs
/// is a function of what the network knows, and repeating a segment teaches it nothing new after
/// the first repetitions, so it saturates: a table fills towards its capacity and stops. A
/// cache that is never pruned (nearcore PR 1706's ShardsManager caches) grows with every
/// repetition instead. The oracle names a node whose retained bytes grow at every doubling of
/// `k`, at least linearly in `k` over the last two doublings (`r1 < r2 < r4 < r8` and
/// `r8 - r4 ≥ 2·(r4 - r2)`: `a + b·k` gives `4b` and `2·2b`; a cache that grows every other
/// repetition too), and ends above `quiet_bound`, what a node needs once quiet
/// ([`Properties::quiet_bound`]): a schedule repeated runs longer, and tables may fill towards
/// their capacity meanwhile (Harmony's cooldown cache and found peers do), which is no leak. A filling table would need to be still filling, as fast as ever, after 8
/// repetitions.
pub fn leak(retained: &[Vec<usize>], quiet_bound: usize) -> Option<Violation> {
    let [r1, r2, r4, r8] = retained else { return None };
    for (node, (((&a, &b), &c), &d)) in r1.iter().zip(r2).zip(r4).zip(r8).enumerate() {
        if a < b && b < c && c < d && d.saturating_sub(c) >= c.saturating_sub(b).saturating_mul(2) && d > quiet_bound {
            return v("leak", format!("node {node} retains {a}, {b}, {c}, {d} bytes once quiet after the segment repeated 1, 2, 4, 8 times (it needs at most {quiet_bound} once quiet)"));
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
    fn leak_is_growth_at_every_doubling() {
        let runs = |r: [usize; 4]| vec![vec![0, r[0]], vec![0, r[1]], vec![0, r[2]], vec![0, r[3]]];
        let linear = leak(&runs([10, 20, 40, 80]), 0).unwrap();
        assert_eq!(linear.oracle, "leak");
        assert!(linear.detail.starts_with("node 1 "), "{}", linear.detail);
        assert!(leak(&runs([10, 20, 40, 80]), 80).is_none(), "a table filling to what a quiet node needs");
        assert!(leak(&runs([10, 20, 40, 80]), 79).is_some());
        assert!(leak(&runs([10, 11, 12, 13]), 0).is_none(), "slowing growth is a table filling");
        assert!(leak(&runs([10, 20, 40, 40]), 0).is_none(), "saturated");
        assert!(leak(&runs([10, 10, 10, 10]), 0).is_none());
        assert!(leak(&runs([16, 32, 48, 64]), 0).is_none(), "growth with log k: slowing down");
        assert!(leak(&runs([5, 6, 7, 9]), 0).is_some(), "a cache that grows every other repetition");
        assert!(leak(&runs([5, 6, 7, 8]), 0).is_none());
        assert!(leak(&[vec![1]], 0).is_none(), "too few runs");
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
