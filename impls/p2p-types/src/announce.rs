//! Wire types and promised properties of the `p2p_announce` component: NEAR's account
//! announcements (nearcore's `AnnounceAccount`, routed by `PeerManagerActor` and kept in
//! `RoutingTable::account_peers`), the protocol behind the Stake Wars storm of November 2019.
//!
//! The protocol as simulated: node `i` is the validator that owns account `i`. The node's client
//! tells it to announce its account for an epoch ([`Command::Announce`]); the node records the
//! announcement in its routing table (account → announcing peer and epoch) and broadcasts it to
//! every peer as a [`Msg::Sync`]. A node receiving announcements keeps those that are new to it and
//! re-broadcasts them to all its peers. When two peers connect, each sends the other its whole
//! table (nearcore's "full sync on connect": `PeerManagerActor::register_peer`); here every live node
//! sends its table to a node that (re)joins.
//!
//! The incident (nearcore before PR 1688): "new to it" was an exact match on the epoch of the entry
//! held, so an announcement of an *older* epoch replaced a newer one and was re-broadcast; while the
//! announcements of two epochs of one account are both in flight, every node flips between them and
//! every flip is broadcast to all peers: each round of deliveries sends several times the messages
//! of the round before (the storm table of `p2p-port/tests/announce.rs`), and in the simulation the
//! network never goes quiet again. After the fix an
//! announcement is accepted only if its epoch is newer than the one held (or the account is unknown)
//! and re-broadcast only when the table changed, so one announcement costs at most `n·(n-1)`
//! messages in a network of `n` nodes. See `p2p-port/src/announce.rs` for the upstream code cited.
//!
//! Wire sizes: an [`AnnounceAccount`] is [`AnnounceAccount::WIRE_BYTES`] bytes here (account, peer,
//! epoch; upstream adds the account name, the peer's public key, the epoch hash and a signature).

use crate::schedule::{Component, Reader, Schedule, Step};
use crate::{sim, Budget, Millis, NodeId, Properties};

/// An account id. Account `i` is owned (announced) by node `i`.
pub type AccountId = u8;

/// An epoch number (upstream: an `EpochId` hash, ordered by `compare_epoch_id` on the epoch's start
/// height). Always below [`EPOCHS`].
pub type Epoch = u8;

/// Number of distinct epochs a schedule can name: a command's epoch byte is taken modulo this, so
/// that mutated schedules keep naming the same few epochs (two epochs of one account in flight
/// together is what the incident needs).
pub const EPOCHS: u8 = 8;

/// One announcement: `peer` announces that it hosts `account` for `epoch` (nearcore's
/// `near_primitives::network::AnnounceAccount { account_id, peer_id, epoch_id, signature }`; the
/// signature is always valid here).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AnnounceAccount {
    /// The announced account.
    pub account: AccountId,
    /// The peer that hosts the account (the announcer).
    pub peer: NodeId,
    /// The epoch the announcement is for.
    pub epoch: Epoch,
}

impl AnnounceAccount {
    /// Bytes of one announcement on the wire and in a routing table (account, peer, epoch).
    pub const WIRE_BYTES: usize = 3;
}

/// Capacity of the port's cache of view-client requests in flight (`p2p_port::announce`): nearcore
/// sizes its network caches at 10,000 entries (`ANNOUNCE_ACCOUNT_CACHE_SIZE`, `routing.rs` line 31
/// at 06a49675). The fixed code empties it as answers come (synchronously here), so it holds
/// nothing between events; [`Announce::retained_bound`] allows it full all the same, as the
/// resources oracle allows every table its capacity.
pub const PENDING_CAPACITY: usize = 10_000;

/// Bytes of one entry of that cache beside its announcements: the request id.
pub const PENDING_ENTRY_BYTES: usize = 8;

/// Bytes of a [`Msg::Sync`] beside its announcements: the message tag and the batch length.
pub const SYNC_HEADER_BYTES: u64 = 2;

