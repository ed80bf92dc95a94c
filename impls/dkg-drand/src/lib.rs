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
