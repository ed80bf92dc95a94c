//! Port of Harmony's stream manager and discovery
//! (`p2p/stream/common/streammanager/{streammanager.go,cooldown.go,config.go}`) as it stood after
//! the cooldown fix: harmony-one/harmony commits `471bd1accc55be1963eb883501350f9e5c0e5915`
//! ("\[p2p\] add cooldown mechanism at discover") and `8f24ee77b2c8d824fe6aac34eafe0b7340821958`
//! ("fix the panic at cooldown cache"), with `6ca07108b46a5ba098e3cbfae00e953adc055560` (the
//! stream id is the remote peer id). With the feature `harmony-simultaneous-init` it is the
//! code of `957aabef2d42b3415ab3e1be0a814c4366ab54ba` (before `471bd1ac`): no cooldown, and a
//! simultaneous open fails on both ends, each of which rediscovers at once.
//!
//! What is mirrored (line numbers of `streammanager.go` at `8f24ee77`):
//! - `StreamManager::loop_disc_task` — `:126-147`, the `discCh` case: skipped while
//!   `coolDown` is set; a round that connects nobody sets it for `coolDownPeriod`
//!   (`:139-146`). Pre-fix (`957aabef` `:123-134`): every task runs;
//! - `StreamManager::loop_tick` — `:121-124`, the `discTicker` case (`checkInterval`):
//!   discovery while below `SoftLoCap`; bootstrap discovery at start (`:117`);
//! - `StreamManager::discover_and_setup_stream` — `:297-322`: every found peer that is not
//!   the host and not in the `coolDownCache` (`cooldown.go:28-34`: `Has` adds an absent peer) gets
//!   `setupStreamWithPeer` (`:338-353`, an `Init`); returns how many;
//! - `StreamManager::handle_add_stream` / `StreamManager::handle_remove_stream` —
//!   `:239-254` / `:256-275`: one stream per peer id ("stream already exist"), and a removal below
//!   `HardLoCap` asks for discovery (`discCh`).
//!
//! Simulation stand-ins (shared with the model through the wire protocol, documented in
//! `p2p_types::stream_setup`):
//! - `FindPeers` returns the peers the schedule's `Discover` commands reported, still live and
//!   without a stream, in ascending id order;
//! - the stream handshake is `Init` / `InitAck` / `Reset`; the inbound side
//!   (`Protocol.HandleStream` → `NewStream`) accepts an `Init` and answers `InitAck`; an `Init`
//!   from a peer whose stream exists is answered `InitAck` again (the stream is there);
//! - simultaneous open: with one stream per peer id (`6ca07108`) both ends must keep the same
//!   stream, but the upstream code has no explicit rule (which stream each end's
//!   `handleAddStream` sees first is goroutine timing). The simulation needs a deterministic rule
//!   both ends agree on, and the port uses the model's: the lower id keeps its outbound stream
//!   (while its attempt is younger than `connectTimeout`), the higher id accepts it and drops its
//!   own attempt. This rule is a stand-in, not upstream code. Before the fix (at `957aabef` the
//!   stream id was still the connection's id, `6ca07108` changed it) the simulation follows the
//!   incident report: the setup fails on both ends, each answering the other's `Init` with
//!   `Reset`;
//! - a setup refused below `HardLoCap` (a `Reset` for an attempt) asks for discovery, as a
//!   removed stream does (`handleRemoveStream`): before the fix that is the immediate retry of
//!   both ends that made the storm, after it the cooldowns hold the retry back;
//! - a setup without an answer fails after `connectTimeout` (60 s), noticed at the next round;
//! - `timecache`'s lazy sweep is read as "a peer stays in the cache for `coolDownPeriod`";
//! - a peer with [`UNANSWERED_LIMIT`] `Init`s unanswered is dropped from the found peers
//!   until a `Discover` reports it again (the simulated network never loses a message it was
//!   not told to, so endless once-a-cooldown retries of a silent peer would pile up in it);
//! - the check ticker runs only while the node wants a stream (below `SoftLoCap` with a known
//!   peer without a stream): a tick then does what upstream's does, and an idle network goes
//!   quiet. Ticks stay on the `checkInterval` grid from the node's start.

