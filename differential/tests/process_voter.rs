//! The process voter (issue 22 item 2) with a toy worker (tests/fixtures/toy_voter.py, a few lines
//! of Python speaking the frame protocol of src/voter.rs): a verdict compared with spec and fast,
//! an abstention, a worker killed mid-input (a `crash` finding carrying its stderr line, then a
//! restarted worker), a hang (a `timeout`), and a voter whose program is missing (it abstains with
//! the command, and the others run on).

use diverge::findings::FindingStore;
use diverge::pool::StatePool;
use diverge::runner::RunnerConfig;
use diverge::session::{default_corpus_dir, default_pool_dir, Outcome, Session};
use diverge::target::Target;
use diverge::voter::{ProcessVoter, ProcessVoterSpec};
use diverge_oracle::voter::ExternalVoter;
use diverge_types::{MinimalSpec, Preset};
use std::sync::Arc;
use std::time::Duration;

fn toy(mode: &str, program: &str) -> ProcessVoterSpec {
    let pool_dir = default_pool_dir(Preset::Minimal);
    let manifest = StatePool::<MinimalSpec>::load(&pool_dir).expect("shipped minimal pool").manifest;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/toy_voter.py");
    ProcessVoterSpec {
        name: "toy".into(),
        command: vec![program.into(), script.into(), mode.into()],
        timeout: Duration::from_secs(2),
        preset: Preset::Minimal,
        pool_dir,
        manifest,
        hint: "install Python 3".into(),
    }
}

/// A voter that the test keeps a handle on (to count restarts) while the session owns it too.
struct Shared(Arc<ProcessVoter>);

impl ExternalVoter for Shared {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn version(&self) -> &'static str {
        self.0.version()
    }
    fn vote(&self, target: Target, state_id: usize, data: &[u8], bls: diverge_types::BlsMode) -> diverge_oracle::voter::Vote {
        self.0.vote(target, state_id, data, bls)
    }
    fn post_state(&self) -> Option<Vec<u8>> {
        self.0.post_state()
    }
}

fn session(spec: ProcessVoterSpec) -> (Session, Arc<ProcessVoter>) {
    let voter = Arc::new(ProcessVoter::new(spec));
    let session = Session::with_voters(Preset::Minimal, &default_pool_dir(Preset::Minimal), RunnerConfig::default(), vec![Box::new(Shared(voter.clone()))]).expect("session");
    (session, voter)
}

fn seed(name: &str) -> Vec<u8> {
    std::fs::read(default_corpus_dir(Preset::Minimal, Target::Attestation).join(name)).expect("shipped seed")
}

fn toy_verdict(outcome: &Outcome) -> diverge::findings::RecordedVerdict {
    let verdicts = match outcome {
        Outcome::Agreed { verdicts, .. } | Outcome::Diverged { verdicts, .. } => verdicts,
        other => panic!("not run: {other:?}"),
    };
    assert_eq!(verdicts.iter().map(|v| v.implementation.as_str()).collect::<Vec<_>>(), ["spec", "fast", "toy"]);
    verdicts[2].clone()
}

/// An input spec and fast accept, with the first byte of its signature (input byte 134, see the
/// toy) set to `byte`: BLS is assumed valid, so the toy's triggers leave spec's and fast's verdicts
/// as they were.
fn accepted_with_signature_byte(byte: u8) -> Vec<u8> {
    let mut data = seed("correct_min_inclusion_delay.bin");
    data[134] = byte;
    data
}

#[test]
fn an_untyped_rejection_agrees_with_typed_ones_and_diverges_from_acceptance() {
    let (session, _) = session(toy("reject", "python3"));
    let rejected = session.run(Target::Attestation, &seed("before_inclusion_delay.bin"));
    let v = toy_verdict(&rejected);
    assert_eq!((v.kind.as_str(), v.reason.as_deref(), v.version.as_str()), ("invalid", None, "toy-1 (reject)"));
    assert!(v.message.as_deref().is_some_and(|m| m.contains("toy rejects every attestation")), "{v:?}");
    assert!(matches!(rejected, Outcome::Agreed { .. }), "{rejected:?}");

    let accepted = session.run(Target::Attestation, &accepted_with_signature_byte(0));
    assert_eq!(accepted.signature(), Some("attestation: spec-vs-toy: valid/invalid"), "{accepted:?}");
}

