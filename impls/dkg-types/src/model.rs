//! Packets, terms, participants, statuses and stored state of drand v2's DKG.
//!
//! Mirrors `protobuf/dkg/dkg_control.proto`, `protobuf/dkg/dkg.proto` and the `DBState` struct of
//! `internal/dkg/state_machine.go` at f45e7e04. Go pointers that may be nil are `Option`s; repeated
//! protobuf fields are `Vec`s (a decoded empty repeated field is nil in Go, so "nil" is "empty").

use crate::time::{GoTime, Timestamp};
use std::collections::BTreeSet;

/// `drand.Participant{address, key, signature}`: `key` is the compressed public key (48 bytes on
/// G1 for the pedersen-bls schemes), `signature` the proof of possession (PoP).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default, PartialOrd, Ord)]
pub struct Participant {
    /// `host:port`.
    pub address: String,
    /// Public key bytes.
    pub key: Vec<u8>,
    /// Proof of possession over `schemeName ‖ blake2b256(key)`.
    pub signature: Vec<u8>,
}

/// `util.EqualParticipant` (`internal/util/participant_utils.go`): compares address, key and
/// signature through Go's nil-safe getters, so `None` equals a participant with every field empty.
pub fn equal_participant(a: Option<&Participant>, b: Option<&Participant>) -> bool {
    let empty = Participant::default();
    let a = a.unwrap_or(&empty);
    let b = b.unwrap_or(&empty);
    a == b
}

/// `drand.ProposalTerms` (dkg_control.proto field order).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct ProposalTerms {
    /// Beacon id the proposal is for.
    pub beacon_id: String,
    /// Epoch of the proposed DKG (1 = first).
    pub epoch: u32,
    /// The leader; may be absent on the wire.
    pub leader: Option<Participant>,
    /// Threshold of the new group.
    pub threshold: u32,
    /// Proposal timeout; `None` reads as 1970.
    pub timeout: Option<Timestamp>,
    /// Catch-up period, seconds.
    pub catchup_period_seconds: u32,
    /// Beacon period, seconds.
    pub beacon_period_seconds: u32,
    /// Scheme name (`crypto.SchemeFromName`).
    pub scheme_id: String,
    /// Genesis time; `None` reads as 1970.
    pub genesis_time: Option<Timestamp>,
    /// Genesis seed (empty for epoch 1).
    pub genesis_seed: Vec<u8>,
    /// Joiners (field 11).
    pub joining: Vec<Participant>,
    /// Remainers (field 12).
    pub remaining: Vec<Participant>,
    /// Leavers (field 13).
    pub leaving: Vec<Participant>,
}

/// `drand.GossipMetadata{beaconID, address, signature}`: `address` is the claimed sender.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct GossipMetadata {
    /// Beacon id (routes the packet in the daemon proxy).
    pub beacon_id: String,
    /// Claimed sender address.
    pub address: String,
    /// BLS signature over `messageForSigning` (96 bytes on G2 for the pedersen-bls schemes).
    pub signature: Vec<u8>,
}

/// `drand.RejectProposal`: only `rejector` is read by drand.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct RejectProposal {
    /// The rejecting node.
    pub rejector: Option<Participant>,
    /// Free text, not signed.
    pub reason: String,
}

/// `drand.DKGPacket{dkg: Packet}` as far as the receive pipeline reads it: the inner packet and its
/// `drand.Metadata.beaconID`; the bundle itself is opaque here (execution phase is not modelled).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct DkgPacket {
    /// `packet.Dkg`; `None` is a nil inner packet.
    pub dkg: Option<DkgInner>,
}

/// The inner `dkg.Packet`: metadata and opaque bundle bytes.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct DkgInner {
    /// `Metadata.beaconID`, `None` for nil metadata.
    pub metadata_beacon_id: Option<String>,
    /// The deal/response/justification bundle, opaque.
    pub bundle: Vec<u8>,
}

/// The `GossipPacket` oneof.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Packet {
    /// `proposal = 2`.
    Proposal(ProposalTerms),
    /// `accept = 3`: `AcceptProposal{acceptor}`.
    Accept(Option<Participant>),
    /// `reject = 4`.
    Reject(RejectProposal),
    /// `execute = 5`: `StartExecution{time}` (kick-off time, never validated).
    Execute(Option<Timestamp>),
    /// `abort = 6`: `AbortDKG{reason}`.
    Abort(String),
    /// `dkg = 7`: an execution-phase bundle.
    Dkg(DkgPacket),
}

