//! The session-cache model on its own, through the simulation: LRU-by-creation eviction, the
//! lifetime never making eviction fail, and the answers it sends.

use p2p_model::session_cache::Node;
use p2p_types::schedule::Step;
use p2p_types::session_cache::{incident, Command, Config, Msg};
use p2p_types::sim::{Limits, Sim};

fn sim(nodes: u8, config: Config) -> Sim<Node> {
    Sim::new(nodes, Limits::default(), Box::new(move |id| Node::new(id, nodes, &config))).0
}

fn send(node: u8, peer: u8) -> Step<Command> {
    Step::Command { node, command: Command::Send { peer } }
}

#[test]
fn full_cache_drops_the_least_recently_created_entry() {
    let mut s = sim(4, Config { map_seed: 0, capacity: 2, life_ms: 60_000 });
    for from in [3u8, 1, 2] {
        s.step(&send(from, 0));
        // The ping, then node 0's pong.
        s.step(&Step::Deliver(0));
        s.step(&Step::Deliver(0));
        s.step(&Step::Advance(10));
    }
    let o0 = s.observe().first().cloned().flatten().unwrap();
    // 3 came first, so it went; 1 and 2 remain although 3 has the largest id.
    assert_eq!(o0.conns, vec![(1, 0), (2, 0)]);
    assert_eq!(o0.sessions, vec![1, 2]);
    // Each ping was answered with a pong.
    assert_eq!((s.stats().sent, s.stats().delivered), (6, 6));
}

#[test]
fn dial_uses_a_fresh_ephemeral_port_each_time() {
    let mut s = sim(2, Config { map_seed: 0, capacity: 4, life_ms: 60_000 });
    for _ in 0..4 {
        s.step(&Step::Command { node: 1, command: Command::Dial { peer: 0 } });
    }
    let ports: Vec<Msg> = s.in_flight().iter().map(|e| e.msg.clone()).collect();
    assert_eq!(ports, vec![Msg::Ping { port: 1 }, Msg::Ping { port: 2 }, Msg::Ping { port: 3 }, Msg::Ping { port: 1 }]);
    for _ in 0..4 {
        s.step(&Step::Deliver(0));
    }
    let o0 = s.observe().first().cloned().flatten().unwrap();
    assert_eq!(o0.conns, vec![(1, 1), (1, 2), (1, 3)]);
    assert_eq!(o0.sessions, vec![1]);
}

#[test]
fn the_incident_is_harmless_to_the_model() {
    let sched = incident();
    let mut s = sim(sched.nodes, sched.config.clone());
    for step in &sched.steps {
        let r = s.step(step);
        assert!(r.faults.is_empty(), "{:?}", r.faults);
    }
    let obs = s.observe();
    for n in 0..3usize {
        let o = obs.get(n).cloned().flatten().unwrap();
        assert!(o.conns.contains(&(3, 0)), "node {n}: {o:?}");
        assert_eq!(o.conns.len(), 2);
    }
}
