//! The simulation on its own (architecture.md §12.1), with a test-only node that records every
//! event it sees: delivery, drop, duplicate, delay, time and timers (replacement), join and
//! leave, fault removal, the limits, the drain, and determinism (same bytes, same run).
#![allow(clippy::arithmetic_side_effects, reason = "test arithmetic on small numbers")]

use p2p_types::schedule::{self, Step};
use p2p_types::sim::{Limits, Sim, Stop};
use p2p_types::testing::{self, Toy, ToyNode};
use p2p_types::{Fault, Millis, Node, NodeId, Outbox, Resources, TimerId};

/// What the recorder is told to do.
#[derive(Clone, Debug)]
enum Cmd {
    Send(NodeId, u8),
    Broadcast(u8),
    Timer(Millis, TimerId),
    Crash,
}

/// Logs every event as text; a message `m >= 200` makes it re-send `m` to the sender (ping-pong).
struct Rec {
    log: Vec<String>,
    crash_on_start: bool,
    rearm: Option<Millis>,
}

impl Node for Rec {
    type Msg = u8;
    type Command = Cmd;
    type Obs = Vec<String>;
    fn on_start(&mut self, now: Millis, out: &mut Outbox<u8>) -> Result<(), Fault> {
        self.log.push(format!("start@{now} peers {:?}", out.peers()));
        if self.crash_on_start {
            return Err(Fault::Crash("start".into()));
        }
        Ok(())
    }
    fn on_peer_joined(&mut self, now: Millis, peer: NodeId, _out: &mut Outbox<u8>) -> Result<(), Fault> {
        self.log.push(format!("joined {peer}@{now}"));
        Ok(())
    }
    fn on_peer_left(&mut self, now: Millis, peer: NodeId, _out: &mut Outbox<u8>) -> Result<(), Fault> {
        self.log.push(format!("left {peer}@{now}"));
        Ok(())
    }
    fn on_command(&mut self, _now: Millis, command: &Cmd, out: &mut Outbox<u8>) -> Result<(), Fault> {
        match command {
            Cmd::Send(to, m) => out.send(*to, *m),
            Cmd::Broadcast(m) => out.broadcast(m),
            Cmd::Timer(d, t) => out.set_timer(*d, *t),
            Cmd::Crash => return Err(Fault::Crash("told to".into())),
        }
        Ok(())
    }
    fn on_message(&mut self, now: Millis, from: NodeId, msg: &u8, out: &mut Outbox<u8>) -> Result<(), Fault> {
        self.log.push(format!("msg {msg} from {from}@{now}"));
        if *msg >= 200 {
            out.send(from, *msg);
        }
        Ok(())
    }
    fn on_timer(&mut self, now: Millis, timer: TimerId, out: &mut Outbox<u8>) -> Result<(), Fault> {
        self.log.push(format!("timer {timer}@{now}"));
        if let Some(d) = self.rearm {
            out.set_timer(d, timer);
        }
        Ok(())
    }
    fn observe(&self) -> Vec<String> {
        self.log.clone()
    }
    fn resources(&self) -> Resources {
        Resources::default()
    }
}

fn sim(nodes: u8, limits: Limits) -> Sim<Rec> {
    Sim::new(nodes, limits, Box::new(|_| Rec { log: Vec::new(), crash_on_start: false, rearm: None })).0
}

fn cmd(node: NodeId, c: Cmd) -> Step<Cmd> {
    Step::Command { node, command: c }
}

fn log(s: &Sim<Rec>, id: usize) -> Vec<String> {
    s.observe().get(id).cloned().flatten().unwrap_or_default()
}

#[test]
fn start_delivers_in_canonical_order_and_counts() {
    let mut s = sim(3, Limits::default());
    assert_eq!(log(&s, 1), vec!["start@0 peers [0, 2]"]);
    // Sends of one handler are queued sorted by (to, msg), whatever the order they were made in.
    let r = s.step(&cmd(0, Cmd::Broadcast(9)));
    assert_eq!(r.sent, 2);
    let r = s.step(&cmd(0, Cmd::Send(1, 3)));
    assert_eq!(r.sent, 1);
    let q: Vec<(NodeId, u8)> = s.in_flight().iter().map(|e| (e.to, e.msg)).collect();
    assert_eq!(q, vec![(1, 9), (2, 9), (1, 3)]);
    // Deliver index 2 (the `3`), then index 7 mod 2 = 1 (the `9` to node 2).
    s.step(&Step::Deliver(2));
    s.step(&Step::Deliver(7));
    assert_eq!(log(&s, 1).last().unwrap(), "msg 3 from 0@0");
    assert_eq!(log(&s, 2).last().unwrap(), "msg 9 from 0@0");
    assert_eq!(s.in_flight().len(), 1);
    let st = s.stats();
    assert_eq!((st.sent, st.delivered, st.dropped, st.external_events), (3, 2, 0, 2));
    assert_eq!(st.sent_by, vec![3, 0, 0]);
}

