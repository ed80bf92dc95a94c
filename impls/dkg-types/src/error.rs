//! Errors: one variant per Go error variable of `internal/dkg/state_machine.go` at f45e7e04
//! (drand's names without the `Err` prefix), `InvalidStateChange(from, to)`, `key.ErrInvalidKeyScheme`
//! (`common/key/keys.go`) and the receive pipeline's unnamed errors (`actions_passive.go`,
//! `actions_signing.go`, `actions_active.go`). Go panics and hangs that a faithful port must
//! reproduce without panicking are typed too (`NilDereference`, `Deadlock`).

use crate::model::Status;

/// A rejection (or a modelled Go failure) of a packet or command.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, thiserror::Error)]
pub enum DkgError {
    /// `InvalidStateChange(from, to)`: "invalid transition attempt from X to Y".
    #[error("invalid transition attempt from {} to {}", .0.name(), .1.name())]
    InvalidStateChange(Status, Status),
    /// `ErrMissingTerms`.
    #[error("proposal terms cannot be empty")]
    MissingTerms,
    /// `ErrTimeoutReached`.
    #[error("timeout has been reached")]
    TimeoutReached,
    /// `ErrInvalidBeaconID`.
    #[error("BeaconID was invalid")]
    InvalidBeaconID,
    /// `ErrInvalidScheme`.
    #[error("the scheme proposed does not exist")]
    InvalidScheme,
    /// `ErrGenesisTimeNotEqual` (drand wraps it with both Unix times).
    #[error("genesis time cannot be changed after the initial DKG")]
    GenesisTimeNotEqual,
    /// `ErrNoGenesisSeedForFirstEpoch`.
    #[error("the genesis seed is created during the first epoch, so you can't provide it in the proposal")]
    NoGenesisSeedForFirstEpoch,
    /// `ErrGenesisTimeNotConsistentWithProposal`.
    #[error("the genesis time in the group file provided did not match the one from the proposal")]
    GenesisTimeNotConsistentWithProposal,
    /// `ErrGenesisSeedCannotChange`.
    #[error("genesis seed cannot change after the first epoch")]
    GenesisSeedCannotChange,
    /// `ErrSelfMissingFromProposal`.
    #[error("you must include yourself in a proposal")]
    SelfMissingFromProposal,
    /// `ErrCannotJoinIfNotInJoining`.
    #[error("you cannot join a proposal in which you are not a joiner")]
    CannotJoinIfNotInJoining,
    /// `ErrJoiningAfterFirstEpochNeedsGroupFile`.
    #[error("joining after the first epoch requires a previous group file")]
    JoiningAfterFirstEpochNeedsGroupFile,
    /// `ErrInvalidEpoch`.
    #[error("the epoch provided was invalid")]
    InvalidEpoch,
    /// `ErrLeaderCantJoinAfterFirstEpoch`.
    #[error("you cannot lead a DKG and join at the same time (unless it is epoch 1)")]
    LeaderCantJoinAfterFirstEpoch,
    /// `ErrLeaderNotRemaining`.
    #[error("you cannot lead a DKG and leave at the same time")]
    LeaderNotRemaining,
    /// `ErrLeaderNotJoining`.
    #[error("the leader must join in the first epoch")]
    LeaderNotJoining,
    /// `ErrOnlyJoinersAllowedForFirstEpoch`.
    #[error("participants can only be joiners for the first epoch")]
    OnlyJoinersAllowedForFirstEpoch,
    /// `ErrNoNodesRemaining`.
    #[error("cannot propose a network without nodes remaining")]
    NoNodesRemaining,
    /// `ErrMissingNodesInProposal`.
    #[error("some node(s) in the current epoch are missing from the proposal - they should be remaining or leaving")]
    MissingNodesInProposal,
    /// `ErrCannotProposeAsNonLeader`.
    #[error("cannot make a proposal where you are not the leader")]
    CannotProposeAsNonLeader,
    /// `ErrThresholdHigherThanNodeCount`.
    #[error("the threshold cannot be higher than the count of remaining + joining nodes")]
    ThresholdHigherThanNodeCount,
    /// `ErrNodeCountTooLow`.
    #[error("the new node count cannot be lower than the prior threshold")]
    NodeCountTooLow,
    /// `ErrThresholdTooLow`.
    #[error("the threshold is below the minimum required to allow effective secret recovery given the node count")]
    ThresholdTooLow,
    /// `ErrRemainingAndLeavingNodesMustExistInCurrentEpoch`.
    #[error("remaining and leaving nodes contained a node that does not exist in the current epoch - they must be added as joiners")]
    RemainingAndLeavingNodesMustExistInCurrentEpoch,
    /// `ErrCannotAcceptProposalWhereLeaving`.
    #[error("you cannot accept a proposal where your node is leaving")]
    CannotAcceptProposalWhereLeaving,
    /// `ErrCannotAcceptProposalWhereJoining`.
    #[error("you cannot accept a proposal where your node is joining - run the join command instead")]
    CannotAcceptProposalWhereJoining,
    /// `ErrCannotRejectProposalWhereLeaving`.
    #[error("you cannot reject a proposal where your node is leaving")]
    CannotRejectProposalWhereLeaving,
    /// `ErrCannotRejectProposalWhereJoining`.
    #[error("you cannot reject a proposal where your node is joining (just turn your node off)")]
    CannotRejectProposalWhereJoining,
    /// `ErrCannotLeaveIfNotALeaver`.
    #[error("you cannot execute leave if you were not included as a leaver in the proposal")]
    CannotLeaveIfNotALeaver,
    /// `ErrOnlyLeaderCanTriggerExecute`.
    #[error("only the leader can trigger the execution")]
    OnlyLeaderCanTriggerExecute,
    /// `ErrOnlyLeaderCanRemoteAbort`.
    #[error("only the leader can remotely abort the DKG")]
    OnlyLeaderCanRemoteAbort,
    /// `ErrCannotExecuteIfNotJoinerOrRemainer`.
    #[error("you cannot start execution if you are not a remainer or joiner to the DKG")]
    CannotExecuteIfNotJoinerOrRemainer,
    /// `ErrUnknownAcceptor`.
    #[error("somebody unknown tried to accept the proposal")]
    UnknownAcceptor,
    /// `ErrDuplicateAcceptance`.
    #[error("this participant already accepted the proposal")]
    DuplicateAcceptance,
    /// `ErrInvalidAcceptor`.
    #[error("the node that signed this message is not the one claiming be accepting")]
    InvalidAcceptor,
    /// `ErrInvalidRejector`.
    #[error("the node that signed this message is not the one claiming be rejecting")]
    InvalidRejector,
    /// `ErrUnknownRejector`.
    #[error("somebody unknown tried to reject the proposal")]
    UnknownRejector,
    /// `ErrDuplicateRejection`.
    #[error("this participant already rejected the proposal")]
    DuplicateRejection,
    /// `ErrFinalGroupCannotBeEmpty`.
    #[error("you cannot complete a DKG with a nil final group")]
    FinalGroupCannotBeEmpty,
    /// `ErrKeyShareCannotBeEmpty`.
    #[error("you cannot complete a DKG with a nil key share")]
    KeyShareCannotBeEmpty,
    /// `ErrReceivedAcceptance`.
    #[error("received acceptance but not during proposal phase")]
    ReceivedAcceptance,
    /// `ErrReceivedRejection`.
    #[error("received rejection but not during proposal phase")]
    ReceivedRejection,
    /// `key.ErrInvalidKeyScheme` (common/key/keys.go), from joiner identity/PoP validation.
    #[error("the key's scheme may not match the beacon's scheme")]
    InvalidKeyScheme,
    /// Daemon proxy (`drand_daemon_dkg_proxy.go`) / `identityForBeacon`: unknown beacon id.
    #[error("beacon id not served by this node")]
    UnknownBeaconID,
    /// `Process.Packet`: "packet missing metadata".
    #[error("packet missing metadata")]
    PacketMissingMetadata,
    /// `Process.Packet`: "packet signature is too short" (hex shorter than 8 characters).
    #[error("packet signature is too short")]
    PacketSignatureTooShort,
    /// `DBState.Apply`: "invalid DKG gossip packet received" (unset oneof).
    #[error("invalid DKG gossip packet received")]
    InvalidGossipPacket,
    /// `verifyMessage`: "no such participant" (sender not in next Remaining ∪ Joining).
    #[error("invalid packet signature: no such participant")]
    NoSuchParticipant,
    /// `verifyMessage`: the listed key does not unmarshal (wraps `ErrInvalidKeyScheme`).
    #[error("invalid packet signature: unable to unmarshal the sender's key")]
    InvalidSenderKey,
    /// `verifyMessage`: BLS verification failed.
    #[error("invalid packet signature")]
    BadSignature,
    /// `StartJoin`: "group file required to join after the first epoch".
    #[error("group file required to join after the first epoch")]
    GroupFileRequired,
    /// A Go nil-pointer dereference (a panic that gRPC recovery turns into an error); the string
    /// names the Go expression.
    #[error("nil pointer dereference at {0}")]
    NilDereference(&'static str),
    /// Go would block forever: `Process.Packet` holds `d.lock` and `BroadcastDKG` locks it again.
    #[error("deadlock: Process.Packet -> BroadcastDKG re-locks d.lock")]
    Deadlock,
}

impl DkgError {

