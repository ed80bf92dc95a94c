//! Wire types and properties of the `p2p_stream_setup` component: Harmony's stream manager and
//! discovery (the stream-setup storm, fixed with a cooldown).
//!
//! Upstream (harmony-one/harmony): `p2p/stream/common/streammanager/streammanager.go`. The fix is
//! commit `471bd1accc55be1963eb883501350f9e5c0e5915` ("\[p2p\] add cooldown mechanism at discover",
//! 2022-02-07, shipped with PR #4049 "Enable downloader") with `8f24ee77b2c8d824fe6aac34eafe0b7340821958`
//! ("fix the panic at cooldown cache": `Has` adds a peer only when absent) and
//! `6ca07108b46a5ba098e3cbfae00e953adc055560` (a stream's id is its remote peer id, so a node
//! keeps one stream per peer); the pre-fix code is `471bd1ac`'s parent
//! `957aabef2d42b3415ab3e1be0a814c4366ab54ba` — see `p2p_port::stream_setup` for the lines.
//!
//! The simulation's protocol: a node wants at least `lo` streams (`HardLoCap` = `SoftLoCap`);
//! a discovery round (`Command::Discover` tells the node which peers the DHT returned; the
//! node also rediscovers on its check tick every [`TICK_MS`] and when a stream is removed or a
//! setup fails below `lo`) sends [`Msg::Init`] to the peers it knows without a stream; the peer
//! answers [`Msg::InitAck`] and both hold the stream; [`Msg::Reset`] tears a stream (or a setup)
//! down. `HiCap` is not modelled (never reached with at most 8 nodes). A peer that left
//! [`UNANSWERED_LIMIT`] `Init`s in a row unanswered (no message at all from it since) is given up
//! until a `Discover` reports it again.
//!
//! Two peers that find each other at once both send `Init`. After the fix the simultaneous open
//! resolves (the lower id keeps its outbound stream; the higher id accepts it) and every retry
//! of a peer waits out the cooldown. Before it (feature `harmony-simultaneous-init`) the setup
//! fails on both ends (each answers the other's `Init` with `Reset`) and both rediscover at once:
//! a storm of `Init`/`Reset` at one instant of virtual time.

use crate::schedule::{Component, Reader, Schedule, Step, MAX_STEPS};
use crate::{sim, Budget, Millis, NodeId, Properties};

/// `checkInterval` (`streammanager/config.go:8` at `8f24ee77`): the discovery check tick.
pub const TICK_MS: Millis = 30_000;
/// `connectTimeout` (`streammanager/config.go:12` at `8f24ee77`): a setup without an answer
/// fails after this.
pub const CONNECT_TIMEOUT_MS: Millis = 60_000;
/// Unanswered `Init`s after which a node gives a peer up until discovery reports it again: the
/// simulated network keeps undelivered messages for ever, so a node that retried an unreachable
/// peer once per cooldown without end would fill it (see `p2p_port::stream_setup`).
pub const UNANSWERED_LIMIT: u8 = 3;
/// The node-local timer of the check tick.
pub const TICK_TIMER: crate::TimerId = 0;
/// Wire bytes retained per table entry, for [`crate::Resources::retained_bytes`].
pub const ENTRY_BYTES: usize = 16;

/// The component's configuration (config bytes: `[lo][cooldown]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Low stream threshold `1..=3` (`HardLoCap` = `SoftLoCap`); byte `b` gives `1 + b % 3`.
    pub lo: u8,
    /// Cooldown in ms (`coolDownPeriod`, `streammanager/cooldown.go:13`, upstream 1 min), `10..=60` s; byte `b` gives
    /// `10_000 * (1 + b % 6)`.
    pub cooldown_ms: Millis,
}

impl Default for Config {
    fn default() -> Self {
        Config { lo: 1, cooldown_ms: 10_000 }
    }
}

/// An external command to a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// A discovery round's result: the DHT returned these peers (bit `i` = node `i`; the node
    /// itself and peers that are not live are ignored). The node learns them and asks for
    /// discovery (`discCh`). Command bytes `[0, mask]` (even tag).
    Discover {
        /// Bit mask of peers.
        peers: u8,
    },
    /// The node closes its stream with `peer` (`RemoveStream`), if it has one. Command bytes
    /// `[1, peer]` (odd tag).
    CloseStream {
        /// The peer.
        peer: NodeId,
    },
}