#[test]
fn drop_duplicate_delay() {
    let mut s = sim(3, Limits::default());
    s.step(&cmd(0, Cmd::Send(1, 1)));
    s.step(&cmd(0, Cmd::Send(2, 2)));
    s.step(&Step::Delay(0)); // [2, 1]
    assert_eq!(s.in_flight().iter().map(|e| e.msg).collect::<Vec<_>>(), vec![2, 1]);
    s.step(&Step::Duplicate(1)); // [2, 1, 1]
    assert_eq!(s.in_flight().iter().map(|e| e.msg).collect::<Vec<_>>(), vec![2, 1, 1]);
    s.step(&Step::Drop(0)); // [1, 1]
    assert_eq!(s.stats().dropped, 1);
    s.step(&Step::Deliver(0));
    s.step(&Step::Deliver(0));
    assert_eq!(log(&s, 1)[1..], ["msg 1 from 0@0", "msg 1 from 0@0"]);
    assert_eq!(log(&s, 2).len(), 1, "the dropped message never arrives");
    // On an empty queue every queue step is a no-op.
    for step in [Step::Deliver(5), Step::Drop(5), Step::Duplicate(5), Step::Delay(5)] {
        assert_eq!(s.step(&step).sent, 0);
    }
    assert_eq!(s.stats().delivered, 2);
    assert_eq!(s.stats().injected, 2, "one duplicate and one drop were injected; delays are not");
}

#[test]
fn timers_fire_in_time_order_and_replace() {
    let mut s = sim(2, Limits::default());
    s.step(&cmd(0, Cmd::Timer(50, 1)));
    s.step(&cmd(1, Cmd::Timer(30, 1)));
    s.step(&cmd(0, Cmd::Timer(20, 2)));
    s.step(&cmd(0, Cmd::Timer(80, 1))); // replaces node 0's timer 1 (was due at 50)
    assert_eq!(s.pending_timers(), 3);
    s.step(&Step::Advance(25));
    assert_eq!(log(&s, 0).last().unwrap(), "timer 2@20");
    assert_eq!(s.now(), 25);
    s.step(&Step::Advance(30)); // to 55: node 1's timer at 30; node 0's replaced timer not at 50
    assert_eq!(log(&s, 1).last().unwrap(), "timer 1@30");
    assert!(!log(&s, 0).iter().any(|l| l == "timer 1@50"));
    s.step(&Step::Advance(25)); // to 80
    assert_eq!(log(&s, 0).last().unwrap(), "timer 1@80");
    assert_eq!(s.stats().timer_fires, 3);
    assert_eq!(s.pending_timers(), 0);
}

#[test]
fn join_and_leave() {
    let mut s = sim(3, Limits::default());
    s.step(&cmd(0, Cmd::Send(2, 1)));
    s.step(&cmd(2, Cmd::Timer(10, 1)));
    s.step(&Step::Leave(2));
    assert!(!s.is_live(2));
    assert_eq!(s.in_flight().len(), 0, "messages to a leaving node are dropped");
    assert_eq!(s.pending_timers(), 0, "its timers too");
    assert_eq!(log(&s, 0).last().unwrap(), "left 2@0");
    assert_eq!(s.observe()[2], None);
    // Commands to a node that is not live are ignored and not external events.
    let events = s.stats().external_events;
    s.step(&cmd(2, Cmd::Broadcast(1)));
    s.step(&Step::Leave(2));
    assert_eq!(s.stats().external_events, events);
    s.step(&Step::Advance(5));
    s.step(&Step::Join(2));
    assert_eq!(log(&s, 2), vec!["start@5 peers [0, 1]"], "a joining node restarts empty");
    assert_eq!(log(&s, 1).last().unwrap(), "joined 2@5");
    s.step(&Step::Join(2)); // already live: no-op
    assert_eq!(log(&s, 1).iter().filter(|l| l.starts_with("joined")).count(), 1);
    assert_eq!(s.stats().external_events, events + 1, "the join only");
}

#[test]
fn a_fault_takes_the_node_out() {
    let mut s = sim(3, Limits::default());
    s.step(&cmd(1, Cmd::Send(0, 4)));
    let r = s.step(&cmd(1, Cmd::Crash));
    assert_eq!(r.faults, vec![(1, Fault::Crash("told to".into()))]);
    assert!(!s.is_live(1));
    assert_eq!(s.in_flight().len(), 0);
    assert_eq!(log(&s, 0).last().unwrap(), "left 1@0");
}

#[test]
fn a_node_whose_start_faults_on_join_is_never_announced() {
    let crash = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let c = crash.clone();
    let (mut s, _) = Sim::new(
        2,
        Limits::default(),
        Box::new(move |_| Rec { log: Vec::new(), crash_on_start: c.load(std::sync::atomic::Ordering::Relaxed), rearm: None }),
    );
    s.step(&Step::Leave(1));
    crash.store(true, std::sync::atomic::Ordering::Relaxed);
    let r = s.step(&Step::Join(1));
    assert_eq!(r.faults.len(), 1);
    assert!(!s.is_live(1));
    assert!(!log(&s, 0).iter().any(|l| l.starts_with("joined")), "{:?}", log(&s, 0));
}

