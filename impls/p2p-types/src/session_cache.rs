//! Wire types and properties of the `p2p_session_cache` component: Spacemesh's UDP server and its
//! two bounded caches (the Tweedledee testnet incident, netid 116).
//!
//! Upstream (spacemeshos/go-spacemesh, fix commit `d1b3fbe866bcffd6bf10c29664eb96fd5f36dca4`,
//! PR #2125, 2020-08-25; the pre-fix code is its parent `e090af3b73ddd7af9b1dd4cf31572fac549711f3`):
//! - `p2p/net/udp.go:222-262`: a UDP packet from an address without an entry in `incomingConn`
//!   creates a session (`cache.GetOrCreate`) and an incoming connection (`addConn`);
//! - `p2p/net/udp.go:273-294` `addConn`: when `incomingConn` holds `maxUDPConn` (2048) entries,
//!   the first entry older than `maxUDPLife` (24 h) met while ranging over the map is deleted and
//!   closed, else the last one ranged over. Before the fix the expired entry was closed *after*
//!   its deletion, through the map (`n.incomingConn[k].Close()` on a missing key is a nil
//!   interface): a nil-pointer panic that took the node down. Miners crashed one after another as
//!   new peers reached their full tables (and the PoET kept unsent rounds until its disk filled,
//!   which is not modelled here);
//! - `p2p/net/session_cache.go:43-90`: the secure-session cache (`maxSessions` = 2048), which
//!   drops the oldest session when full; `p2p/net/udp.go:141-153` `Send` and `:162-173` `Dial`.
//!
//! The simulation scales the capacities (1..=4) and the lifetime (1..=64 s) so that a schedule of
//! a few hundred steps fills the tables and outlives their entries. A node is addressed by its id;
//! a packet's source address is `(node, port)`: port 0 is the node's listening socket (`Send`),
//! ports `1..=EPHEMERAL_PORTS` are the connected sockets `Dial` opens (`net.DialUDP` with a nil
//! local address picks a fresh ephemeral port), so a single peer can fill a table.

use crate::schedule::{Component, Reader, Schedule, Step, MAX_STEPS};
use crate::{sim, Budget, Millis, NodeId, Properties};

/// Largest capacity of the two tables (`maxUDPConn`, `maxSessions`, scaled down).
pub const MAX_CAPACITY: u8 = 4;
/// Number of ephemeral source ports a node cycles through for `Dial` (ports `1..=3`).
pub const EPHEMERAL_PORTS: u8 = 3;
/// Wire bytes retained per table entry (key and timestamp), for [`crate::Resources::retained_bytes`].
pub const ENTRY_BYTES: usize = 16;

/// The component's configuration (config bytes: `[capacity][lifetime][map seed]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Seed of Go's map iteration order: a `range` over a map starts at a random slot
    /// (`runtime.mapiterinit`, `fastrand`); the port of the upstream code takes that randomness
    /// from the input, through this byte (see `p2p_port::session_cache`). The model ignores it.
    pub map_seed: u8,
    /// Capacity of both tables, `1..=MAX_CAPACITY` (upstream 2048 each); byte `b` gives `1 + b % 4`.
    pub capacity: u8,
    /// Lifetime of an incoming connection in ms (`maxUDPLife`, upstream 24 h), `1..=64` s; byte `b`
    /// gives `1000 * (1 + b % 64)`.
    pub life_ms: Millis,
}

impl Default for Config {
    fn default() -> Self {
        Config { map_seed: 0, capacity: 1, life_ms: 1000 }
    }
}

/// An external command to a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `UDPNet.Send(peer)`: get or create the session with `peer` and send a ping from the
    /// listening socket (port 0). Command bytes `[0, peer]` (even tag).
    Send {
        /// The destination.
        peer: NodeId,
    },
    /// `UDPNet.Dial(peer)`: open a connected socket on the next ephemeral port, get or create the
    /// session and send a ping from that port. Command bytes `[1, peer]` (odd tag).
    Dial {
        /// The destination.
        peer: NodeId,
    },
}

/// A UDP packet.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Msg {
    /// A request from source port `port` of the sender; the receiver answers with a [`Msg::Pong`].
    Ping {
        /// The sender's source port (0 = listening socket).
        port: u8,
    },
    /// The answer, always sent from the listening socket (port 0) with `Send`.
    Pong,
}

/// `Ping`: tag and port, 2 bytes; `Pong`: the tag, 1 byte.
impl crate::Wire for Msg {
    fn wire_bytes(&self) -> u64 {
        match self {
            Msg::Ping { .. } => 2,
            Msg::Pong => 1,
        }
    }
}

/// A node's observable state: the keys of both tables, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Obs {
    /// Peers with a cached secure session (`sessionCache.sessions`).
    pub sessions: Vec<NodeId>,
    /// Source addresses `(peer, port)` with an incoming connection (`UDPNet.incomingConn`).
    pub conns: Vec<(NodeId, u8)>,
}

/// The `p2p_session_cache` schedule encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionCache;