/// A stream-protocol message.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Msg {
    /// Open a stream (`host.NewStream` with the sync protocol id).
    Init,
    /// The stream is accepted: both ends hold it.
    InitAck,
    /// The stream, or its setup, is torn down.
    Reset,
}

/// Every message is its tag: 1 byte.
impl crate::Wire for Msg {
    fn wire_bytes(&self) -> u64 {
        1
    }
}

/// A node's observable state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Obs {
    /// Peers with an established stream, sorted.
    pub streams: Vec<NodeId>,
    /// Peers the node learnt from discovery and still considers live, sorted (it wants a stream
    /// with them while below `lo`).
    pub known: Vec<NodeId>,
    /// Setup attempts (`Init` sent) since the node started.
    pub attempts: u32,
}

/// The `p2p_stream_setup` schedule encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamSetup;

impl Component for StreamSetup {
    type Command = Command;
    type Config = Config;
    const MIN_NODES: u8 = 2;
    const MAX_NODES: u8 = 8;
    const NAME: &'static str = "p2p_stream_setup";
    fn decode_config(r: &mut Reader<'_>) -> Config {
        let lo = 1u8.saturating_add(r.u8().unwrap_or(0).checked_rem(3).unwrap_or(0));
        let c = 1u64.saturating_add(u64::from(r.u8().unwrap_or(0).checked_rem(6).unwrap_or(0)));
        Config { lo, cooldown_ms: c.saturating_mul(10_000) }
    }
    fn encode_config(config: &Config, out: &mut Vec<u8>) {
        out.push(config.lo.saturating_sub(1));
        let c = config.cooldown_ms.checked_div(10_000).unwrap_or(0).saturating_sub(1);
        out.push(u8::try_from(c).unwrap_or(u8::MAX));
    }
    fn decode_command(r: &mut Reader<'_>, nodes: u8) -> Option<Command> {
        let tag = r.u8()?;
        let arg = r.u8()?;
        Some(if tag.checked_rem(2) == Some(0) {
            let all = 1u16.checked_shl(u32::from(nodes)).unwrap_or(0).saturating_sub(1);
            Command::Discover { peers: u8::try_from(u16::from(arg) & all).unwrap_or(arg) }
        } else {
            Command::CloseStream { peer: arg.checked_rem(nodes).unwrap_or(0) }
        })
    }
    fn encode_command(command: &Command, out: &mut Vec<u8>) {
        match command {
            Command::Discover { peers } => out.extend([0, *peers]),
            Command::CloseStream { peer } => out.extend([1, *peer]),
        }
    }
}

/// Most setup attempts a node may make in `elapsed` ms with `nodes - 1` peers: one per peer per
/// cooldown (the cooldown cache), plus the first.
pub fn attempt_bound(nodes: u8, config: &Config, elapsed: Millis) -> u64 {
    let per_peer = elapsed.checked_div(config.cooldown_ms.max(1)).unwrap_or(0).saturating_add(1);
    u64::from(nodes.saturating_sub(1)).saturating_mul(per_peer)
}

