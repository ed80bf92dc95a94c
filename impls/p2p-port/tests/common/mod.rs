//! Lockstep harness shared by the session-cache and stream-setup tests: one `Sim` per
//! implementation (port, model), the same steps, and after every step the comparison the
//! differential runner makes (each node's observation, messages sent in the step, faults).

#![allow(dead_code, reason = "each test file uses a different part of the harness")]
#![allow(clippy::arithmetic_side_effects, clippy::indexing_slicing, reason = "test harness: a panic fails the test")]

use p2p_types::schedule::{self, Schedule, Step};
use p2p_types::sim::{Limits, Sim, StepReport};
use p2p_types::{Fault, Node, NodeId, P2pImpl, Properties};

/// Builds node `id` of `nodes` of one implementation.
pub type Build<C, N> = fn(&dyn P2pImpl, NodeId, u8, &<C as schedule::Component>::Config) -> N;

/// A sim of implementation `imp` for `s`.
pub fn sim<C, N>(imp: &'static dyn P2pImpl, s: &Schedule<C>, build: Build<C, N>) -> (Sim<N>, StepReport)
where
    C: Properties,
    C::Config: Send + 'static,
    N: Node + 'static,
{
    let config = s.config.clone();
    let nodes = s.nodes;
    Sim::new(nodes, Limits::default(), Box::new(move |id| build(imp, id, nodes, &config)))
}

/// Where port and model first disagreed.
#[derive(Debug)]
pub struct Divergence {
    /// Step index (`None`: at start).
    pub step: Option<usize>,
    /// What differed.
    pub what: String,
}

/// What a lockstep run saw.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Faults of the port, `(step, node, fault)`.
    pub port_faults: Vec<(Option<usize>, NodeId, Fault)>,
    /// Faults of the model.
    pub model_faults: Vec<(Option<usize>, NodeId, Fault)>,
    /// The first disagreement, if any.
    pub divergence: Option<Divergence>,
    /// Largest number of messages one step sent (port).
    pub max_step_sent: u64,
    /// Messages the port sent in the whole schedule.
    pub port_sent: u64,
    /// Messages the model sent in the whole schedule.
    pub model_sent: u64,
    /// The first step after which the port had sent more than its exact budget
    /// (`Properties::budget`, the differential runner's amplification oracle), if any.
    pub amplification: Option<String>,
}

/// Runs `s` through port and model in lockstep (both run to the end of the schedule even after
/// a divergence, so both outcomes can be reported).
pub fn lockstep<C, N>(s: &Schedule<C>, build: Build<C, N>, port: &'static dyn P2pImpl, model: &'static dyn P2pImpl) -> (Outcome, Sim<N>, Sim<N>)
where
    C: Properties,
    C::Config: Send + 'static,
    N: Node<Command = C::Command, Obs = <C as Properties>::Obs> + 'static,
{
    let (mut a, ra) = sim(port, s, build);
    let (mut b, rb) = sim(model, s, build);
    let mut out = Outcome::default();
    compare::<C, N>(&mut out, None, &a, &b, &ra, &rb);
    for (i, step) in s.steps.iter().enumerate() {
        let ra = a.step(step);
        let rb = b.step(step);
        compare::<C, N>(&mut out, Some(i), &a, &b, &ra, &rb);
        if out.amplification.is_none() {
            out.amplification = amplification::<C>(s, a.stats(), a.now()).map(|e| format!("step {i}: {e}"));
        }
    }
    out.port_sent = a.stats().sent;
    out.model_sent = b.stats().sent;
    (out, a, b)
}

/// Compares what the runner compares: messages sent, faults, and each node's observation on
/// what the protocol guarantees (`Properties::disagreement`).
fn compare<C: Properties, N: Node<Obs = <C as Properties>::Obs>>(out: &mut Outcome, step: Option<usize>, a: &Sim<N>, b: &Sim<N>, ra: &StepReport, rb: &StepReport) {
    out.max_step_sent = out.max_step_sent.max(ra.sent);
    out.port_faults.extend(ra.faults.iter().map(|(n, f)| (step, *n, f.clone())));
    out.model_faults.extend(rb.faults.iter().map(|(n, f)| (step, *n, f.clone())));
    if out.divergence.is_some() {
        return;
    }
    let what = if ra.sent != rb.sent {
        Some(format!("sent {} (port) vs {} (model)", ra.sent, rb.sent))
    } else if ra.faults != rb.faults {
        Some(format!("faults {:?} (port) vs {:?} (model)", ra.faults, rb.faults))
    } else {
        let (oa, ob) = (a.observe(), b.observe());
        let differ = oa.iter().zip(&ob).any(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => C::disagreement(x, y).is_some(),
            (None, None) => false,
            _ => true,
        });
        differ.then(|| format!("observations\n  port  {oa:?}\n  model {ob:?}"))
    };
    if let Some(what) = what {
        out.divergence = Some(Divergence { step, what });
    }
}