/// `Sync(batch)`: [`SYNC_HEADER_BYTES`] + [`AnnounceAccount::WIRE_BYTES`] per announcement.
impl crate::Wire for Msg {
    fn wire_bytes(&self) -> u64 {
        let Msg::Sync(batch) = self;
        let per = u64::try_from(AnnounceAccount::WIRE_BYTES).unwrap_or(u64::MAX);
        SYNC_HEADER_BYTES.saturating_add(per.saturating_mul(u64::try_from(batch.len()).unwrap_or(u64::MAX)))
    }
}

/// The component's configuration: none (the schedule encodes no configuration bytes). The
/// protocol's only parameter, the epoch range, is the constant [`EPOCHS`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Config;

/// An external command to a node: its client (the chain) tells it to announce its own account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Announce the node's own account (account id = node id) for `epoch` (`< EPOCHS`). Upstream:
    /// `ClientActor::check_send_announce_account` sends `NetworkRequests::AnnounceAccount` for the
    /// next epoch, once per epoch. The chain never goes back: a command whose epoch is not newer
    /// than the node's own entry for its account is stale input and ignored.
    Announce {
        /// The epoch.
        epoch: Epoch,
    },
}

/// A message on the wire.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Msg {
    /// A batch of announcements (nearcore's `PeerMessage::Sync(SyncData { accounts, .. })`): one
    /// announcement when a node announces itself or re-broadcasts one it accepted, the whole table
    /// when a peer (re)joins, the accepted part of a received batch when re-broadcasting it.
    /// Accounts appear at most once, in ascending account order.
    Sync(Vec<AnnounceAccount>),
}

/// A node's observable state: what both implementations must agree on after every step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Obs {
    /// The routing table's account entries (`account → (peer, epoch)`), ascending by account.
    pub table: Vec<AnnounceAccount>,
    /// The last epoch this node announced for its own account in this life (`None` before its
    /// first announcement, and again after a restart).
    pub announced: Option<Epoch>,
}

/// The `p2p_announce` schedule encoding and properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Announce;

impl Component for Announce {
    type Command = Command;
    type Config = Config;
    const MIN_NODES: u8 = 2;
    /// 8, so that no schedule can reach the simulation's in-flight cap in the fixed build: a
    /// step queues at most `n-1` messages (one broadcast, or one sync from each peer of a joiner),
    /// and `7 × 512` steps stay below 4,096. With 16 nodes the fixed protocol itself could fill the
    /// cap (30 concurrent announcements × 240 messages), and the cap could not tell the storm from
    /// a busy network.
    const MAX_NODES: u8 = 8;
    const NAME: &'static str = "p2p_announce";
    fn decode_config(_r: &mut Reader<'_>) -> Config {
        Config
    }
    fn encode_config(_config: &Config, _out: &mut Vec<u8>) {}
    /// One byte: the epoch, modulo [`EPOCHS`].
    fn decode_command(r: &mut Reader<'_>, _nodes: u8) -> Option<Command> {
        r.u8().map(|b| Command::Announce { epoch: b.checked_rem(EPOCHS).unwrap_or(0) })
    }
    fn encode_command(command: &Command, out: &mut Vec<u8>) {
        match command {
            Command::Announce { epoch } => out.push(*epoch),
        }
    }
}

fn n2(nodes: u8) -> u64 {
    let n = u64::from(nodes);
    n.saturating_mul(n)
}

impl Properties for Announce {
    type Obs = Obs;

    /// `2·n²` messages per external event, amortized: after every step of a run, and after the
    /// drain, the messages sent so far are at most this bound times the external events so far
    /// (commands to live nodes, joins, leaves; at least one). A per-event window does not work:
    /// the cascades of events that follow each other closely overlap.
    ///
    /// Why: an announcement of a new epoch is broadcast by its owner (`n-1` messages) and accepted
    /// at most once by each other node, which re-broadcasts it once (`(n-1)²`), `n·(n-1)` in all. A
    /// join makes each of the `n-1` live nodes send the joiner its table (`n-1` messages); the
    /// joiner re-broadcasts at most once per batch received (`(n-1)²`); nodes that accept something
    /// from those re-broadcasts learn an epoch they had missed, at most once per epoch, which is
    /// paid by the announcement that created it. A leave sends nothing. So `n²` per event, with a
    /// factor 2 of slack for catching up after reorderings. The pre-fix protocol has no bound: the
    /// flips of two in-flight epochs multiply (see [`incident`]).
    fn amplification_bound(nodes: u8, _config: &Config) -> u64 {
        n2(nodes).saturating_mul(2)
    }