impl Properties for StreamSetup {
    type Obs = Obs;
    /// Per external event (the oracle allows `bound × events` messages in all): a `Discover`
    /// makes the node try each of at most `nodes - 1` peers up to [`UNANSWERED_LIMIT`] times
    /// before an answer, and each `Init` gets at most one `InitAck`; a leave or a closed stream
    /// makes every node rediscover once. Every message the network duplicates (a schedule step,
    /// not an external event) can be answered once, so the bound adds [`MAX_STEPS`]: a storm
    /// that grows with time still crosses it, a schedule full of duplicates does not.
    fn amplification_bound(nodes: u8, _config: &Config) -> u64 {
        let n = u64::from(nodes);
        let per_event = 2u64.saturating_mul(u64::from(UNANSWERED_LIMIT)).saturating_mul(n).saturating_mul(n);
        per_event.saturating_add(u64::try_from(MAX_STEPS).unwrap_or(u64::MAX))
    }
    /// Exact (docs/network-oracles.md §3): an `Init` is a setup attempt, and a node life makes
    /// at most one per peer per cooldown (the cooldown cache), so the `n + J` lives of a run of
    /// `now` ms make at most `(n-1)·(n·⌊now/cooldown⌋ + n + J)` (the lives of one node id
    /// are disjoint in time). Each delivered `Init` is answered by at most one `InitAck` or
    /// `Reset`; `InitAck` and `Reset` are never answered; a `CloseStream` sends one `Reset`; a
    /// duplicated message is answered at most once more. So messages ≤ `2·I + C + D` and, every
    /// message being 1 byte, bytes the same.
    fn budget(nodes: u8, config: &Config, stats: &sim::Stats, now: Millis) -> Budget {
        let n = u64::from(nodes);
        let periods = now.checked_div(config.cooldown_ms.max(1)).unwrap_or(0);
        let lives = n.saturating_add(stats.joins);
        let inits = n.saturating_sub(1).saturating_mul(n.saturating_mul(periods).saturating_add(lives));
        let messages = inits.saturating_mul(2).saturating_add(stats.commands).saturating_add(stats.duplicates);
        Budget { messages, bytes: messages }
    }
    /// Four tables of at most `n-1` peers each: `4·(n-1)·ENTRY_BYTES` per node.
    fn retained_bound(nodes: u8, _config: &Config) -> usize {
        usize::from(nodes.saturating_sub(1)).saturating_mul(4).saturating_mul(ENTRY_BYTES)
    }
    /// Enough virtual time for the slowest recovery (a lost setup times out after
    /// [`CONNECT_TIMEOUT_MS`], the cooldown passes, the next tick retries): 5 minutes; and
    /// enough deliveries for everything a schedule can leave in flight (at most [`MAX_STEPS`]
    /// messages and duplicates, each answered and each answer possibly starting a round).
    fn drain_budget(nodes: u8, _config: &Config) -> (usize, Millis) {
        (4usize.saturating_mul(MAX_STEPS).saturating_mul(usize::from(nodes)), 300_000)
    }
    /// Streams name live peers other than the node itself.
    fn check_converged(_config: &Config, obs: &[Option<Obs>]) -> Result<(), String> {
        for (id, o) in (0u8..).zip(obs) {
            let Some(o) = o else { continue };
            for &p in &o.streams {
                if p == id {
                    return Err(format!("node {id} has a stream with itself"));
                }
                if !obs.get(usize::from(p)).is_some_and(Option::is_some) {
                    return Err(format!("node {id} keeps a stream with node {p}, which is not live"));
                }
            }
        }
        Ok(())
    }
    /// Two checks after the drain: (1) a live node below `lo` has a stream with every live peer
    /// it knows (it wants one and the peer accepts every stream); (2) no node made more setup
    /// attempts than one per peer per cooldown ([`attempt_bound`] over the run's virtual time).
    fn check_liveness(config: &Config, obs: &[Option<Obs>], _stats: &sim::Stats, now: Millis) -> Result<(), String> {
        let nodes = u8::try_from(obs.len()).unwrap_or(u8::MAX);
        let bound = attempt_bound(nodes, config, now);
        for (id, o) in (0u8..).zip(obs) {
            let Some(o) = o else { continue };
            if u64::from(o.attempts) > bound {
                return Err(format!(
                    "node {id} made {} setup attempts in {now} ms of virtual time, more than {bound} (one per peer per {} ms cooldown)",
                    o.attempts, config.cooldown_ms
                ));
            }
            if o.streams.len() < usize::from(config.lo) {
                for &p in &o.known {
                    let live = obs.get(usize::from(p)).is_some_and(Option::is_some);
                    if live && !o.streams.contains(&p) {
                        return Err(format!(
                            "node {id} has {} < {} streams and wants live peer {p}, but has no stream with it after the drain",
                            o.streams.len(),
                            config.lo
                        ));
                    }
                }
            }
        }
        Ok(())
    }
    fn seeds() -> Vec<(&'static str, Schedule<Self>)> {
        vec![
            ("ss_one_side_discovers", seed_one_side()),
            ("ss_sequential_discovery", seed_sequential()),
            ("ss_close_and_reopen", seed_close_and_reopen()),
            ("ss_leave_and_rejoin", seed_leave_rejoin()),
            ("ss_lost_init_retried", seed_lost_init()),
        ]
    }
}

fn discover(node: NodeId, peers: &[NodeId]) -> Step<Command> {
    let mask = peers.iter().fold(0u8, |m, p| m | 1u8.checked_shl(u32::from(*p)).unwrap_or(0));
    Step::Command { node, command: Command::Discover { peers: mask } }
}