    /// Every [`DkgError::kind`], in declaration order: what a fuzz campaign's reject-reason masks
    /// index (one bit per kind, so fewer than 64; tested to list every variant's kind once).
    pub const KINDS: [&'static str; 53] = [
        "InvalidStateChange",
        "MissingTerms",
        "TimeoutReached",
        "InvalidBeaconID",
        "InvalidScheme",
        "GenesisTimeNotEqual",
        "NoGenesisSeedForFirstEpoch",
        "GenesisTimeNotConsistentWithProposal",
        "GenesisSeedCannotChange",
        "SelfMissingFromProposal",
        "CannotJoinIfNotInJoining",
        "JoiningAfterFirstEpochNeedsGroupFile",
        "InvalidEpoch",
        "LeaderCantJoinAfterFirstEpoch",
        "LeaderNotRemaining",
        "LeaderNotJoining",
        "OnlyJoinersAllowedForFirstEpoch",
        "NoNodesRemaining",
        "MissingNodesInProposal",
        "CannotProposeAsNonLeader",
        "ThresholdHigherThanNodeCount",
        "NodeCountTooLow",
        "ThresholdTooLow",
        "RemainingAndLeavingNodesMustExistInCurrentEpoch",
        "CannotAcceptProposalWhereLeaving",
        "CannotAcceptProposalWhereJoining",
        "CannotRejectProposalWhereLeaving",
        "CannotRejectProposalWhereJoining",
        "CannotLeaveIfNotALeaver",
        "OnlyLeaderCanTriggerExecute",
        "OnlyLeaderCanRemoteAbort",
        "CannotExecuteIfNotJoinerOrRemainer",
        "UnknownAcceptor",
        "DuplicateAcceptance",
        "InvalidAcceptor",
        "InvalidRejector",
        "UnknownRejector",
        "DuplicateRejection",
        "FinalGroupCannotBeEmpty",
        "KeyShareCannotBeEmpty",
        "ReceivedAcceptance",
        "ReceivedRejection",
        "InvalidKeyScheme",
        "UnknownBeaconID",
        "PacketMissingMetadata",
        "PacketSignatureTooShort",
        "InvalidGossipPacket",
        "NoSuchParticipant",
        "InvalidSenderKey",
        "BadSignature",
        "GroupFileRequired",
        "NilDereference",
        "Deadlock",
    ];
    /// A short, number-free kind for divergence signatures (`InvalidStateChange` without its
    /// statuses, `NilDereference` without its site).
    pub fn kind(&self) -> &'static str {
        match self {
            DkgError::InvalidStateChange(..) => "InvalidStateChange",
            DkgError::NilDereference(_) => "NilDereference",
            other => other.variant_name(),
        }
    }