impl Component for SessionCache {
    type Command = Command;
    type Config = Config;
    const MIN_NODES: u8 = 2;
    const MAX_NODES: u8 = 8;
    const NAME: &'static str = "p2p_session_cache";
    fn decode_config(r: &mut Reader<'_>) -> Config {
        let capacity = 1u8.saturating_add(r.u8().unwrap_or(0).checked_rem(MAX_CAPACITY).unwrap_or(0));
        let life_s = 1u64.saturating_add(u64::from(r.u8().unwrap_or(0).checked_rem(64).unwrap_or(0)));
        let map_seed = r.u8().unwrap_or(0);
        Config { map_seed, capacity, life_ms: life_s.saturating_mul(1000) }
    }
    fn encode_config(config: &Config, out: &mut Vec<u8>) {
        out.push(config.capacity.saturating_sub(1));
        let life_s = config.life_ms.checked_div(1000).unwrap_or(0).saturating_sub(1);
        out.push(u8::try_from(life_s).unwrap_or(u8::MAX));
        out.push(config.map_seed);
    }
    fn decode_command(r: &mut Reader<'_>, nodes: u8) -> Option<Command> {
        let tag = r.u8()?;
        let peer = r.u8()?.checked_rem(nodes).unwrap_or(0);
        Some(if tag.checked_rem(2) == Some(0) { Command::Send { peer } } else { Command::Dial { peer } })
    }
    fn encode_command(command: &Command, out: &mut Vec<u8>) {
        match command {
            Command::Send { peer } => out.extend([0, *peer]),
            Command::Dial { peer } => out.extend([1, *peer]),
        }
    }
}

impl Properties for SessionCache {
    type Obs = Obs;
    /// A command sends one ping, each delivered ping is answered by one pong and a pong is never
    /// answered: 2 messages per command (the oracle allows `bound × events` in all). Every ping
    /// the network duplicates (a schedule step, not an external event) is answered once more,
    /// so the bound adds [`MAX_STEPS`]. Table evictions never send.
    fn amplification_bound(_nodes: u8, _config: &Config) -> u64 {
        2u64.saturating_add(u64::try_from(MAX_STEPS).unwrap_or(u64::MAX))
    }
    /// Exact (docs/network-oracles.md §2): every command sends at most one ping (2 bytes), every
    /// delivered ping is answered by one pong (1 byte), a pong is never answered, and each ping
    /// the schedule duplicates is delivered (and answered) once more: messages ≤ `2·C + D`,
    /// bytes ≤ `3·C + D` (`C` commands, `D` duplicates). Evictions and expiry never send.
    fn budget(_nodes: u8, _config: &Config, stats: &sim::Stats, _now: Millis) -> Budget {
        Budget {
            messages: stats.commands.saturating_mul(2).saturating_add(stats.duplicates),
            bytes: stats.commands.saturating_mul(3).saturating_add(stats.duplicates),
        }
    }
    /// Both tables at capacity: `2·capacity·ENTRY_BYTES` per node, whatever the network size.
    fn retained_bound(_nodes: u8, config: &Config) -> usize {
        usize::from(config.capacity).saturating_mul(2).saturating_mul(ENTRY_BYTES)
    }
    /// No timers: the drain only delivers what is in flight, at most one ping per command or
    /// duplicate (at most [`MAX_STEPS`]) and the pong of each.
    fn drain_budget(_nodes: u8, _config: &Config) -> (usize, Millis) {
        (4usize.saturating_mul(MAX_STEPS), 1000)
    }
    /// Caches need not agree across nodes; what must hold everywhere: no table above its
    /// capacity and no entry naming the node itself (a packet never comes from oneself).
    fn check_converged(config: &Config, obs: &[Option<Obs>]) -> Result<(), String> {
        let cap = usize::from(config.capacity);
        for (id, o) in (0u8..).zip(obs) {
            let Some(o) = o else { continue };
            if o.sessions.len() > cap || o.conns.len() > cap {
                return Err(format!(
                    "node {id}: {} sessions and {} incoming connections, capacity {cap}",
                    o.sessions.len(),
                    o.conns.len()
                ));
            }
            if o.sessions.contains(&id) || o.conns.iter().any(|(p, _)| *p == id) {
                return Err(format!("node {id} caches a session with itself"));
            }
        }
        Ok(())
    }
    fn check_liveness(_config: &Config, _obs: &[Option<Obs>], _stats: &sim::Stats, _now: Millis) -> Result<(), String> {
        Ok(())
    }
    /// What the protocol guarantees two implementations agree on: the tables' sizes, not their
    /// keys. Which entry a full table gives up is the implementation's choice (upstream: the
    /// first expired one met in Go's randomised map order, else the last one ranged over; the
    /// model: the oldest), and a different choice is no bug. The sizes are guaranteed: a table
    /// grows exactly when a key it lacks arrives, up to its capacity, and stays full once full,
    /// so both have `min(capacity, distinct keys seen)` entries while neither has evicted and
    /// `capacity` after. The messages sent per step (compared by the runner) are guaranteed too.
    fn disagreement(a: &Obs, b: &Obs) -> Option<&'static str> {
        if a.sessions.len() != b.sessions.len() {
            Some("sessions.len")
        } else if a.conns.len() != b.conns.len() {
            Some("conns.len")
        } else {
            None
        }
    }
    fn seeds() -> Vec<(&'static str, Schedule<Self>)> {
        vec![
            ("sc_ping_pong", seed_ping_pong()),
            ("sc_fill_and_evict_live", seed_fill_and_evict_live()),
            ("sc_dial_ports", seed_dial_ports()),
            ("sc_expire_not_full", seed_expire_not_full()),
            ("sc_leave_rejoin", seed_leave_rejoin()),
        ]
    }
}