use p2p_types::stream_setup::{Command, Config, Msg, Obs, CONNECT_TIMEOUT_MS, ENTRY_BYTES, TICK_MS, TICK_TIMER, UNANSWERED_LIMIT};
use p2p_types::{Fault, Millis, NodeId, Outbox, Resources, TimerId};
use std::collections::{BTreeMap, BTreeSet};

/// Whether the pre-fix behaviour is compiled in.
const PRE_FIX: bool = cfg!(feature = "harmony-simultaneous-init");

/// `coolDownCache` (`cooldown.go:16-40`): peer to the time it was added.
#[derive(Debug, Default)]
struct CoolDownCache {
    period: Millis,
    added: BTreeMap<NodeId, Millis>,
}

impl CoolDownCache {
    /// `Has` (`cooldown.go:28-34` at `8f24ee77`): whether the peer was added within the period;
    /// adds it when it was not.
    fn has(&mut self, now: Millis, id: NodeId) -> bool {
        self.added.retain(|_, t| now.saturating_sub(*t) < self.period);
        let has = self.added.contains_key(&id);
        if !has {
            self.added.insert(id, now);
        }
        has
    }
}

/// `streamManager` (`streammanager.go:33-60`).
#[derive(Debug)]
struct StreamManager {
    host: NodeId,
    /// `HardLoCap` = `SoftLoCap`.
    lo_cap: usize,
    /// `streams *streamSet`, keyed by stream id = remote peer id (`6ca07108`).
    streams: BTreeSet<NodeId>,
    /// Outbound setups in flight (`setupStreamWithPeer` goroutines): peer to start time.
    setting_up: BTreeMap<NodeId, Millis>,
    /// What the peer finder (DHT) returned so far and is still live.
    found: BTreeSet<NodeId>,
    /// `coolDown *abool.AtomicBool`, as the time it is unset (`time.Sleep(coolDownPeriod)`).
    cool_down_until: Millis,
    cool_down_cache: CoolDownCache,
    cool_down_period: Millis,
    /// Start of the ticker (`time.NewTicker(checkInterval)` in `loop`).
    started: Millis,
    /// Whether the next tick is armed.
    tick_armed: bool,
    /// `setupStreamWithPeer` calls.
    attempts: u32,
    /// `Init`s sent to a peer since the last message heard from it.
    unanswered: BTreeMap<NodeId, u8>,
    /// Number of other nodes (bounds every table).
    peers: usize,
}

impl StreamManager {
    fn have_enough_streams(&self) -> bool {
        self.streams.len() >= self.lo_cap
    }

    fn wants_streams(&self) -> bool {
        !self.have_enough_streams() && self.found.iter().any(|p| !self.streams.contains(p))
    }

    /// `discover` + `FindPeers` (`:324-336`): the found peers without a stream.
    fn discover(&self) -> Vec<NodeId> {
        self.found.iter().copied().filter(|p| !self.streams.contains(p)).collect()
    }

    /// `setupStreamWithPeer` (`:338-353`): `host.NewStream`, here an `Init`.
    fn setup_stream_with_peer(&mut self, now: Millis, pid: NodeId, out: &mut Outbox<Msg>) {
        self.attempts = self.attempts.saturating_add(1);
        let silent = self.unanswered.entry(pid).or_default();
        *silent = silent.saturating_add(1);
        self.setting_up.insert(pid, now);
        out.send(pid, Msg::Init);
    }