    fn variant_name(&self) -> &'static str {
        match self {
            DkgError::InvalidStateChange(..) => "InvalidStateChange",
            DkgError::MissingTerms => "MissingTerms",
            DkgError::TimeoutReached => "TimeoutReached",
            DkgError::InvalidBeaconID => "InvalidBeaconID",
            DkgError::InvalidScheme => "InvalidScheme",
            DkgError::GenesisTimeNotEqual => "GenesisTimeNotEqual",
            DkgError::NoGenesisSeedForFirstEpoch => "NoGenesisSeedForFirstEpoch",
            DkgError::GenesisTimeNotConsistentWithProposal => "GenesisTimeNotConsistentWithProposal",
            DkgError::GenesisSeedCannotChange => "GenesisSeedCannotChange",
            DkgError::SelfMissingFromProposal => "SelfMissingFromProposal",
            DkgError::CannotJoinIfNotInJoining => "CannotJoinIfNotInJoining",
            DkgError::JoiningAfterFirstEpochNeedsGroupFile => "JoiningAfterFirstEpochNeedsGroupFile",
            DkgError::InvalidEpoch => "InvalidEpoch",
            DkgError::LeaderCantJoinAfterFirstEpoch => "LeaderCantJoinAfterFirstEpoch",
            DkgError::LeaderNotRemaining => "LeaderNotRemaining",
            DkgError::LeaderNotJoining => "LeaderNotJoining",
            DkgError::OnlyJoinersAllowedForFirstEpoch => "OnlyJoinersAllowedForFirstEpoch",
            DkgError::NoNodesRemaining => "NoNodesRemaining",
            DkgError::MissingNodesInProposal => "MissingNodesInProposal",
            DkgError::CannotProposeAsNonLeader => "CannotProposeAsNonLeader",
            DkgError::ThresholdHigherThanNodeCount => "ThresholdHigherThanNodeCount",
            DkgError::NodeCountTooLow => "NodeCountTooLow",
            DkgError::ThresholdTooLow => "ThresholdTooLow",
            DkgError::RemainingAndLeavingNodesMustExistInCurrentEpoch => "RemainingAndLeavingNodesMustExistInCurrentEpoch",
            DkgError::CannotAcceptProposalWhereLeaving => "CannotAcceptProposalWhereLeaving",
            DkgError::CannotAcceptProposalWhereJoining => "CannotAcceptProposalWhereJoining",
            DkgError::CannotRejectProposalWhereLeaving => "CannotRejectProposalWhereLeaving",
            DkgError::CannotRejectProposalWhereJoining => "CannotRejectProposalWhereJoining",
            DkgError::CannotLeaveIfNotALeaver => "CannotLeaveIfNotALeaver",
            DkgError::OnlyLeaderCanTriggerExecute => "OnlyLeaderCanTriggerExecute",
            DkgError::OnlyLeaderCanRemoteAbort => "OnlyLeaderCanRemoteAbort",
            DkgError::CannotExecuteIfNotJoinerOrRemainer => "CannotExecuteIfNotJoinerOrRemainer",
            DkgError::UnknownAcceptor => "UnknownAcceptor",
            DkgError::DuplicateAcceptance => "DuplicateAcceptance",
            DkgError::InvalidAcceptor => "InvalidAcceptor",
            DkgError::InvalidRejector => "InvalidRejector",
            DkgError::UnknownRejector => "UnknownRejector",
            DkgError::DuplicateRejection => "DuplicateRejection",
            DkgError::FinalGroupCannotBeEmpty => "FinalGroupCannotBeEmpty",
            DkgError::KeyShareCannotBeEmpty => "KeyShareCannotBeEmpty",
            DkgError::ReceivedAcceptance => "ReceivedAcceptance",
            DkgError::ReceivedRejection => "ReceivedRejection",
            DkgError::InvalidKeyScheme => "InvalidKeyScheme",
            DkgError::UnknownBeaconID => "UnknownBeaconID",
            DkgError::PacketMissingMetadata => "PacketMissingMetadata",
            DkgError::PacketSignatureTooShort => "PacketSignatureTooShort",
            DkgError::InvalidGossipPacket => "InvalidGossipPacket",
            DkgError::NoSuchParticipant => "NoSuchParticipant",
            DkgError::InvalidSenderKey => "InvalidSenderKey",
            DkgError::BadSignature => "BadSignature",
            DkgError::GroupFileRequired => "GroupFileRequired",
            DkgError::NilDereference(_) => "NilDereference",
            DkgError::Deadlock => "Deadlock",
        }
    }
}

