//! Model of account-announcement routing written from the protocol's intent (not from nearcore's
//! code): a node maps each account to the peer that announced it and the epoch of that
//! announcement; announcements are ordered by epoch, so a node takes an announcement only if it is
//! the first it hears for the account or is for a later epoch than the one it holds, and it tells
//! its peers only about what changed its table. A node that connects is told everything its peers
//! know. Each node's account is its own id; the chain's epochs only move forward, so a node never
//! announces an epoch that is not newer than what it already holds for itself.

use p2p_types::announce::{AccountId, AnnounceAccount, Command, Config, Epoch, Msg, Obs};
use p2p_types::{Fault, Millis, NodeId, Outbox, Resources, TimerId};
use std::collections::BTreeMap;

/// One node of the model.
#[derive(Debug)]
pub struct Node {
    /// Who I am (and the account I own).
    me: NodeId,
    /// Network size (accounts are `0..nodes`).
    nodes: u8,
    /// account → (peer hosting it, epoch of the announcement).
    routes: BTreeMap<AccountId, (NodeId, Epoch)>,
    /// My last own announcement in this life.
    announced: Option<Epoch>,
}

impl Node {
    /// Node `id` of `nodes`, knowing nothing.
    pub fn new(id: NodeId, nodes: u8, _config: &Config) -> Self {
        Node { me: id, nodes, routes: BTreeMap::new(), announced: None }
    }

    /// Takes `a` if it is news (unknown account, or a later epoch); returns whether it did.
    fn learn(&mut self, a: AnnounceAccount) -> bool {
        let news = self.routes.get(&a.account).is_none_or(|&(_, epoch)| a.epoch > epoch);
        if news {
            self.routes.insert(a.account, (a.peer, a.epoch));
        }
        news
    }

    fn known(&self) -> Vec<AnnounceAccount> {
        self.routes.iter().map(|(&account, &(peer, epoch))| AnnounceAccount { account, peer, epoch }).collect()
    }
}

impl p2p_types::Node for Node {
    type Msg = Msg;
    type Command = Command;
    type Obs = Obs;

    fn on_start(&mut self, _now: Millis, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }

    /// Tell a newcomer everything I know (if anything).
    fn on_peer_joined(&mut self, _now: Millis, peer: NodeId, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        if !self.routes.is_empty() {
            out.send(peer, Msg::Sync(self.known()));
        }
        Ok(())
    }

    /// Routes outlive connections.
    fn on_peer_left(&mut self, _now: Millis, _peer: NodeId, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }

    /// Announce myself for `epoch` if that is later than anything I hold for my own account.
    fn on_command(&mut self, _now: Millis, command: &Command, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        let Command::Announce { epoch } = *command;
        let mine = AnnounceAccount { account: self.me, peer: self.me, epoch };
        if self.learn(mine) {
            self.announced = Some(epoch);
            out.broadcast(&Msg::Sync(vec![mine]));
        }
        Ok(())
    }

    /// Keep what is news, pass exactly that on to every peer.
    fn on_message(&mut self, _now: Millis, _from: NodeId, msg: &Msg, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        let Msg::Sync(batch) = msg;
        let news: Vec<AnnounceAccount> = batch.iter().copied().filter(|&a| self.learn(a)).collect();
        if !news.is_empty() {
            out.broadcast(&Msg::Sync(news));
        }
        Ok(())
    }

    fn on_timer(&mut self, _now: Millis, _timer: TimerId, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }

    fn observe(&self) -> Obs {
        Obs { table: self.known(), announced: self.announced }
    }

    fn resources(&self) -> Resources {
        Resources {
            tables: vec![("account_peers", self.routes.len(), Some(usize::from(self.nodes)))],
            retained_bytes: self.routes.len().saturating_mul(AnnounceAccount::WIRE_BYTES),
        }
    }
}