impl Packet {
    /// drand's `packetName`.
    pub fn name(&self) -> &'static str {
        match self {
            Packet::Proposal(_) => "Proposal",
            Packet::Accept(_) => "Accept",
            Packet::Reject(_) => "Reject",
            Packet::Execute(_) => "Execute",
            Packet::Abort(_) => "Abort",
            Packet::Dkg(_) => "DKG",
        }
    }
}

/// `drand.GossipPacket{metadata, oneof packet}`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct GossipPacket {
    /// `None` is nil metadata.
    pub metadata: Option<GossipMetadata>,
    /// `None` is an unset oneof.
    pub packet: Option<Packet>,
}

/// DKG statuses with drand's names and numbering (`Status` in state_machine.go).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Status {
    /// 0: no DKG yet.
    Fresh,
    /// 1: received a proposal.
    Proposed,
    /// 2: sent a proposal (leader).
    Proposing,
    /// 3: accepted.
    Accepted,
    /// 4: rejected.
    Rejected,
    /// 5: aborted by the leader or locally.
    Aborted,
    /// 6: execution running.
    Executing,
    /// 7: DKG finished.
    Complete,
    /// 8: timed out (test-only in production code).
    TimedOut,
    /// 9: joiner ran `join`.
    Joined,
    /// 10: leaver left.
    Left,
    /// 11: execution failed.
    Failed,
}

impl Status {
    /// All statuses in drand's numeric order.
    pub const ALL: [Status; 12] = [
        Status::Fresh,
        Status::Proposed,
        Status::Proposing,
        Status::Accepted,
        Status::Rejected,
        Status::Aborted,
        Status::Executing,
        Status::Complete,
        Status::TimedOut,
        Status::Joined,
        Status::Left,
        Status::Failed,
    ];

    /// drand's `Status.String()`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Fresh => "Fresh",
            Status::Proposed => "Proposed",
            Status::Proposing => "Proposing",
            Status::Accepted => "Accepted",
            Status::Rejected => "Rejected",
            Status::Aborted => "Aborted",
            Status::Executing => "Executing",
            Status::Complete => "Complete",
            Status::TimedOut => "TimedOut",
            Status::Joined => "Joined",
            Status::Left => "Left",
            Status::Failed => "Failed",
        }
    }
}

/// `key.Group` as far as DKG validation reads it: the QUAL nodes (address, key, PoP), genesis
/// time (Unix seconds), genesis seed and threshold.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Group {
    /// `Group.Nodes` as participants.
    pub nodes: Vec<Participant>,
    /// `Group.GenesisTime`, Unix seconds.
    pub genesis_time: i64,
    /// `Group.GetGenesisSeed()`.
    pub genesis_seed: Vec<u8>,
    /// `Group.Threshold`.
    pub threshold: u32,
}

/// A group file given to `join` (`JoinOptions.GroupFile`, parsed): only the fields
/// `validatePreviousGroupForJoiners` reads.
pub type GroupFile = Group;

/// `DBState` (state_machine.go): one stored DKG state. Durations are whole seconds (drand builds
/// them from `uint32` seconds and converts back with `uint32(d.Seconds())`, which round-trips).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct DbState {
    /// Beacon id.
    pub beacon_id: String,
    /// Epoch.
    pub epoch: u32,
    /// Status (`State` in Go).
    pub state: Status,
    /// Threshold.
    pub threshold: u32,
    /// Proposal timeout.
    pub timeout: GoTime,
    /// Scheme name.
    pub scheme_id: String,
    /// Genesis time.
    pub genesis_time: GoTime,
    /// Genesis seed.
    pub genesis_seed: Vec<u8>,
    /// Catch-up period, seconds.
    pub catchup_period: u32,
    /// Beacon period, seconds.
    pub beacon_period: u32,
    /// Leader (`*drand.Participant`, may be nil).
    pub leader: Option<Participant>,
    /// Remainers.
    pub remaining: Vec<Participant>,
    /// Joiners.
    pub joining: Vec<Participant>,
    /// Leavers.
    pub leaving: Vec<Participant>,
    /// Acceptances received.
    pub acceptors: Vec<Participant>,
    /// Rejections received.
    pub rejectors: Vec<Participant>,
    /// The QUAL group after Complete (or the group file of a joiner).
    pub final_group: Option<Group>,
    /// The key share, opaque.
    pub key_share: Option<Vec<u8>>,
}