    /// The exact budget (derivation: docs/network-oracles.md §1), `n` nodes, `C` commands, `J`
    /// joins, `c_j` the commands before join `j`, `E` = [`EPOCHS`], `H` = [`SYNC_HEADER_BYTES`],
    /// `A` = [`AnnounceAccount::WIRE_BYTES`]:
    ///
    /// - messages ≤ `n(n-1)·C + (n-1)·J + (n-1)·min(Σc_j, J·n·E)`;
    /// - bytes ≤ `n(n-1)(H+A)·C + (n-1)(H+A·n)·J + (n-1)(H+A)·min(Σc_j, J·n·E)`.
    ///
    /// Every message is a full sync to a joiner (one per live peer per join) or the broadcast of
    /// an *acceptance* (a handler call that changed the table, to at most `n-1` peers, carrying
    /// only the announcements it accepted). A node accepts each announcement at most once per
    /// life (epochs only grow); an acceptance is charged to the newest announcement it took:
    /// to the command that made it if the node's life had begun by then (`n` node lives per
    /// command, the owner's included: `n(n-1)` messages), else to the join that began the life
    /// (at most `c_j` earlier announcements, and at most `E` per account). Drops, duplicates and
    /// leaves add nothing: a copy of an announcement already taken is not news.
    fn budget(nodes: u8, _config: &Config, stats: &sim::Stats, _now: Millis) -> Budget {
        let n = u64::from(nodes);
        let p = n.saturating_sub(1);
        let (h, a) = (SYNC_HEADER_BYTES, u64::try_from(AnnounceAccount::WIRE_BYTES).unwrap_or(u64::MAX));
        let late = stats.commands_before_joins.min(stats.joins.saturating_mul(n).saturating_mul(u64::from(EPOCHS)));
        let messages = n.saturating_mul(p).saturating_mul(stats.commands).saturating_add(p.saturating_mul(stats.joins)).saturating_add(p.saturating_mul(late));
        let bytes = n
            .saturating_mul(p)
            .saturating_mul(h.saturating_add(a))
            .saturating_mul(stats.commands)
            .saturating_add(p.saturating_mul(h.saturating_add(a.saturating_mul(n))).saturating_mul(stats.joins))
            .saturating_add(p.saturating_mul(h.saturating_add(a)).saturating_mul(late));
        Budget { messages, bytes }
    }

    /// A routing table holds one entry per account (`n·A` bytes), and the cache of view-client
    /// requests in flight at most [`PENDING_CAPACITY`] batches of at most `n` accounts.
    fn retained_bound(nodes: u8, _config: &Config) -> usize {
        let table = usize::from(nodes).saturating_mul(AnnounceAccount::WIRE_BYTES);
        let batch = PENDING_ENTRY_BYTES.saturating_add(table);
        table.saturating_add(PENDING_CAPACITY.saturating_mul(batch))
    }

    /// Once quiet a node needs its routing table only (`n·A` bytes): no request is in flight.
    fn quiet_bound(nodes: u8, _config: &Config) -> usize {
        usize::from(nodes).saturating_mul(AnnounceAccount::WIRE_BYTES)
    }

    /// `(max_in_flight + 16·n³ deliveries, 1 s)`: every message in flight at the end (at most the
    /// simulation's 4,096) plus the cascades they can still start (each node accepts each of the
    /// `n` accounts at most [`EPOCHS`] times per life, each acceptance sends `n-1`, so `8·n·n·n`,
    /// doubled). The protocol sets no timers, so virtual time does not matter.
    fn drain_budget(nodes: u8, _config: &Config) -> (usize, Millis) {
        let n = usize::from(nodes);
        let cascades = n.saturating_mul(n).saturating_mul(n).saturating_mul(16);
        (cascades.saturating_add(4096), 1_000)
    }