fn deliver(n: usize) -> impl Iterator<Item = Step<Command>> {
    std::iter::repeat_n(Step::Deliver(0), n)
}

/// Past the bootstrap cooldown (the first discovery finds nobody and rests for a cooldown).
const AFTER_BOOT: Millis = 61_000;

/// Node 0 discovers node 1; 1 accepts.
fn seed_one_side() -> Schedule<StreamSetup> {
    let mut steps = vec![Step::Advance(AFTER_BOOT), discover(0, &[1])];
    steps.extend(deliver(2));
    Schedule { nodes: 2, config: Config { lo: 1, cooldown_ms: 60_000 }, steps }
}

/// Four nodes discover each other one after another; every setup completes before the next
/// node discovers, so no two `Init` cross.
fn seed_sequential() -> Schedule<StreamSetup> {
    let mut steps = vec![Step::Advance(AFTER_BOOT)];
    for n in 0u8..4 {
        let others: Vec<NodeId> = (0u8..4).filter(|p| *p != n).collect();
        steps.push(discover(n, &others));
        steps.extend(deliver(6));
    }
    Schedule { nodes: 4, config: Config { lo: 2, cooldown_ms: 30_000 }, steps }
}

/// A stream is closed by the peer that did not open it, after the opener's cooldown passed; the
/// opener drops below `lo` and reopens it at once.
fn seed_close_and_reopen() -> Schedule<StreamSetup> {
    let mut steps = vec![Step::Advance(AFTER_BOOT), discover(0, &[1, 2])];
    steps.extend(deliver(4));
    steps.push(Step::Advance(25_000));
    steps.push(Step::Command { node: 1, command: Command::CloseStream { peer: 0 } });
    steps.extend(deliver(3));
    Schedule { nodes: 3, config: Config { lo: 2, cooldown_ms: 20_000 }, steps }
}

/// A streamed peer leaves and rejoins; the other rediscovers it.
fn seed_leave_rejoin() -> Schedule<StreamSetup> {
    let mut steps = vec![Step::Advance(AFTER_BOOT), discover(0, &[1])];
    steps.extend(deliver(2));
    steps.push(Step::Leave(1));
    steps.push(Step::Advance(20_000));
    steps.push(Step::Join(1));
    steps.push(Step::Advance(45_000));
    steps.push(discover(0, &[1]));
    steps.extend(deliver(2));
    Schedule { nodes: 3, config: Config { lo: 1, cooldown_ms: 10_000 }, steps }
}

/// The first `Init` is lost; the setup times out and the check tick retries it.
fn seed_lost_init() -> Schedule<StreamSetup> {
    let steps = vec![
        Step::Advance(AFTER_BOOT),
        discover(1, &[0]),
        Step::Drop(0),
        Step::Advance(65_000),
        Step::Advance(30_000),
        Step::Deliver(0),
        Step::Deliver(0),
    ];
    Schedule { nodes: 2, config: Config { lo: 1, cooldown_ms: 10_000 }, steps }
}

/// The Harmony regression (`streammanager.go` at `957aabef`, before the cooldown of `471bd1ac`):
/// two nodes, low threshold 1, cooldown 60 s. Past the bootstrap cooldown both learn the other
/// from the DHT at the same moment and both send `Init` before either arrives. With
/// `harmony-simultaneous-init` each answers the other's `Init` with `Reset` and rediscovers at
/// once, so every delivery sends again, all at one instant of virtual time (61 s): the drain
/// never goes quiet, the messages exceed [`StreamSetup`]'s amplification bound (6,643 messages
/// for 2 external events in the drain budget, bound 536 per event) and the setup attempts exceed
/// one per peer per cooldown (1,596 and 2,510 against a bound of 2); left alone the storm fills
/// the simulated network (4,097 in flight). In the fixed build node 1 accepts node 0's stream,
/// node 0 ignores node 1's `Init`, and both hold one stream after 3 messages and 1 attempt each.
pub fn incident() -> Schedule<StreamSetup> {
    let mut steps = vec![Step::Advance(AFTER_BOOT), discover(0, &[1]), discover(1, &[0])];
    steps.extend(deliver(8));
    Schedule { nodes: 2, config: Config { lo: 1, cooldown_ms: 60_000 }, steps }
}