fn send(node: NodeId, peer: NodeId) -> Step<Command> {
    Step::Command { node, command: Command::Send { peer } }
}

fn dial(node: NodeId, peer: NodeId) -> Step<Command> {
    Step::Command { node, command: Command::Dial { peer } }
}

/// `n` deliveries of the front of the queue.
fn deliver(n: usize) -> impl Iterator<Item = Step<Command>> {
    std::iter::repeat_n(Step::Deliver(0), n)
}

/// Two nodes exchange pings; capacity 2 is never reached.
fn seed_ping_pong() -> Schedule<SessionCache> {
    let mut steps = vec![send(0, 1)];
    steps.extend(deliver(2));
    steps.push(Step::Advance(500));
    steps.push(send(1, 0));
    steps.extend(deliver(2));
    Schedule { nodes: 2, config: Config { map_seed: 0, capacity: 2, life_ms: 10_000 }, steps }
}

/// Four nodes, capacity 2: node 0's tables fill and evict live (unexpired) entries, the path
/// that worked before the fix too.
fn seed_fill_and_evict_live() -> Schedule<SessionCache> {
    let mut steps = Vec::new();
    for (i, from) in (1u8..4).enumerate() {
        steps.push(Step::Advance(100u64.saturating_mul(u64::try_from(i).unwrap_or(0))));
        steps.push(send(from, 0));
        steps.extend(deliver(2));
    }
    steps.push(send(0, 2));
    steps.extend(deliver(2));
    Schedule { nodes: 4, config: Config { map_seed: 0, capacity: 2, life_ms: 30_000 }, steps }
}

/// One peer dials three times: three source ports fill the receiver's connection table.
fn seed_dial_ports() -> Schedule<SessionCache> {
    let mut steps = Vec::new();
    for _ in 0..4 {
        steps.push(dial(1, 0));
        steps.push(Step::Advance(200));
    }
    steps.extend(deliver(8));
    Schedule { nodes: 3, config: Config { map_seed: 0, capacity: 3, life_ms: 20_000 }, steps }
}

/// Entries outlive their lifetime, but the tables are never full when a new peer arrives.
fn seed_expire_not_full() -> Schedule<SessionCache> {
    let mut steps = vec![send(1, 0)];
    steps.extend(deliver(2));
    steps.push(Step::Advance(6_000));
    steps.push(send(2, 0));
    steps.extend(deliver(2));
    Schedule { nodes: 3, config: Config { map_seed: 0, capacity: 3, life_ms: 5_000 }, steps }
}

/// A node leaves and rejoins with empty tables; the others keep their entries for it.
fn seed_leave_rejoin() -> Schedule<SessionCache> {
    let mut steps = vec![send(0, 1), send(2, 1)];
    steps.extend(deliver(4));
    steps.push(Step::Leave(1));
    steps.push(Step::Advance(1_000));
    steps.push(Step::Join(1));
    steps.push(send(1, 0));
    steps.extend(deliver(2));
    Schedule { nodes: 3, config: Config { map_seed: 0, capacity: 2, life_ms: 60_000 }, steps }
}

/// The Tweedledee regression (go-spacemesh `p2p/net/udp.go:273-294` at `e090af3b`, fixed by
/// `d1b3fbe8`, PR #2125): five nodes, capacity 2, lifetime 10 s. Nodes 0, 1 and 2 ping each
/// other, so each holds two incoming connections (full); 11 s later node 3, new to all of them,
/// pings each. With `spacemesh-session-cache-evict` each of nodes 0, 1, 2 crashes in turn
/// (`Fault::Crash`, the nil-interface `Close` on the deleted entry); in the fixed build each
/// evicts its oldest (expired) connection and answers node 3. Measured (lockstep test): the bug
/// build's port crashes nodes 0, 1 and 2 at steps 20, 23 and 26 and sends 15 messages where the
/// model sends 18 (the first divergence is step 20: node 0 sends no pong); the fixed build sends
/// 18, like the model, and no node crashes.
pub fn incident() -> Schedule<SessionCache> {
    let mut steps = Vec::new();
    for node in 0u8..3 {
        for peer in 0u8..3 {
            if node != peer {
                steps.push(send(node, peer));
            }
        }
    }
    // 6 pings and their 6 pongs.
    steps.extend(deliver(12));
    steps.push(Step::Advance(11_000));
    for peer in 0u8..3 {
        steps.push(send(3, peer));
        steps.extend(deliver(2));
    }
    Schedule { nodes: 5, config: Config { map_seed: 0, capacity: 2, life_ms: 10_000 }, steps }
}
