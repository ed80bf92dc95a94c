//! The NEAR announcement model on its own: the properties it was written to (epoch order,
//! re-broadcast only on change, full sync on join) hold on the seeds, the incident and random
//! schedules.
#![allow(clippy::unwrap_used, clippy::panic, clippy::arithmetic_side_effects, reason = "test code")]
#![allow(missing_docs, reason = "test code")]

use p2p_model::announce::Node;
use p2p_types::announce::{self, Announce, AnnounceAccount, Command, Config, Msg};
use p2p_types::schedule::{decode, Schedule, Step};
use p2p_types::sim::{Limits, Sim};
use p2p_types::{Node as _, Outbox, Properties};

fn run(s: &Schedule<Announce>) -> Result<(), String> {
    let nodes = s.nodes;
    let (mut sim, _) = Sim::new(nodes, Limits::default(), Box::new(move |id| Node::new(id, nodes, &Config)));
    let over = |sim: &Sim<Node>| {
        let st = sim.stats();
        let b = Announce::budget(nodes, &Config, st, sim.now());
        (st.sent > b.messages || st.sent_bytes > b.bytes).then(|| format!("sent {} messages / {} bytes > budget {b:?} ({st:?})", st.sent, st.sent_bytes))
    };
    for step in &s.steps {
        sim.step(step);
        if let Some(e) = over(&sim) {
            return Err(e);
        }
    }
    let (budget, horizon) = Announce::drain_budget(nodes, &Config);
    let (_, quiet) = sim.drain(budget, horizon);
    if let Some(e) = over(&sim) {
        return Err(format!("after the drain: {e}"));
    }
    if !quiet || sim.stopped().is_some() {
        return Err(format!("not quiet: {:?}", sim.stopped()));
    }
    let obs = sim.observe();
    Announce::check_converged(&Config, &obs)?;
    if !s.steps.iter().any(|st| matches!(st, Step::Drop(_))) {
        announce::check_agreement(&obs)?;
    }
    Ok(())
}

#[test]
fn seeds_and_incident_hold_the_properties() {
    for (name, s) in Announce::seeds() {
        run(&s).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    run(&announce::incident()).unwrap();
    for n in [3, 4, 5, 6, 7] {
        run(&announce::incident_for(n)).unwrap_or_else(|e| panic!("incident_for({n}): {e}"));
    }
}

#[test]
fn random_schedules_hold_the_properties() {
    let mut x: u64 = 0xA11C_E5ED;
    let mut byte = || {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (x >> 56) as u8
    };
    let mut checked_agreement = 0;
    for case in 0..1_000 {
        let len = 16 + usize::from(byte()) * 2;
        let mut input: Vec<u8> = (0..len).map(|_| byte()).collect();
        if case % 2 == 1 {
            // Turn every Drop opcode byte candidate into Deliver so agreement is checked too
            // (a rough filter: the decoded schedule is checked for drops again in `run`).
            for b in input.iter_mut().skip(1) {
                if *b % 8 == 2 {
                    *b = 1;
                }
            }
        }
        let s = decode::<Announce>(&input);
        checked_agreement += usize::from(!s.steps.iter().any(|st| matches!(st, Step::Drop(_))));
        run(&s).unwrap_or_else(|e| panic!("case {case}: {e}; input {input:?}"));
    }
    assert!(checked_agreement > 400, "agreement was checked on {checked_agreement} schedules");
}

#[test]
fn older_epochs_are_ignored_and_news_is_passed_on_once() {
    let mut n = Node::new(1, 3, &Config);
    let a = |epoch| AnnounceAccount { account: 0, peer: 0, epoch };
    let mut out = Outbox::new(vec![0, 2]);
    n.on_message(0, 0, &Msg::Sync(vec![a(3)]), &mut out).unwrap();
    assert_eq!(out.sent().len(), 2);
    for (epoch, sends) in [(1, 0), (3, 0), (4, 2), (4, 0)] {
        let mut out = Outbox::new(vec![0, 2]);
        n.on_message(0, 2, &Msg::Sync(vec![a(epoch)]), &mut out).unwrap();
        assert_eq!(out.sent().len(), sends, "epoch {epoch}");
    }
    assert_eq!(n.observe().table, vec![a(4)]);
    // Its own account: stale commands are ignored, a new epoch is announced to every peer.
    let mut out = Outbox::new(vec![0, 2]);
    n.on_command(0, &Command::Announce { epoch: 2 }, &mut out).unwrap();
    n.on_command(0, &Command::Announce { epoch: 2 }, &mut out).unwrap();
    n.on_command(0, &Command::Announce { epoch: 1 }, &mut out).unwrap();
    assert_eq!(out.sent().len(), 2);
    assert_eq!(n.observe().announced, Some(2));
    // A joining peer gets the whole table in one message.
    let mut out = Outbox::new(vec![0, 2]);
    n.on_peer_joined(0, 2, &mut out).unwrap();
    assert_eq!(out.sent(), &[(2, Msg::Sync(vec![a(4), AnnounceAccount { account: 1, peer: 1, epoch: 2 }]))]);
}