    /// What the protocol guarantees once the network is quiet, whatever was dropped:
    /// - every entry routes its account to the account's owner (`peer == account`, an existing
    ///   node): announcements are only ever made by the owner and relayed unchanged;
    /// - a live node that announced epoch `e` for its own account in this life holds an entry
    ///   for it with an epoch of at least `e` (accepted epochs only grow). The pre-fix protocol
    ///   breaks this: an older announcement relayed back overwrites the owner's own entry.
    ///
    /// Agreement of all tables is NOT promised here: the protocol has no retransmission (nearcore
    /// added a periodic re-announce later, PR 2519), so a schedule that drops every copy of an
    /// announcement to some node legitimately leaves that node behind. Runs without dropped
    /// messages are held to agreement by [`check_agreement`].
    fn check_converged(_config: &Config, obs: &[Option<Obs>]) -> Result<(), String> {
        let nodes = obs.len();
        for (id, o) in obs.iter().enumerate() {
            let Some(o) = o else { continue };
            for a in &o.table {
                if a.peer != a.account || usize::from(a.account) >= nodes {
                    return Err(format!("node {id} routes account {} to peer {} (not its owner)", a.account, a.peer));
                }
            }
            if let Some(e) = o.announced {
                let own = o.table.iter().find(|a| usize::from(a.account) == id).map(|a| a.epoch);
                match own {
                    Some(held) if held >= e => {}
                    Some(held) => {
                        return Err(format!("node {id} announced epoch {e} for its account but holds the older epoch {held}"));
                    }
                    None => return Err(format!("node {id} announced epoch {e} for its account but holds no entry for it")),
                }
            }
        }
        Ok(())
    }

    fn seeds() -> Vec<(&'static str, Schedule<Self>)> {
        seeds()
    }
}

/// Agreement, for runs in which no message was dropped by a `Drop` step (leaves are fine): every
/// live node holds, for every account whose owner is live, the same entry as the owner. Why it
/// holds: every accepted change is broadcast to all live peers, and a node that joins receives
/// every live node's table, so each live node ends with the newest epoch any live node holds;
/// the owner never holds less than what it announced (commands older than its entry are stale).
///
/// # Errors
/// The first node and account that disagree with the owner, in one line.
pub fn check_agreement(obs: &[Option<Obs>]) -> Result<(), String> {
    for (owner, o) in obs.iter().enumerate() {
        let Some(o) = o else { continue };
        let own = o.table.iter().find(|a| usize::from(a.account) == owner);
        for (id, other) in obs.iter().enumerate() {
            let Some(other) = other else { continue };
            let theirs = other.table.iter().find(|a| usize::from(a.account) == owner);
            if theirs != own {
                return Err(format!("node {id} holds {theirs:?} for account {owner}, its owner holds {own:?}"));
            }
        }
    }
    Ok(())
}

fn cmd(node: NodeId, epoch: Epoch) -> Step<Command> {
    Step::Command { node, command: Command::Announce { epoch } }
}

fn deliver_all(steps: &mut Vec<Step<Command>>, count: usize) {
    steps.extend(std::iter::repeat_n(Step::Deliver(0), count));
}

fn schedule(nodes: u8, steps: Vec<Step<Command>>) -> Schedule<Announce> {
    Schedule { nodes, config: Config, steps }
}

