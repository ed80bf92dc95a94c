//! Verdicts as recorded: the serialisable form of one voter's answer ([`RecordedVerdict`]) and of
//! the selected pre-state ([`RecordedState`]), as `finding.json`, replay reports and the engines'
//! harness carry them. Plain data: the findings store (`diverge::findings`) writes them.

use crate::runner::{ImplVerdict, Verdict};
use diverge_types::*;
use serde::{Deserialize, Serialize};

/// One implementation's verdict as recorded.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RecordedVerdict {
    /// Implementation name.
    pub implementation: String,
    /// Implementation version.
    pub version: String,
    /// `valid`, `invalid`, `crash` or `timeout`.
    pub kind: String,
    /// The reject name, for `invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The panic message, for `crash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `hash_tree_root` of the post-state, for `valid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_root: Option<String>,
    /// `chain`: index of the rejecting block, for `invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_block: Option<usize>,
}

impl RecordedVerdict {
    /// Records a live verdict, computing the post-state root.
    pub fn from_verdict<E: EthSpec>(v: &ImplVerdict<E>) -> Self {
        Self::record(v, true)
    }

    /// Records a live verdict; the post-state root (the costly part: a full `hash_tree_root`) only
    /// when `with_root`. Hot loops record without it and compute roots only for findings.
    pub fn record<E: EthSpec>(v: &ImplVerdict<E>, with_root: bool) -> Self {
        let mut r = RecordedVerdict {
            implementation: v.name.to_string(),
            version: v.version.to_string(),
            kind: String::new(),
            reason: None,
            message: None,
            post_root: None,
            rejected_block: v.rejected_block,
        };
        match &v.verdict {
            Verdict::Valid(post) => {
                r.kind = "valid".into();
                r.post_root = with_root.then(|| format!("{:#x}", post.tree_hash_root()));
            }
            Verdict::Invalid(reason) => {
                r.kind = "invalid".into();
                r.reason = Some(reason.name().into());
            }
            Verdict::Crash(m) => {
                r.kind = "crash".into();
                r.message = Some(m.clone());
            }
            Verdict::Timeout => r.kind = "timeout".into(),
            Verdict::ValidRoot(root) => {
                r.kind = "valid".into();
                r.post_root = Some(format!("{root:#x}"));
            }
            Verdict::InvalidUntyped(m) => {
                r.kind = "invalid".into();
                r.message = Some(m.clone());
            }
            Verdict::Abstain(why) => {
                r.kind = "abstain".into();
                r.message = Some(why.clone());
            }
        }
        r
    }

    /// The verdict in one line: `valid 0xab..`, `invalid AttestationTooEarly`, `crash: msg`, `timeout`.
    pub fn summary(&self) -> String {
        match self.kind.as_str() {
            "valid" => format!("valid (post root {})", self.post_root.as_deref().unwrap_or("?")),
            "invalid" => match self.rejected_block {
                Some(block) => format!("invalid at block {block}: {}", self.reason.as_deref().unwrap_or("?")),
                None => format!("invalid: {}", self.reason.as_deref().unwrap_or("?")),
            },
            "crash" => format!("CRASH: {}", self.message.as_deref().unwrap_or("?")),
            "abstain" => format!("abstained: {}", self.message.as_deref().unwrap_or("?")),
            other => other.to_string(),
        }
    }
}

/// The selected pool state.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RecordedState {
    /// Pool id.
    pub id: usize,
    /// Its root.
    pub root: String,
    /// The spec vector it came from.
    pub source: String,
}