#[test]
fn in_flight_limit_stops_the_run() {
    let mut s = sim(2, Limits { max_in_flight: 3, max_timer_fires: 10 });
    for _ in 0..3 {
        s.step(&cmd(0, Cmd::Send(1, 1)));
    }
    assert_eq!(s.stopped(), None, "exactly the limit is allowed");
    s.step(&Step::Duplicate(0));
    assert_eq!(s.stopped(), Some(&Stop::InFlight(4)));
    // Stopped: further steps do nothing.
    assert_eq!(s.step(&cmd(0, Cmd::Broadcast(1))).sent, 0);
}

#[test]
fn timer_storm_stops_the_run_in_advance_and_in_drain() {
    let make = |rearm| -> Sim<Rec> { Sim::new(2, Limits { max_in_flight: 100, max_timer_fires: 50 }, Box::new(move |_| Rec { log: Vec::new(), crash_on_start: false, rearm })).0 };
    // A timer that re-arms itself with no delay.
    let mut s = make(Some(0));
    s.step(&cmd(0, Cmd::Timer(1, 7)));
    s.step(&Step::Advance(1));
    assert_eq!(s.stopped(), Some(&Stop::TimerStorm(51)));
    // The same in the drain terminates too (it used to loop for ever).
    let mut s = make(Some(0));
    s.step(&cmd(0, Cmd::Timer(1, 7)));
    let (_, quiet) = s.drain(usize::MAX, 1_000);
    assert!(!quiet);
    assert_eq!(s.stopped(), Some(&Stop::TimerStorm(51)));
    // Near miss: re-arming 10 ms later fires 10 times in 100 ms: no storm.
    let mut s = make(Some(10));
    s.step(&cmd(0, Cmd::Timer(10, 7)));
    s.step(&Step::Advance(100));
    assert_eq!(s.stopped(), None);
    assert_eq!(s.stats().timer_fires, 10);
}

#[test]
fn drain_goes_quiet_or_reports_it_does_not() {
    let mut s = sim(3, Limits::default());
    s.step(&cmd(0, Cmd::Broadcast(1)));
    s.step(&cmd(1, Cmd::Timer(500, 1)));
    let (_, quiet) = s.drain(100, 1_000);
    assert!(quiet);
    assert_eq!(s.in_flight().len(), 0);
    assert_eq!(log(&s, 1).last().unwrap(), "timer 1@500");
    assert_eq!(s.now(), 500);
    // A timer beyond the horizon does not keep the network busy.
    s.step(&cmd(1, Cmd::Timer(5_000, 1)));
    assert!(s.drain(100, 1_000).1);
    // A ping-pong never ends: the event budget runs out.
    s.step(&cmd(0, Cmd::Send(1, 200)));
    let (_, quiet) = s.drain(100, 1_000);
    assert!(!quiet);
    assert_eq!(s.stopped(), None);
}

#[test]
fn same_bytes_same_run() {
    // Decode random-ish bytes as toy schedules and run each twice: identical stats and observations.
    for seed in 0u32..200 {
        let bytes: Vec<u8> = (0..120u32).map(|i| (seed.wrapping_mul(2_654_435_761).wrapping_add(i.wrapping_mul(40_503)) >> 11) as u8).collect();
        let run = || {
            let sched = schedule::decode::<Toy>(&bytes);
            let config = sched.config.clone();
            let (mut s, _) = Sim::new(sched.nodes, Limits::default(), Box::new(move |id| ToyNode::new(id, &config, testing::Quirk::None)));
            let sent: Vec<u64> = sched.steps.iter().map(|st| s.step(st).sent).collect();
            let (_, quiet) = s.drain(1_000, 10_000);
            (sent, s.stats().clone(), s.observe(), s.now(), quiet, s.stopped().cloned())
        };
        assert_eq!(run(), run(), "seed {seed}");
    }
}

#[test]
fn schedules_round_trip() {
    for (name, sched) in <Toy as p2p_types::Properties>::seeds() {
        assert_eq!(schedule::decode::<Toy>(&schedule::encode(&sched)), sched, "{name}");
    }
    // Long advances are split and decode to their sum's steps.
    let s = schedule::Schedule::<Toy> { nodes: 2, config: testing::Config::default(), steps: vec![Step::Advance(70_000)] };
    let d = schedule::decode::<Toy>(&schedule::encode(&s));
    assert_eq!(d.steps, vec![Step::Advance(65_535), Step::Advance(70_000 - 65_535)]);
    // Truncated steps are dropped, every byte string decodes.
    assert_eq!(schedule::decode::<Toy>(&[]).nodes, 2);
    assert_eq!(schedule::decode::<Toy>(&[0, 0, 0, 0, 0, 5, 1]).steps, vec![]);
}