/// The shipped seeds: the protocol's normal behaviour, none of which trips an oracle in either
/// build (each epoch of an account spreads fully before the next one is announced).
pub fn seeds() -> Vec<(&'static str, Schedule<Announce>)> {
    // 1. One validator announces itself in a 4-node network; the announcement spreads (FIFO).
    let mut s1 = vec![cmd(0, 1)];
    deliver_all(&mut s1, 12);
    // 2. Every validator of 6 announces for epoch 1, deliveries interleaved with the announcements.
    let mut s2 = Vec::new();
    for n in 0..6 {
        s2.push(cmd(n, 1));
        s2.extend([Step::Deliver(3), Step::Deliver(0)]);
    }
    deliver_all(&mut s2, 200);
    // 3. Next epoch after the current one spread: 4 nodes, epoch 1 then epoch 2 for account 2.
    let mut s3 = vec![cmd(2, 1)];
    deliver_all(&mut s3, 12);
    s3.push(cmd(2, 2));
    deliver_all(&mut s3, 12);
    // 4. A node joins after the announcements spread and gets the full sync (5 nodes).
    let mut s4 = vec![Step::Leave(4), cmd(0, 1), cmd(1, 1), cmd(2, 3)];
    deliver_all(&mut s4, 60);
    s4.push(Step::Join(4));
    deliver_all(&mut s4, 60);
    s4.push(cmd(4, 1));
    deliver_all(&mut s4, 30);
    // 5. Nodes leave while an announcement spreads, one comes back and announces anew (8 nodes).
    let mut s5 = vec![cmd(3, 2), Step::Deliver(0), Step::Deliver(0), Step::Leave(5), Step::Leave(6)];
    deliver_all(&mut s5, 60);
    s5.extend([Step::Join(5), cmd(5, 4)]);
    deliver_all(&mut s5, 120);
    // 6. Reordered and duplicated deliveries of one announcement per validator (3 nodes).
    let mut s6 = vec![cmd(0, 5), cmd(1, 5), Step::Delay(0), Step::Duplicate(1), Step::Deliver(2)];
    deliver_all(&mut s6, 20);
    s6.push(cmd(2, 6));
    deliver_all(&mut s6, 10);
    vec![
        ("announce-spread", schedule(4, s1)),
        ("all-validators-announce", schedule(6, s2)),
        ("next-epoch-after-spread", schedule(4, s3)),
        ("join-full-sync", schedule(5, s4)),
        ("leave-and-rejoin", schedule(8, s5)),
        ("reorder-duplicate", schedule(3, s6)),
    ]
}

/// The Stake Wars interleaving (NEAR, November 2019) for `nodes` nodes (3 to 16; schedules decode
/// at most [`Announce::MAX_NODES`], the storm table drives larger networks directly): every validator
/// but the last announces its account for epoch 1; before those announcements have spread, the
/// last node (re)joins and receives what its peers know in the full sync, and the validators
/// announce for the next epoch, 2 (as they all do at an epoch boundary). Both epochs of every
/// account are now in flight, and the rest of the schedule delivers messages in a fixed
/// pseudo-random order (a network delivers concurrently; in strict FIFO order the flips do not
/// multiply, they only never stop). A node running the pre-fix exact-match check flips between the
/// two epochs on every delivery that differs from what it holds and broadcasts each flip to all its
/// peers: each delivery makes on average more than one new message, so the messages in flight
/// grow round after round, and after the schedule the network never goes quiet (the drain's
/// budget runs out with the flips still going) while the messages per external event exceed
/// [`Announce::amplification_bound`] many times over. After the fix (nearcore PR 1688, epoch order)
/// the same schedule spreads epoch 2 everywhere with at most `n·(n-1)` messages per announcement
/// and goes quiet.
///
/// Upstream: near/nearcore `chain/network/src/routing.rs` `RoutingTable::contains_account` (exact
/// `epoch_id ==` match; commit 06a49675aae7e307ca2f6f4f63982fcfedcb4e63, lines 390-395) and the
/// `NetworkRequests::Sync` handler of `chain/network/src/peer_manager.rs`; details and the
/// fixed comparison in `p2p-port/src/announce.rs`.
pub fn incident_for(nodes: u8) -> Schedule<Announce> {
    let nodes = nodes.clamp(3, crate::schedule::MAX_NODES);
    let joiner = nodes.saturating_sub(1);
    let mut steps = vec![Step::Leave(joiner)];
    steps.extend((0..joiner).map(|v| cmd(v, 1)));
    steps.extend([Step::Deliver(0), Step::Join(joiner)]);
    steps.extend((0..joiner).map(|v| cmd(v, 2)));
    // A fixed pseudo-random delivery order (64-bit LCG, Knuth's MMIX constants).
    let mut x: u64 = 0x5354_414B_4557_4152; // "STAKEWAR"
    while steps.len() < crate::schedule::MAX_STEPS {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        steps.push(Step::Deliver(x.to_be_bytes().first().copied().unwrap_or(0)));
    }
    schedule(nodes, steps)
}