    /// `discoverAndSetupStream` (`:297-322`): the number of setups started.
    fn discover_and_setup_stream(&mut self, now: Millis, out: &mut Outbox<Msg>) -> usize {
        // `connectTimeout` of the setups started earlier.
        self.setting_up.retain(|_, t| now.saturating_sub(*t) < CONNECT_TIMEOUT_MS);
        let mut connecting = 0usize;
        for peer in self.discover() {
            if peer == self.host {
                continue;
            }
            if self.unanswered.get(&peer).is_some_and(|n| *n >= UNANSWERED_LIMIT) {
                // Unreachable: given up until discovery reports it again.
                self.found.remove(&peer);
                continue;
            }
            if !PRE_FIX && self.cool_down_cache.has(now, peer) {
                continue;
            }
            connecting = connecting.saturating_add(1);
            self.setup_stream_with_peer(now, peer, out);
        }
        connecting
    }

    /// The `discCh` case of `loop` (`:126-147`).
    fn loop_disc_task(&mut self, now: Millis, out: &mut Outbox<Msg>) {
        if !PRE_FIX && now < self.cool_down_until {
            return;
        }
        let discovered = self.discover_and_setup_stream(now, out);
        if !PRE_FIX && discovered == 0 {
            self.cool_down_until = now.saturating_add(self.cool_down_period);
        }
    }

    /// The `discTicker` case of `loop` (`:121-124`).
    fn loop_tick(&mut self, now: Millis, out: &mut Outbox<Msg>) {
        self.tick_armed = false;
        if !self.have_enough_streams() {
            self.loop_disc_task(now, out);
        }
    }

    /// `handleAddStream` (`:239-254`): `false` when the stream already exists.
    fn handle_add_stream(&mut self, id: NodeId) -> bool {
        self.setting_up.remove(&id);
        self.streams.insert(id)
    }

    /// `handleRemoveStream` (`:256-275`).
    fn handle_remove_stream(&mut self, now: Millis, id: NodeId, out: &mut Outbox<Msg>) {
        if !self.streams.remove(&id) {
            return; // ErrStreamAlreadyRemoved
        }
        if !self.have_enough_streams() {
            self.loop_disc_task(now, out);
        }
    }

    /// An inbound `Init` (`Protocol.HandleStream` → `sm.NewStream`).
    fn on_init(&mut self, now: Millis, from: NodeId, out: &mut Outbox<Msg>) {
        if self.streams.contains(&from) {
            out.send(from, Msg::InitAck);
            return;
        }
        // A setup older than `connectTimeout` has ended (its context expired).
        if self.setting_up.get(&from).is_some_and(|t| now.saturating_sub(*t) < CONNECT_TIMEOUT_MS) {
            if PRE_FIX {
                // Both ends fail the setup and retry at once.
                self.setting_up.remove(&from);
                out.send(from, Msg::Reset);
                if !self.have_enough_streams() {
                    self.loop_disc_task(now, out);
                }
                return;
            }
            if self.host < from {
                // Our outbound stream wins; the peer accepts it.
                return;
            }
        }
        if self.handle_add_stream(from) {
            out.send(from, Msg::InitAck);
        }
    }

    /// `host.NewStream` returns: the outbound stream is added (`handleStream` → `NewStream`).
    /// An answer after the setup timed out still completes it: the peer holds the stream.
    fn on_init_ack(&mut self, from: NodeId) {
        self.handle_add_stream(from);
    }

    fn on_reset(&mut self, now: Millis, from: NodeId, out: &mut Outbox<Msg>) {
        if self.streams.contains(&from) {
            self.handle_remove_stream(now, from, out);
        } else if self.setting_up.remove(&from).is_some() && !self.have_enough_streams() {
            // The setup failed below the threshold: discovery again.
            self.loop_disc_task(now, out);
        }
    }

    /// Arms the ticker's next tick on the `checkInterval` grid while the node wants streams.
    fn arm_tick(&mut self, now: Millis, out: &mut Outbox<Msg>) {
        if self.tick_armed || !self.wants_streams() {
            return;
        }
        let since = now.saturating_sub(self.started);
        let k = since.checked_div(TICK_MS).unwrap_or(0).saturating_add(1);
        let at = self.started.saturating_add(k.saturating_mul(TICK_MS));
        out.set_timer(at.saturating_sub(now), TICK_TIMER);
        self.tick_armed = true;
    }
}

