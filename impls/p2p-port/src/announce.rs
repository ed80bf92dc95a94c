//! Port of nearcore's routing of account announcements (`AnnounceAccount`) as it stood after
//! PR 1688 (November 2019, the fix of the Stake Wars announcement storm); the pre-fix behaviour is
//! behind the feature `near-announce-exact-match`.
//!
//! The incident: NEAR's "Stake Wars Week 2 Retro" (<https://pages.near.org/blog/stake-wars-week-2-retro/>,
//! 18 November 2019, release v0.4.6): "when we receive account announcement we check whether it
//! already exists in the routing table by doing an exact match. However, since account
//! announcement has epoch id, and because a newly joined peer would rebroadcast the account
//! announcement they receive from peers, if a node in the network announce their account for the
//! next epoch at the same time", the two announcements overwrite each other; all validating nodes
//! crashed with a dramatic increase in memory and CPU in the broadcast function.
//!
//! Upstream (near/nearcore; the full repository snapshot was over this workplace's size limit, so
//! the code below was read from the stored file versions named here; the PR 1688 diff itself was
//! not available, the pre-fix behaviour follows the retro's description):
//! - `chain/network/src/routing.rs` at 06a49675aae7e307ca2f6f4f63982fcfedcb4e63, `RoutingTable`:
//!   `account_peers: SizedCache<AccountId, AnnounceAccount>` (line 248; capacity
//!   `ANNOUNCE_ACCOUNT_CACHE_SIZE` = 10,000, line 31), `add_account` (line 376: insert,
//!   overwriting) and `contains_account` (lines 390-395, "TODO(MarX, #1694)"), which is true only
//!   if the entry held has *exactly* the announcement's `epoch_id` (line 393). Ported as
//!   [`RoutingTable`]. (Line numbers counted in the stored text of that version.)
//! - `chain/network/src/peer_manager.rs` (2019/2020 versions, `PeerManagerActor`):
//!   `announce_account` (own announcements: `if !contains_account { add_account; broadcast Sync }`),
//!   `register_peer` (on connect, send the peer every known edge and account:
//!   `get_announce_accounts`), and the `NetworkRequests::Sync` handler: "Filter known accounts
//!   before validating them" (drop accounts whose held `epoch_id` is equal), ask the view client to
//!   validate the rest together with the epoch held, then `add_account` each validated account and
//!   broadcast them in one `Sync`. Ported as [`Node::announce_account`], `on_peer_joined`
//!   and [`Node::handle_sync`].
//! - `chain/client/src/view_client.rs`, `NetworkViewClientMessages::AnnounceAccount`: keep an
//!   announcement whose account is known only if `compare_epoch_id(&announce.epoch_id,
//!   &last_epoch)` says so, then check its signature. This epoch-order check is what stops the
//!   storm (PR 1688). In the stored 2019 version the comparison reads `Ok(Ordering::Less)`, which
//!   keeps *older* announcements; nearcore PR 3058 (July 2020, "correctly compare epoch id when
//!   processing account announcement") changed it to `Ok(Ordering::Greater)`. The port uses the
//!   corrected direction (newer wins), the protocol's intent; either direction ends the storm,
//!   because the epoch held for an account then only moves one way.
//! - Pre-fix (feature `near-announce-exact-match`): the `Sync` handler kept every account that
//!   `contains_account` did not match exactly and added and re-broadcast it: an older epoch replaced
//!   a newer one, and both were re-broadcast for ever while both were in flight.
//!
//! Simplifications: the view client's validation is a synchronous call (upstream an actix
//! message); signatures are always valid; edges and the graph are not modelled; the client's
//! "announce once per epoch" (`ClientActor::check_send_announce_account`,
//! `last_validator_announce_height`) is the guard in `on_command`.
//!
//! PR 1706's slow ShardsManager cache leak is a chunk cache, not part of this component; its code
//! is not ported. Its class is: the port keeps the view client's requests in flight in a cache
//! ([`Node::handle_sync`]; upstream the batch lives in the actix future of
//! `view_client_addr.send(..)`, a stand-in, not upstream code) that the fixed code empties on
//! every answer; the feature `near-announce-cache-unpruned` removes an entry only when the view
//! client kept something, so every stale batch received (a relay after a join, a duplicate)
//! stays for ever. It breaks no single run's oracle (the cache stays within its 10,000
//! entries), only the leak oracle sees it grow with the repetitions of a schedule.