/// The regression of the leak (issue 25 item 4; feature `near-announce-cache-unpruned`, the class
/// of nearcore PR 1706: a cache whose entries are removed on one path only). Three nodes;
/// validator 0 announces epoch 1 and it spreads; node 2 leaves and rejoins, gets the full sync
/// from 0 and 1 and relays what it accepted to both, for whom it is stale. Nothing is wrong in a
/// single run (no storm, tables agree, every table within its capacity); repeated by the leak
/// oracle, each repetition leaves nodes 0 and 1 one more unanswered request in the pre-fix
/// cache, so their retained bytes grow with the repetitions (measured, node 0: 19, 27, 43 and 75
/// bytes once quiet for k = 1, 2, 4, 8, one 8-byte request more per repetition; the fixed code
/// retains its 3-byte table whatever k).
pub fn leak_incident() -> Schedule<Announce> {
    let mut steps = vec![cmd(0, 1)];
    deliver_all(&mut steps, 4);
    steps.extend([Step::Leave(2), Step::Join(2)]);
    deliver_all(&mut steps, 6);
    schedule(3, steps)
}

/// The regression of the incident: [`incident_for`] with 8 nodes ([`Announce::MAX_NODES`]).
///
/// Upstream: near/nearcore, before PR 1688 (November 2019): `chain/network/src/peer_manager.rs`,
/// `NetworkRequests::Sync`: announcements were filtered only by `RoutingTable::contains_account`
/// (`chain/network/src/routing.rs` at 06a49675aae7e307ca2f6f4f63982fcfedcb4e63, line 393:
/// `current_announce_account.epoch_id == announce_account.epoch_id`), then `add_account` and a
/// broadcast of every account that did not match exactly. Incident report: NEAR's "Stake Wars
/// Week 2 Retro", <https://pages.near.org/blog/stake-wars-week-2-retro/> (18 November 2019).
pub fn incident() -> Schedule<Announce> {
    incident_for(8)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing, reason = "test code")]
    use super::*;
    use crate::schedule::{decode, encode};

    #[test]
    fn seeds_and_incident_round_trip() {
        let mut all = seeds();
        all.push(("incident", incident()));
        all.push(("leak", leak_incident()));
        for (name, s) in all {
            assert_eq!(decode::<Announce>(&encode(&s)), s, "{name}");
        }
    }

    #[test]
    fn command_epoch_is_reduced() {
        let s = decode::<Announce>(&[0, 0, 1, 13]);
        assert_eq!(s.steps, vec![cmd(1, 13 % EPOCHS)]);
    }

    #[test]
    fn convergence_check_flags_a_regressed_owner_and_a_foreign_route() {
        let a = |account, epoch| AnnounceAccount { account, peer: account, epoch };
        let good = vec![Some(Obs { table: vec![a(0, 2)], announced: Some(2) }), Some(Obs { table: vec![a(0, 1)], announced: None })];
        assert!(Announce::check_converged(&Config, &good).is_ok());
        assert!(check_agreement(&good).is_err());
        let regressed = vec![Some(Obs { table: vec![a(0, 1)], announced: Some(2) }), None];
        assert!(Announce::check_converged(&Config, &regressed).is_err());
        let foreign = vec![Some(Obs { table: vec![AnnounceAccount { account: 1, peer: 0, epoch: 1 }], announced: None }), None];
        assert!(Announce::check_converged(&Config, &foreign).is_err());
        let agree = vec![Some(Obs { table: vec![a(0, 2)], announced: Some(2) }), Some(Obs { table: vec![a(0, 2)], announced: None })];
        assert!(check_agreement(&agree).is_ok());
    }
}