/// One Harmony node's stream manager for the sync protocol.
#[derive(Debug)]
pub struct Node {
    sm: StreamManager,
}

impl Node {
    /// Node `id` of `nodes` with the thresholds and cooldown of `config`.
    pub fn new(id: NodeId, nodes: u8, config: &Config) -> Self {
        Node {
            sm: StreamManager {
                host: id,
                lo_cap: usize::from(config.lo),
                streams: BTreeSet::new(),
                setting_up: BTreeMap::new(),
                found: BTreeSet::new(),
                cool_down_until: 0,
                cool_down_cache: CoolDownCache { period: config.cooldown_ms, added: BTreeMap::new() },
                cool_down_period: config.cooldown_ms,
                started: 0,
                tick_armed: false,
                attempts: 0,
                unanswered: BTreeMap::new(),
                peers: usize::from(nodes.saturating_sub(1)),
            },
        }
    }
}

impl p2p_types::Node for Node {
    type Msg = Msg;
    type Command = Command;
    type Obs = Obs;
    fn on_start(&mut self, now: Millis, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        self.sm.started = now;
        // Bootstrap discovery (`:117`).
        self.sm.loop_disc_task(now, out);
        self.sm.arm_tick(now, out);
        Ok(())
    }
    fn on_peer_joined(&mut self, _now: Millis, _peer: NodeId, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }
    fn on_peer_left(&mut self, now: Millis, peer: NodeId, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        self.sm.found.remove(&peer);
        self.sm.setting_up.remove(&peer);
        self.sm.unanswered.remove(&peer);
        // The connection closed: the stream is removed (`RemoveStream`).
        self.sm.handle_remove_stream(now, peer, out);
        self.sm.arm_tick(now, out);
        Ok(())
    }
    fn on_command(&mut self, now: Millis, command: &Command, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        match *command {
            Command::Discover { peers } => {
                let live: Vec<NodeId> = out.peers().to_vec();
                for p in live {
                    if 1u8.checked_shl(u32::from(p)).is_some_and(|bit| peers & bit != 0) {
                        self.sm.found.insert(p);
                        self.sm.unanswered.remove(&p);
                    }
                }
                self.sm.loop_disc_task(now, out);
            }
            Command::CloseStream { peer } => {
                if self.sm.streams.contains(&peer) {
                    out.send(peer, Msg::Reset);
                    self.sm.handle_remove_stream(now, peer, out);
                }
            }
        }
        self.sm.arm_tick(now, out);
        Ok(())
    }
    fn on_message(&mut self, now: Millis, from: NodeId, msg: &Msg, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        self.sm.unanswered.remove(&from);
        match msg {
            Msg::Init => self.sm.on_init(now, from, out),
            Msg::InitAck => self.sm.on_init_ack(from),
            Msg::Reset => self.sm.on_reset(now, from, out),
        }
        self.sm.arm_tick(now, out);
        Ok(())
    }
    fn on_timer(&mut self, now: Millis, timer: TimerId, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        if timer == TICK_TIMER {
            self.sm.loop_tick(now, out);
        }
        self.sm.arm_tick(now, out);
        Ok(())
    }
    fn observe(&self) -> Obs {
        Obs {
            streams: self.sm.streams.iter().copied().collect(),
            known: self.sm.found.iter().copied().collect(),
            attempts: self.sm.attempts,
        }
    }
    fn resources(&self) -> Resources {
        let sm = &self.sm;
        let [s, u, f, c] = [sm.streams.len(), sm.setting_up.len(), sm.found.len(), sm.cool_down_cache.added.len()];
        let cap = Some(sm.peers);
        Resources {
            tables: vec![("streams", s, cap), ("setting_up", u, cap), ("found", f, cap), ("cool_down_cache", c, cap)],
            retained_bytes: s.saturating_add(u).saturating_add(f).saturating_add(c).saturating_mul(ENTRY_BYTES),
        }
    }
}