use p2p_types::announce::{AccountId, AnnounceAccount, Command, Config, Epoch, Msg, Obs, PENDING_CAPACITY, PENDING_ENTRY_BYTES};
use p2p_types::{Fault, Millis, NodeId, Outbox, Resources, TimerId};
use std::collections::BTreeMap;

/// The account part of nearcore's `RoutingTable` (`routing.rs`): account id → the announcement
/// held for it.
#[derive(Debug, Default, Clone)]
pub struct RoutingTable {
    /// `account_peers` upstream (a `SizedCache` of 10,000 entries; this network has at most 16
    /// accounts, so it never evicts).
    account_peers: BTreeMap<AccountId, AnnounceAccount>,
}

impl RoutingTable {
    /// `RoutingTable::add_account`: insert or overwrite the entry of the announcement's account.
    pub fn add_account(&mut self, announce_account: AnnounceAccount) {
        self.account_peers.insert(announce_account.account, announce_account);
    }
    /// `RoutingTable::contains_account`: whether the entry held for the account has exactly the
    /// announcement's epoch.
    pub fn contains_account(&self, announce_account: &AnnounceAccount) -> bool {
        self.get_announce(announce_account.account).is_some_and(|current| current.epoch == announce_account.epoch)
    }
    /// `RoutingTable::get_announce`.
    pub fn get_announce(&self, account_id: AccountId) -> Option<&AnnounceAccount> {
        self.account_peers.get(&account_id)
    }
    /// `RoutingTable::get_announce_accounts`: every announcement held (ascending by account).
    pub fn get_announce_accounts(&self) -> Vec<AnnounceAccount> {
        self.account_peers.values().copied().collect()
    }
    /// Number of accounts held.
    pub fn len(&self) -> usize {
        self.account_peers.len()
    }
    /// Whether no account is held.
    pub fn is_empty(&self) -> bool {
        self.account_peers.is_empty()
    }
}

/// `view_client.rs`, `NetworkViewClientMessages::AnnounceAccount` (after PR 1688, with PR 3058's
/// comparison direction): keep an announcement if its account is unknown (`last_epoch` `None`) or
/// its epoch is newer than the one held. Signatures are always valid here.
#[cfg(not(feature = "near-announce-exact-match"))]
fn view_client_announce_account(announce_accounts: Vec<(AnnounceAccount, Option<Epoch>)>) -> Vec<AnnounceAccount> {
    let mut filtered_announce_accounts = Vec::new();
    for (announce_account, last_epoch) in announce_accounts {
        if let Some(last_epoch) = last_epoch {
            match announce_account.epoch.cmp(&last_epoch) {
                std::cmp::Ordering::Greater => {}
                _ => continue,
            }
        }
        filtered_announce_accounts.push(announce_account);
    }
    filtered_announce_accounts
}

/// Before PR 1688: no validation against the epoch held; every account that passed the exact-match
/// filter is accepted.
#[cfg(feature = "near-announce-exact-match")]
fn view_client_announce_account(announce_accounts: Vec<(AnnounceAccount, Option<Epoch>)>) -> Vec<AnnounceAccount> {
    announce_accounts.into_iter().map(|(announce_account, _)| announce_account).collect()
}

/// One node: nearcore's `PeerManagerActor` (account announcements only) and the part of its
/// `ClientActor` that decides when to announce.
#[derive(Debug)]
pub struct Node {
    /// This node's peer id; it is also the id of the account it validates for.
    peer_id: NodeId,
    /// Number of nodes (the accounts are `0..nodes`).
    nodes: u8,
    /// The routing table's accounts.
    routing_table: RoutingTable,
    /// The client's last announced epoch (`last_validator_announce_height` upstream).
    last_announced: Option<Epoch>,
    /// View-client requests in flight: request id to the batch sent for validation (at most
    /// [`PENDING_CAPACITY`], the oldest evicted beyond, as a `SizedCache` does).
    pending_validation: BTreeMap<u64, Vec<AnnounceAccount>>,
    /// The next request id.
    next_request: u64,
}

impl Node {
    /// Node `id` of `nodes`, with an empty routing table.
    pub fn new(id: NodeId, nodes: u8, _config: &Config) -> Self {
        Node { peer_id: id, nodes, routing_table: RoutingTable::default(), last_announced: None, pending_validation: BTreeMap::new(), next_request: 0 }
    }