/// The differential runner's amplification oracle: messages and bytes sent so far within
/// the component's exact budget (`Properties::budget` of the counters and virtual time `now`).
pub fn amplification<C: Properties>(s: &Schedule<C>, stats: &p2p_types::sim::Stats, now: p2p_types::Millis) -> Option<String> {
    let budget = C::budget(s.nodes, &s.config, stats, now);
    (stats.sent > budget.messages || stats.sent_bytes > budget.bytes)
        .then(|| format!("{} messages / {} bytes, budget {} / {} ({stats:?})", stats.sent, stats.sent_bytes, budget.messages, budget.bytes))
}

/// A deterministic byte generator (xorshift64*), so the random schedules are the same on
/// every run.
pub struct Bytes(u64);

impl Bytes {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Bytes(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// `len` random bytes.
    pub fn take(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64().to_le_bytes()[0]).collect()
    }
}

/// A random schedule of up to `max_len` bytes whose steps favour commands and deliveries
/// (opcode bytes drawn from a weighted table) so that runs do something.
pub fn random_schedule<C: Properties>(rng: &mut Bytes, max_len: usize) -> Schedule<C> {
    let len = usize::try_from(rng.next_u64() % u64::try_from(max_len).unwrap_or(1)).unwrap_or(0);
    let mut data = rng.take(3);
    while data.len() < len {
        let r = rng.next_u64();
        // 0 command, 1 deliver x3, 2 drop, 3 duplicate, 4 delay, 5 advance x2, 6 join, 7 leave.
        let op = [0u8, 0, 0, 1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 7][usize::try_from(r % 14).unwrap_or(0)];
        data.push(op);
        let mut args = rng.take(3);
        if op == 5 {
            // Advance: mostly small, sometimes past lifetimes and cooldowns.
            let ms: u16 = match (r >> 8) % 4 {
                0 => 10,
                1 => 1_000,
                2 => 11_000,
                _ => 31_000,
            };
            args = ms.to_le_bytes().to_vec();
        }
        data.extend(args);
    }
    schedule::decode::<C>(&data)
}

/// A schedule decoded from up to `max_len` uniformly random bytes (what a fuzzer starts from).
pub fn raw_schedule<C: Properties>(rng: &mut Bytes, max_len: usize) -> Schedule<C> {
    let len = usize::try_from(rng.next_u64() % u64::try_from(max_len).unwrap_or(1)).unwrap_or(0);
    schedule::decode::<C>(&rng.take(len))
}

/// An adversarial schedule: few commands, then mostly duplicates, drops and long time jumps
/// (up to the full 65,535 ms, or just past the tick, the connect timeout and the cooldowns),
/// the inputs that make a protocol resend without an external event.
pub fn stress_schedule<C: Properties>(rng: &mut Bytes, max_len: usize) -> Schedule<C> {
    let len = usize::try_from(rng.next_u64() % u64::try_from(max_len).unwrap_or(1)).unwrap_or(0);
    let mut data = rng.take(3);
    // A few commands first.
    for _ in 0..(rng.next_u64() % 6) {
        data.push(0);
        data.extend(rng.take(3));
    }
    while data.len() < len {
        let r = rng.next_u64();
        // 1 deliver, 2 drop, 3 duplicate x3, 5 advance x4, 0 command (rare).
        let op = [1u8, 1, 2, 3, 3, 3, 5, 5, 5, 5, 0][usize::try_from(r % 11).unwrap_or(0)];
        data.push(op);
        match op {
            5 => {
                let ms: u16 = [65_535u16, 60_001, 30_001, 10_001, 20_001][usize::try_from((r >> 8) % 5).unwrap_or(0)];
                data.extend(ms.to_le_bytes());
            }
            0 => data.extend(rng.take(3)),
            _ => data.extend(rng.take(1)),
        }
    }
    schedule::decode::<C>(&data)
}