#[test]
fn a_root_that_differs_is_a_divergence_on_the_post_state_root() {
    let (session, _) = session(toy("root", "python3"));
    let outcome = session.run(Target::Attestation, &accepted_with_signature_byte(0));
    let v = toy_verdict(&outcome);
    assert_eq!((v.kind.as_str(), v.post_root.as_deref()), ("valid", Some(format!("0x{}", "00".repeat(32)).as_str())));
    assert_eq!(outcome.signature(), Some("attestation: spec-vs-toy: valid/valid@post_state_root"), "{outcome:?}");
}

#[test]
fn an_abstention_is_recorded_and_never_compared() {
    let (session, _) = session(toy("abstain", "python3"));
    for name in ["before_inclusion_delay.bin", "correct_min_inclusion_delay.bin"] {
        let outcome = session.run(Target::Attestation, &seed(name));
        let v = toy_verdict(&outcome);
        assert_eq!(v.kind, "abstain", "{v:?}");
        assert_eq!(v.message.as_deref(), Some("the toy votes on nothing"));
        assert!(matches!(outcome, Outcome::Agreed { .. }), "{name}: {outcome:?}");
    }
}

#[test]
fn a_worker_killed_mid_input_is_a_crash_finding_with_its_stderr_line_then_a_new_worker() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FindingStore { root: tmp.path().to_path_buf() };
    let (session, voter) = session(toy("reject", "python3"));
    let (outcome, written) = session.run_and_record(Target::Attestation, &accepted_with_signature_byte(0xEE), &store, "test").expect("record");
    assert_eq!(outcome.signature(), Some("attestation: spec-vs-toy: valid/crash"), "{outcome:?}");
    let (dir, new) = written.expect("a finding");
    assert!(new);
    let (finding, _, _) = diverge::findings::load(&dir).expect("whole finding");
    let crash = finding.verdicts.iter().find(|v| v.implementation == "toy").expect("toy's verdict");
    assert_eq!(crash.kind, "crash");
    let message = crash.message.as_deref().unwrap_or_default();
    assert!(message.contains("toy: dying on purpose at state") && message.contains("exit status: 3"), "{message}");
    assert_eq!(voter.restarts(), 1);
    // The next input gets a new worker, which votes.
    let after = session.run(Target::Attestation, &accepted_with_signature_byte(0));
    assert_eq!(after.signature(), Some("attestation: spec-vs-toy: valid/invalid"), "{after:?}");
    assert_eq!(voter.restarts(), 1);
}

#[test]
fn a_hung_worker_is_a_timeout_and_is_replaced() {
    let (session, voter) = session(toy("reject", "python3"));
    let start = std::time::Instant::now();
    let outcome = session.run(Target::Attestation, &accepted_with_signature_byte(0xDD));
    assert!(start.elapsed() < Duration::from_secs(30), "{:?}", start.elapsed());
    assert_eq!(toy_verdict(&outcome).kind, "timeout");
    assert_eq!(outcome.signature(), Some("attestation: spec-vs-toy: valid/timeout"), "{outcome:?}");
    assert_eq!(voter.restarts(), 1);
    let after = session.run(Target::Attestation, &seed("before_inclusion_delay.bin"));
    assert!(matches!(after, Outcome::Agreed { .. }), "{after:?}");
}

#[test]
fn a_missing_runtime_abstains_with_the_command_and_the_others_run_on() {
    let (session, _) = session(toy("reject", "/nonexistent/python3"));
    let outcome = session.run(Target::Attestation, &seed("before_inclusion_delay.bin"));
    let v = toy_verdict(&outcome);
    assert_eq!(v.kind, "abstain");
    let why = v.message.unwrap_or_default();
    assert!(why.contains("toy unavailable") && why.contains("/nonexistent/python3") && why.contains("install Python 3"), "{why}");
    assert!(matches!(outcome, Outcome::Agreed { .. }), "{outcome:?}");
}