    /// `PeerManagerActor::announce_account`: record an announcement of our own account and
    /// broadcast it, unless the routing table already holds it for that epoch.
    pub fn announce_account(&mut self, announce_account: AnnounceAccount, out: &mut Outbox<Msg>) {
        if !self.routing_table.contains_account(&announce_account) {
            self.routing_table.add_account(announce_account);
            out.broadcast(&Msg::Sync(vec![announce_account]));
        }
    }

    /// The `NetworkRequests::Sync` handler (accounts part): filter exact matches, let the view
    /// client validate the rest against the epoch held, add what it kept and broadcast it.
    pub fn handle_sync(&mut self, accounts: &[AnnounceAccount], out: &mut Outbox<Msg>) {
        // Filter known accounts before validating them.
        let new_accounts: Vec<(AnnounceAccount, Option<Epoch>)> = accounts
            .iter()
            .filter_map(|announce_account| match self.routing_table.get_announce(announce_account.account) {
                Some(current) if current.epoch == announce_account.epoch => None,
                Some(current) => Some((*announce_account, Some(current.epoch))),
                None => Some((*announce_account, None)),
            })
            .collect();
        // Ask client to validate accounts before accepting them: the request waits in the
        // cache until the answer (here at once).
        let request = self.next_request;
        self.next_request = self.next_request.wrapping_add(1);
        if self.pending_validation.len() >= PENDING_CAPACITY {
            self.pending_validation.pop_first();
        }
        self.pending_validation.insert(request, new_accounts.iter().map(|(a, _)| *a).collect());
        let accounts = view_client_announce_account(new_accounts);
        // The answer: the request is done. Pre-fix (`near-announce-cache-unpruned`), only an
        // answer that kept something cleans up.
        if !cfg!(feature = "near-announce-cache-unpruned") || !accounts.is_empty() {
            self.pending_validation.remove(&request);
        }
        for account in &accounts {
            self.routing_table.add_account(*account);
        }
        if !accounts.is_empty() {
            out.broadcast(&Msg::Sync(accounts));
        }
    }
}

impl p2p_types::Node for Node {
    type Msg = Msg;
    type Command = Command;
    type Obs = Obs;

    /// A (re)started node has an empty table; its half of the connection sync is empty.
    fn on_start(&mut self, _now: Millis, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }

    /// `register_peer`: send the new peer every account we know (skipped when there are none: the
    /// upstream message would carry only edges, which are not modelled).
    fn on_peer_joined(&mut self, _now: Millis, peer: NodeId, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        let known_accounts = self.routing_table.get_announce_accounts();
        if !known_accounts.is_empty() {
            out.send(peer, Msg::Sync(known_accounts));
        }
        Ok(())
    }

    /// Account routes are not removed on disconnect upstream.
    fn on_peer_left(&mut self, _now: Millis, _peer: NodeId, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }

    /// `ClientActor::check_send_announce_account` then `NetworkRequests::AnnounceAccount`: the
    /// client announces each epoch once, moving forward only (an epoch not newer than the one it
    /// last announced, or than the routing table holds for its own account, is stale).
    fn on_command(&mut self, _now: Millis, command: &Command, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        let Command::Announce { epoch } = *command;
        if self.last_announced.is_some_and(|last| last >= epoch) {
            return Ok(());
        }
        if self.routing_table.get_announce(self.peer_id).is_some_and(|held| held.epoch >= epoch) {
            return Ok(());
        }
        self.last_announced = Some(epoch);
        self.announce_account(AnnounceAccount { account: self.peer_id, peer: self.peer_id, epoch }, out);
        Ok(())
    }

    fn on_message(&mut self, _now: Millis, _from: NodeId, msg: &Msg, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        match msg {
            Msg::Sync(accounts) => self.handle_sync(accounts, out),
        }
        Ok(())
    }

    fn on_timer(&mut self, _now: Millis, _timer: TimerId, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }

    fn observe(&self) -> Obs {
        Obs { table: self.routing_table.get_announce_accounts(), announced: self.last_announced }
    }

    fn resources(&self) -> Resources {
        let pending_bytes = self
            .pending_validation
            .values()
            .fold(0usize, |b, batch| b.saturating_add(PENDING_ENTRY_BYTES).saturating_add(batch.len().saturating_mul(AnnounceAccount::WIRE_BYTES)));
        Resources {
            tables: vec![
                ("account_peers", self.routing_table.len(), Some(usize::from(self.nodes))),
                ("pending_validation", self.pending_validation.len(), Some(PENDING_CAPACITY)),
            ],
            retained_bytes: self.routing_table.len().saturating_mul(AnnounceAccount::WIRE_BYTES).saturating_add(pending_bytes),
        }
    }
}