/// Applies the post-schedule drain to both sims and checks the oracles of `C` on the port's
/// sim; returns a one-line verdict on failure.
pub fn drain_and_check<C, N>(s: &Schedule<C>, sim: &mut Sim<N>) -> Result<(), String>
where
    C: Properties,
    N: Node<Obs = <C as Properties>::Obs>,
{
    let (events, horizon) = C::drain_budget(s.nodes, &s.config);
    let (report, quiet) = sim.drain(events, horizon);
    if !report.faults.is_empty() {
        return Err(format!("faults in drain: {:?}", report.faults));
    }
    if let Some(stop) = sim.stopped() {
        return Err(format!("stopped: {stop:?}"));
    }
    if let Some(e) = amplification(s, sim.stats(), sim.now()) {
        return Err(format!("amplification after the drain: {e}"));
    }
    if !quiet {
        return Err(format!("not quiet after the drain ({} in flight, {} timers)", sim.in_flight().len(), sim.pending_timers()));
    }
    let obs = sim.observe();
    C::check_converged(&s.config, &obs)?;
    C::check_liveness(&s.config, &obs, sim.stats(), sim.now())?;
    for (id, r) in sim.resources() {
        let bound = C::retained_bound(s.nodes, &s.config);
        if r.retained_bytes > bound {
            return Err(format!("node {id}: retains {} bytes > {bound}", r.retained_bytes));
        }
        for (name, len, cap) in r.tables {
            if cap.is_some_and(|c| len > c) {
                return Err(format!("node {id}: table {name} holds {len} > capacity {cap:?}"));
            }
        }
    }
    Ok(())
}

/// The steps of `s` as a readable list (for failure messages).
pub fn show<C: Properties>(s: &Schedule<C>) -> String {
    let steps: Vec<String> = s.steps.iter().map(|st| match st {
        Step::Command { node, command } => format!("{node}:{command:?}"),
        other => format!("{other:?}"),
    }).collect();
    format!("nodes {} config {:?} steps [{}]", s.nodes, s.config, steps.join(", "))
}

/// One random schedule mutation of the kinds the fuzzer's schedule mutator makes: insert a
/// random step (a command, a delivery, a time jump to one of `timeouts` ± 1), delete a step,
/// duplicate a step, swap two steps, or re-target a command to another node.
pub fn mutate<C: Properties>(s: &mut Schedule<C>, rng: &mut Bytes, timeouts: &[p2p_types::Millis]) {
    let len = s.steps.len();
    let at = |rng: &mut Bytes, n: usize| usize::try_from(rng.next_u64() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0);
    match rng.next_u64() % 6 {
        0 => {
            // A random step from random bytes.
            let mut bytes = vec![s.nodes.saturating_sub(C::MIN_NODES)];
            C::encode_config(&s.config, &mut bytes);
            bytes.extend(rng.take(4));
            if let Some(step) = schedule::decode::<C>(&bytes).steps.into_iter().next() {
                let i = at(rng, len + 1);
                s.steps.insert(i, step);
            }
        }
        1 => {
            let base = timeouts.get(at(rng, timeouts.len())).copied().unwrap_or(1000);
            let ms = match rng.next_u64() % 3 { 0 => base.saturating_sub(1), 1 => base, _ => base + 1 };
            let i = at(rng, len + 1);
            s.steps.insert(i, Step::Advance(ms));
        }
        2 if len > 0 => {
            s.steps.remove(at(rng, len));
        }
        3 if len > 0 => {
            let i = at(rng, len);
            let step = s.steps[i].clone();
            s.steps.insert(at(rng, len + 1), step);
        }
        4 if len > 1 => {
            let (i, j) = (at(rng, len), at(rng, len));
            s.steps.swap(i, j);
        }
        _ if len > 0 => {
            let i = at(rng, len);
            if let Step::Command { node, .. } = &mut s.steps[i] {
                *node = u8::try_from(rng.next_u64() % u64::from(s.nodes)).unwrap_or(0);
            }
        }
        _ => {}
    }
    s.steps.truncate(schedule::MAX_STEPS);
}