#[cfg(test)]
mod kinds_tests {
    use super::*;

    /// One value of every variant (the match below is exhaustive, so a new variant fails to
    /// compile here until it is listed).
    fn every_variant() -> Vec<DkgError> {
        let all = vec![
            DkgError::InvalidStateChange(Status::Fresh, Status::Fresh),
            DkgError::MissingTerms,
            DkgError::TimeoutReached,
            DkgError::InvalidBeaconID,
            DkgError::InvalidScheme,
            DkgError::GenesisTimeNotEqual,
            DkgError::NoGenesisSeedForFirstEpoch,
            DkgError::GenesisTimeNotConsistentWithProposal,
            DkgError::GenesisSeedCannotChange,
            DkgError::SelfMissingFromProposal,
            DkgError::CannotJoinIfNotInJoining,
            DkgError::JoiningAfterFirstEpochNeedsGroupFile,
            DkgError::InvalidEpoch,
            DkgError::LeaderCantJoinAfterFirstEpoch,
            DkgError::LeaderNotRemaining,
            DkgError::LeaderNotJoining,
            DkgError::OnlyJoinersAllowedForFirstEpoch,
            DkgError::NoNodesRemaining,
            DkgError::MissingNodesInProposal,
            DkgError::CannotProposeAsNonLeader,
            DkgError::ThresholdHigherThanNodeCount,
            DkgError::NodeCountTooLow,
            DkgError::ThresholdTooLow,
            DkgError::RemainingAndLeavingNodesMustExistInCurrentEpoch,
            DkgError::CannotAcceptProposalWhereLeaving,
            DkgError::CannotAcceptProposalWhereJoining,
            DkgError::CannotRejectProposalWhereLeaving,
            DkgError::CannotRejectProposalWhereJoining,
            DkgError::CannotLeaveIfNotALeaver,
            DkgError::OnlyLeaderCanTriggerExecute,
            DkgError::OnlyLeaderCanRemoteAbort,
            DkgError::CannotExecuteIfNotJoinerOrRemainer,
            DkgError::UnknownAcceptor,
            DkgError::DuplicateAcceptance,
            DkgError::InvalidAcceptor,
            DkgError::InvalidRejector,
            DkgError::UnknownRejector,
            DkgError::DuplicateRejection,
            DkgError::FinalGroupCannotBeEmpty,
            DkgError::KeyShareCannotBeEmpty,
            DkgError::ReceivedAcceptance,
            DkgError::ReceivedRejection,
            DkgError::InvalidKeyScheme,
            DkgError::UnknownBeaconID,
            DkgError::PacketMissingMetadata,
            DkgError::PacketSignatureTooShort,
            DkgError::InvalidGossipPacket,
            DkgError::NoSuchParticipant,
            DkgError::InvalidSenderKey,
            DkgError::BadSignature,
            DkgError::GroupFileRequired,
            DkgError::NilDereference("site"),
            DkgError::Deadlock,
        ];
        for e in &all {
            match e {
                DkgError::InvalidStateChange(..)
                | DkgError::MissingTerms
                | DkgError::TimeoutReached
                | DkgError::InvalidBeaconID
                | DkgError::InvalidScheme
                | DkgError::GenesisTimeNotEqual
                | DkgError::NoGenesisSeedForFirstEpoch
                | DkgError::GenesisTimeNotConsistentWithProposal
                | DkgError::GenesisSeedCannotChange
                | DkgError::SelfMissingFromProposal
                | DkgError::CannotJoinIfNotInJoining
                | DkgError::JoiningAfterFirstEpochNeedsGroupFile
                | DkgError::InvalidEpoch
                | DkgError::LeaderCantJoinAfterFirstEpoch
                | DkgError::LeaderNotRemaining
                | DkgError::LeaderNotJoining
                | DkgError::OnlyJoinersAllowedForFirstEpoch
                | DkgError::NoNodesRemaining
                | DkgError::MissingNodesInProposal
                | DkgError::CannotProposeAsNonLeader
                | DkgError::ThresholdHigherThanNodeCount
                | DkgError::NodeCountTooLow
                | DkgError::ThresholdTooLow
                | DkgError::RemainingAndLeavingNodesMustExistInCurrentEpoch
                | DkgError::CannotAcceptProposalWhereLeaving
                | DkgError::CannotAcceptProposalWhereJoining
                | DkgError::CannotRejectProposalWhereLeaving
                | DkgError::CannotRejectProposalWhereJoining
                | DkgError::CannotLeaveIfNotALeaver
                | DkgError::OnlyLeaderCanTriggerExecute
                | DkgError::OnlyLeaderCanRemoteAbort
                | DkgError::CannotExecuteIfNotJoinerOrRemainer
                | DkgError::UnknownAcceptor
                | DkgError::DuplicateAcceptance
                | DkgError::InvalidAcceptor
                | DkgError::InvalidRejector
                | DkgError::UnknownRejector
                | DkgError::DuplicateRejection
                | DkgError::FinalGroupCannotBeEmpty
                | DkgError::KeyShareCannotBeEmpty
                | DkgError::ReceivedAcceptance
                | DkgError::ReceivedRejection
                | DkgError::InvalidKeyScheme
                | DkgError::UnknownBeaconID
                | DkgError::PacketMissingMetadata
                | DkgError::PacketSignatureTooShort
                | DkgError::InvalidGossipPacket
                | DkgError::NoSuchParticipant
                | DkgError::InvalidSenderKey
                | DkgError::BadSignature
                | DkgError::GroupFileRequired
                | DkgError::NilDereference(..)
                | DkgError::Deadlock => {}
            }
        }
        all
    }

    #[test]
    fn kinds_lists_every_variant_once() {
        let all = every_variant();
        assert_eq!(all.len(), DkgError::KINDS.len());
        for e in &all {
            assert_eq!(DkgError::KINDS.iter().filter(|k| **k == e.kind()).count(), 1, "{}", e.kind());
        }
        assert!(DkgError::KINDS.len() < 64);
    }
}
