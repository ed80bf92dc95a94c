//! The stream-setup model on its own, through the simulation: the simultaneous-open tie-break,
//! the per-peer cooldown and the bootstrap rest.

use p2p_model::stream_setup::Node;
use p2p_types::schedule::Step;
use p2p_types::stream_setup::{incident, Command, Config, Msg};
use p2p_types::sim::{Limits, Sim};

fn sim(nodes: u8, config: Config) -> Sim<Node> {
    Sim::new(nodes, Limits::default(), Box::new(move |id| Node::new(id, nodes, &config))).0
}

fn discover(node: u8, peers: u8) -> Step<Command> {
    Step::Command { node, command: Command::Discover { peers } }
}

#[test]
fn simultaneous_open_keeps_the_lower_ids_stream() {
    let sched = incident();
    let mut s = sim(sched.nodes, sched.config.clone());
    // Both discover each other; two Init cross.
    for step in sched.steps.iter().take(3) {
        s.step(step);
    }
    let msgs: Vec<(u8, u8, Msg)> = s.in_flight().iter().map(|e| (e.from, e.to, e.msg.clone())).collect();
    assert_eq!(msgs, vec![(0, 1, Msg::Init), (1, 0, Msg::Init)]);
    // Node 1 (higher id) accepts node 0's Init.
    s.step(&Step::Deliver(0));
    assert_eq!(s.in_flight().back().map(|e| (e.from, e.msg.clone())), Some((1, Msg::InitAck)));
    // Node 0 ignores node 1's Init: nothing more is sent.
    let sent = s.stats().sent;
    s.step(&Step::Deliver(0));
    assert_eq!(s.stats().sent, sent);
    s.step(&Step::Deliver(0));
    let obs: Vec<Vec<u8>> = s.observe().into_iter().flatten().map(|o| o.streams).collect();
    assert_eq!(obs, vec![vec![1], vec![0]]);
}

#[test]
fn a_peer_is_retried_at_most_once_per_cooldown() {
    let mut s = sim(2, Config { lo: 1, cooldown_ms: 60_000 });
    s.step(&Step::Advance(61_000));
    s.step(&discover(0, 0b10));
    s.step(&Step::Drop(0));
    // Told again at once and 30 s later: the peer is cooling down, no new Init.
    s.step(&discover(0, 0b10));
    s.step(&Step::Advance(30_000));
    assert_eq!(s.stats().sent, 1);
    // After the cooldown (and the connect timeout) the check tick retries.
    s.step(&Step::Advance(65_000));
    let o0 = s.observe().first().cloned().flatten().unwrap();
    assert_eq!(o0.attempts, 2, "{o0:?}");
}

#[test]
fn bootstrap_round_that_finds_nobody_rests_for_a_cooldown() {
    let mut s = sim(2, Config { lo: 1, cooldown_ms: 20_000 });
    s.step(&discover(0, 0b10));
    assert_eq!(s.stats().sent, 0, "resting after the empty bootstrap round");
    // The check tick at 30 s (past the rest) sends the Init.
    s.step(&Step::Advance(30_000));
    assert_eq!(s.stats().sent, 1);
    s.step(&Step::Deliver(0));
    s.step(&Step::Deliver(0));
    let obs: Vec<Vec<u8>> = s.observe().into_iter().flatten().map(|o| o.streams).collect();
    assert_eq!(obs, vec![vec![1], vec![0]]);
}
