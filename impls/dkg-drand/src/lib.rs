//! A faithful port of drand v2's DKG packet validation at f45e7e04 (`internal/dkg/
//! state_machine.go`, `actions_passive.go`, `actions_active.go`, `actions_signing.go`,
//! `internal/util/participant_utils.go`), Go quirks included: address-only `ContainsAll`,
//! the leader-less leaver branch of `Executing`, counts on unfiltered lists, `SeenPackets` marked
//! only by a gossip with recipients.
//!
//! Features re-inject historical bugs exactly as the pre-fix code had them: `pre1318` (no base
//! swap after Aborted/TimedOut/Failed, same-epoch re-proposal; implies `pre1343`), `pre1343`
//! (reshare checked against the last proposal's Remaining ∪ Joining), `short-signature-slice`
//! (hex signature sliced `[0:8]` unchecked: panics below 4 bytes).

//! # Notes against dkg.md (the Go code at f45e7e04 decides)
//! - `gossip` (actions.go) marks `SeenPackets` only when a recipient other than the node itself
//!   is left; a packet whose next state lists nobody else is re-processed when it comes back.
//! - `StartJoin` rejects a missing group file after epoch 1 ("group file required ...") before
//!   `DBState.Joined` runs; `Joined`, `Accepted`, `Rejected` check the edge before the timeout.
//! - `DBState.Rejected` checks joining before leaving; `Accepted` checks leaving first.
//! - The execution outcome (`executeAndFinishDKG`: `Complete`/`Failed`) reads `GetCurrent`
//!   without the terminal-state swap.
//! - `StartExecute`'s Execute packet carries `now + DefaultDKGKickoffGracePeriod` (5 s).
//! - Before #1343 `validateReshareForRemainers` never read `FinalGroup`, so the nil dereference of
//!   dkg.md §4.3 (a Left state from Proposed has no FinalGroup) exists only since cea992fe; pre-1318
//!   code is therefore modelled with the pre-1343 comparison (`pre1318` implies `pre1343`).
//! - `Process.Packet` holds `d.lock` (deferred unlock) and `BroadcastDKG` locks it again: any `dkg`
//!   gossip packet with inner metadata deadlocks (by reading; modelled as `Deadlock`).
//! - Keys and signatures are decoded by this crate ([`bls`]) as the Go stack drand's `go.mod` pins
//!   does (kyber v1.3.2 `sign/bls`, kyber-bls12381 v0.3.4, kilic bls12-381 v0.1.0), not by a
//!   decoder shared with `dkg-spec`: only compressed 48/96-byte encodings, and the point at
//!   infinity (`0xc0 00…`) decodes to the identity and is **accepted** (`validateJoinerSignatures`,
//!   `internal/dkg/state_machine.go:768-779`, and `verifyMessage`,
//!   `internal/dkg/actions_signing.go:65-76`, never reject it; an identity key verifies the
//!   identity signature on every message).
//!
//! Not modelled: networking (gossip delivery, whose errors make `Initial`/`Resharing` return an
//! error after the state was saved), the v1→v2 key migration of `StartProposal`, `executeDKG`
//! (assumed to succeed), TOML persistence of the store (times that TOML cannot round-trip),
//! `Group.GetGenesisSeed()` deriving a seed for a group that has none (the group's seed is taken
//! as given), and BN254 keys.

pub mod bls;
pub mod process;
pub mod state_machine;
pub mod util;

use dkg_types::{BlsMode, Command, DkgImpl, GoTime, GossipPacket, NodeState, StepResult};

/// The drand port as a [`DkgImpl`] named `drand`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Drand;

impl DkgImpl for Drand {
    fn name(&self) -> &'static str {
        "drand"
    }
    fn packet(&self, node: &NodeState, packet: &GossipPacket, now: GoTime, mode: BlsMode) -> StepResult {
        process::packet(node, packet, now, mode)
    }
    fn command(&self, node: &NodeState, command: &Command, now: GoTime, mode: BlsMode) -> StepResult {
        process::command(node, command, now, mode)
    }
}

/// Which historical-bug features this build has, for reports (`""` for the default build).
pub fn build_features() -> &'static str {
    if cfg!(feature = "pre1318") {
        "pre1318+pre1343"
    } else if cfg!(feature = "pre1343") {
        "pre1343"
    } else if cfg!(feature = "short-signature-slice") {
        "short-signature-slice"
    } else {
        ""
    }
}