impl DbState {
    /// `NewFreshState(beaconID)`: Fresh, epoch 0, timeout 1970.
    pub fn fresh(beacon_id: &str) -> DbState {
        DbState {
            beacon_id: beacon_id.to_owned(),
            epoch: 0,
            state: Status::Fresh,
            threshold: 0,
            timeout: GoTime::unix(0, 0),
            scheme_id: String::new(),
            genesis_time: GoTime { sec: 0, nsec: 0 },
            genesis_seed: Vec::new(),
            catchup_period: 0,
            beacon_period: 0,
            leader: None,
            remaining: Vec::new(),
            joining: Vec::new(),
            leaving: Vec::new(),
            acceptors: Vec::new(),
            rejectors: Vec::new(),
            final_group: None,
            key_share: None,
        }
    }
}

/// One node as the receive pipeline sees it: its identity, the two BoltStore buckets
/// (`store.go`: `"dkg"` = current, `"dkg_finished"` = finished) and the in-memory `SeenPackets`
/// (hex signatures, never cleared).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct NodeState {
    /// The beacon id this node serves (the daemon proxy rejects others).
    pub beacon_id: String,
    /// `identityForBeacon`: this node as a participant.
    pub me: Participant,
    /// Index of this node's secret key in the test key set (signs its own gossip).
    pub me_key: u8,
    /// The `"dkg"` bucket; `None` reads as `NewFreshState`.
    pub current: Option<DbState>,
    /// The `"dkg_finished"` bucket.
    pub finished: Option<DbState>,
    /// `Process.SeenPackets`: hex-encoded signatures.
    pub seen: BTreeSet<String>,
}

/// `drand.FirstProposalOptions` (the `Initial` command).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct FirstProposalOptions {
    /// Threshold.
    pub threshold: u32,
    /// Proposal timeout.
    pub timeout: Option<Timestamp>,
    /// Scheme name.
    pub scheme: String,
    /// Catch-up period, seconds.
    pub catchup_period_seconds: u32,
    /// Beacon period, seconds.
    pub period_seconds: u32,
    /// Genesis time; `None` means "now".
    pub genesis_time: Option<Timestamp>,
    /// Joiners.
    pub joining: Vec<Participant>,
}

/// `drand.ProposalOptions` (the `Resharing` command).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct ProposalOptions {
    /// Threshold.
    pub threshold: u32,
    /// Proposal timeout.
    pub timeout: Option<Timestamp>,
    /// Catch-up period, seconds.
    pub catchup_period_seconds: u32,
    /// Joiners.
    pub joining: Vec<Participant>,
    /// Remainers.
    pub remaining: Vec<Participant>,
    /// Leavers.
    pub leaving: Vec<Participant>,
}

/// Local inputs: the operator's `DKGCommand`s (`actions_active.go`) and the execution outcome
/// (`execution.go`: `Complete`/`Failed`). Not peer-reachable.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Command {
    /// `DKGCommand_Initial` → `StartNetwork`.
    Initial(FirstProposalOptions),
    /// `DKGCommand_Resharing` → `StartProposal`.
    Resharing(ProposalOptions),
    /// `DKGCommand_Join` → `StartJoin`, with the parsed group file if any.
    Join(Option<GroupFile>),
    /// `DKGCommand_Accept` → `StartAccept`.
    Accept,
    /// `DKGCommand_Reject` → `StartReject`.
    Reject,
    /// `DKGCommand_Execute` → `StartExecute`.
    Execute,
    /// `DKGCommand_Abort` → `StartAbort`.
    Abort,
    /// The execution finished: `DBState.Complete(finalGroup, share)` then `SaveFinished`.
    Complete {
        /// The QUAL group (`None` = nil).
        final_group: Option<Group>,
        /// The share (`None` = nil).
        share: Option<Vec<u8>>,
    },
    /// The execution failed: `DBState.Failed()` then `SaveCurrent`.
    Failed,
}

impl Command {
    /// A short name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Initial(_) => "Initial",
            Command::Resharing(_) => "Resharing",
            Command::Join(_) => "Join",
            Command::Accept => "Accept",
            Command::Reject => "Reject",
            Command::Execute => "Execute",
            Command::Abort => "Abort",
            Command::Complete { .. } => "Complete",
            Command::Failed => "Failed",
        }
    }
}
