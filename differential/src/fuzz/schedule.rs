//! Schedule-aware mutations of the network targets (architecture.md §12.4): decode the input as
//! a `p2p_types::schedule::Schedule`, change it as a schedule, encode it again. Generic over the
//! component (`p2p_types::schedule::Component`) and free of the fuzz loop's types, so the
//! structure-aware mutator crate can take it over as it is.
//!
//! Moves: insert a step (any kind), delete one, duplicate one, swap two (reordering), change a
//! command's node or argument, change the node count or a configuration byte, and time jumps:
//! an `Advance` to one of the configuration's timeouts or cooldowns ±1 (`Component::timeouts`
//! and the caller's list, e.g. `differential::p2p::P2pComponent::timeouts`; else values read
//! from the encoded configuration's bytes and their ×10/×100/×1000 multiples).

use p2p_types::schedule::{self, Component, Reader, Schedule, Step, MAX_STEPS};
use p2p_types::Millis;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Time jumps worth trying for `config`: its timeouts (`Component::timeouts` and `known`, the
/// caller's knowledge of the configuration's fields; else guesses from its bytes) and ±1.
pub fn time_jumps<C: Component>(config: &C::Config, known: &[Millis]) -> Vec<Millis> {
    let mut base = C::timeouts(config);
    base.extend_from_slice(known);
    if base.is_empty() {
        let mut bytes = Vec::new();
        C::encode_config(config, &mut bytes);
        for b in &bytes {
            let b = Millis::from(*b);
            base.extend([b, b.saturating_mul(10), b.saturating_mul(100), b.saturating_mul(1000)]);
        }
        for w in bytes.windows(2) {
            if let [lo, hi] = w {
                let v = Millis::from(u16::from_le_bytes([*lo, *hi]));
                base.extend([v, v.saturating_mul(10)]);
            }
        }
    }
    let mut out: Vec<Millis> = base.iter().flat_map(|&t| [t.saturating_sub(1), t, t.saturating_add(1)]).filter(|&t| t > 0).collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn random_command<C: Component>(rng: &mut ChaCha8Rng, nodes: u8) -> Option<C::Command> {
    let bytes: [u8; 16] = rng.gen();
    C::decode_command(&mut Reader::new(&bytes), nodes)
}

fn random_step<C: Component>(s: &Schedule<C>, jumps: &[Millis], rng: &mut ChaCha8Rng) -> Option<Step<C::Command>> {
    let node = rng.gen_range(0..s.nodes.max(1));
    let index = if rng.gen_bool(0.7) { rng.gen_range(0..4) } else { rng.gen() };
    Some(match rng.gen_range(0..10u8) {
        0 | 1 => Step::Command { node, command: random_command::<C>(rng, s.nodes)? },
        2 | 3 => Step::Deliver(index),
        4 => Step::Drop(index),
        5 => Step::Duplicate(index),
        6 => Step::Delay(index),
        7 => Step::Advance(jump(jumps, rng)),
        8 => Step::Join(node),
        _ => Step::Leave(node),
    })
}

fn jump(jumps: &[Millis], rng: &mut ChaCha8Rng) -> Millis {
    match jumps.len() {
        n if n > 0 && rng.gen_bool(0.8) => jumps.get(rng.gen_range(0..n)).copied().unwrap_or(1),
        _ => Millis::from(rng.gen_range(1..=u16::MAX)),
    }
}

/// One structural change of `s`; `false` when the chosen move did not apply (e.g. nothing to
/// delete).
pub fn mutate_once<C: Component>(s: &mut Schedule<C>, known: &[Millis], rng: &mut ChaCha8Rng) -> bool {
    let jumps = time_jumps::<C>(&s.config, known);
    let len = s.steps.len();
    match rng.gen_range(0..12u8) {
        0 | 1 if len < MAX_STEPS => {
            let Some(step) = random_step(s, &jumps, rng) else { return false };
            s.steps.insert(rng.gen_range(0..=len), step);
        }
        2 if len > 0 => {
            s.steps.remove(rng.gen_range(0..len));
        }
        3 if len > 0 && len < MAX_STEPS => {
            let Some(step) = s.steps.get(rng.gen_range(0..len)).cloned() else { return false };
            s.steps.insert(rng.gen_range(0..=len), step);
        }
        4 if len > 1 => {
            s.steps.swap(rng.gen_range(0..len), rng.gen_range(0..len));
        }
        5 => {
            let nodes = s.nodes;
            let commands: Vec<usize> = s.steps.iter().enumerate().filter(|(_, st)| matches!(st, Step::Command { .. } | Step::Join(_) | Step::Leave(_))).map(|(i, _)| i).collect();
            let Some(&i) = commands.get(rng.gen_range(0..commands.len().max(1))) else { return false };
            let new = rng.gen_range(0..nodes.max(1));
            match s.steps.get_mut(i) {
                Some(Step::Command { node, .. } | Step::Join(node) | Step::Leave(node)) => *node = new,
                _ => return false,
            }
        }
        6 => {
            let commands: Vec<usize> = s.steps.iter().enumerate().filter(|(_, st)| matches!(st, Step::Command { .. })).map(|(i, _)| i).collect();
            let Some(&i) = commands.get(rng.gen_range(0..commands.len().max(1))) else { return false };
            let nodes = s.nodes;
            let Some(Step::Command { command, .. }) = s.steps.get_mut(i) else { return false };
            // Change one byte of the command's encoding, or draw a new command.
            let mut bytes = Vec::new();
            C::encode_command(command, &mut bytes);
            if !bytes.is_empty() && rng.gen_bool(0.7) {
                let at = rng.gen_range(0..bytes.len());
                if let Some(b) = bytes.get_mut(at) {
                    *b = if rng.gen_bool(0.5) { b.wrapping_add(if rng.gen() { 1 } else { 255 }) } else { rng.gen() };
                }
                bytes.extend([0u8; 8]);
                match C::decode_command(&mut Reader::new(&bytes), nodes) {
                    Some(c) => *command = c,
                    None => return false,
                }
            } else {
                match random_command::<C>(rng, nodes) {
                    Some(c) => *command = c,
                    None => return false,
                }
            }
        }
        7 => {
            s.nodes = rng.gen_range(C::MIN_NODES..=C::MAX_NODES.max(C::MIN_NODES));
            for st in &mut s.steps {
                match st {
                    Step::Command { node, .. } | Step::Join(node) | Step::Leave(node) => *node = node.checked_rem(s.nodes).unwrap_or(0),
                    _ => {}
                }
            }
        }
        8 => {
            let mut bytes = Vec::new();
            C::encode_config(&s.config, &mut bytes);
            let Some(b) = (!bytes.is_empty()).then(|| rng.gen_range(0..bytes.len())).and_then(|i| bytes.get_mut(i)) else { return false };
            *b = match rng.gen_range(0..3u8) {
                0 => b.wrapping_add(1),
                1 => b.wrapping_sub(1),
                _ => rng.gen(),
            };
            s.config = C::decode_config(&mut Reader::new(&bytes));
        }
        // Time jumps: replace an Advance, or insert one.
        _ => {
            let advances: Vec<usize> = s.steps.iter().enumerate().filter(|(_, st)| matches!(st, Step::Advance(_))).map(|(i, _)| i).collect();
            let ms = jump(&jumps, rng);
            match advances.get(rng.gen_range(0..advances.len().max(1))) {
                Some(&i) if rng.gen_bool(0.6) => {
                    if let Some(st) = s.steps.get_mut(i) {
                        *st = Step::Advance(ms);
                    }
                }
                _ if len < MAX_STEPS => s.steps.insert(rng.gen_range(0..=len), Step::Advance(ms)),
                _ => return false,
            }
        }
    }
    true
}

/// Mutates `data` as a schedule of `C`: decodes it, applies 1–4 structural changes, encodes it
/// (at most `max_len` bytes). `timeouts` gives the decoded configuration's timeouts and
/// cooldowns, ms (see [`time_jumps`]). Returns `false` when no change applied (the caller then
/// falls back to byte havoc).
pub fn mutate_schedule<C: Component>(data: &mut Vec<u8>, rng: &mut ChaCha8Rng, max_len: usize, timeouts: fn(&C::Config) -> Vec<Millis>) -> bool {
    let mut s = schedule::decode::<C>(data);
    let rounds = 1usize << rng.gen_range(0..3);
    let mut changed = false;
    for _ in 0..rounds {
        let known = timeouts(&s.config);
        changed |= mutate_once(&mut s, &known, rng);
    }
    if !changed {
        return false;
    }
    let mut out = schedule::encode(&s);
    out.truncate(max_len);
    *data = out;
    true
}

/// Mutates `data` as a schedule of network target `target` ([`mutate_schedule`] with the
/// component's timeouts).
pub fn mutate_target(target: crate::p2p::P2pTarget, data: &mut Vec<u8>, rng: &mut rand_chacha::ChaCha8Rng, max_len: usize) -> bool {
    match target {
        crate::p2p::P2pTarget::Announce => mutate_schedule::<p2p_types::announce::Announce>(data, rng, max_len, <p2p_types::announce::Announce as crate::p2p::P2pComponent>::timeouts),
        crate::p2p::P2pTarget::SessionCache => mutate_schedule::<p2p_types::session_cache::SessionCache>(data, rng, max_len, <p2p_types::session_cache::SessionCache as crate::p2p::P2pComponent>::timeouts),
        crate::p2p::P2pTarget::StreamSetup => mutate_schedule::<p2p_types::stream_setup::StreamSetup>(data, rng, max_len, <p2p_types::stream_setup::StreamSetup as crate::p2p::P2pComponent>::timeouts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p2p_types::testing::{self, Toy};
    use p2p_types::Properties;
    use rand::SeedableRng;

    #[test]
    fn mutants_decode_and_every_move_happens() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let seeds: Vec<Vec<u8>> = Toy::seeds().iter().map(|(_, s)| schedule::encode(s)).collect();
        let (mut inserted, mut deleted, mut nodes_changed) = (0, 0, 0);
        for i in 0..2_000usize {
            let mut data = seeds[i % seeds.len()].clone();
            let before = schedule::decode::<Toy>(&data);
            if !mutate_schedule::<Toy>(&mut data, &mut rng, 4096, |_| Vec::new()) {
                continue;
            }
            let after = schedule::decode::<Toy>(&data);
            // Re-encoding is canonical: the mutant decodes to what was encoded.
            assert_eq!(schedule::encode(&after), data);
            inserted += usize::from(after.steps.len() > before.steps.len());
            deleted += usize::from(after.steps.len() < before.steps.len());
            nodes_changed += usize::from(after.nodes != before.nodes);
        }
        assert!(inserted > 100 && deleted > 100 && nodes_changed > 50, "{inserted} {deleted} {nodes_changed}");
    }

    #[test]
    fn time_jumps_come_from_the_config() {
        let config = testing::Config { flags: 0, capacity: 0, period: 250 };
        let jumps = time_jumps::<Toy>(&config, &[]);
        for t in [249, 250, 251] {
            assert!(jumps.contains(&t), "{jumps:?}");
        }
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut s = Schedule::<Toy> { nodes: 2, config, steps: vec![] };
        let mut hits = 0;
        for _ in 0..4_000 {
            s.steps.clear();
            mutate_once(&mut s, &[], &mut rng);
            hits += usize::from(matches!(s.steps.first(), Some(Step::Advance(249..=251))));
        }
        // Some moves insert a jump, most of those from the list, 3 of its ~40 entries here.
        assert!(hits > 3, "{hits}");
    }

    /// The fuzz loop's mutator treats the network targets as schedules most of the time (the
    /// mutant is a canonical encoding) and falls back to byte havoc sometimes.
    #[test]
    fn the_loops_mutator_uses_schedule_moves_for_network_targets() {
        use crate::fuzz::mutate::{Havoc, Mutator};
        use crate::target::Target;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let seeds: Vec<Vec<u8>> = crate::p2p::P2pTarget::SessionCache.seeds().into_iter().map(|(_, b)| b).collect();
        let (mut canonical, mut total) = (0usize, 0usize);
        for i in 0..1_000usize {
            let mut data = seeds[i % seeds.len()].clone();
            Havoc.mutate(Target::P2pSessionCache, &mut data, &seeds, &mut rng, 4096);
            let s = schedule::decode::<p2p_types::session_cache::SessionCache>(&data);
            canonical += usize::from(schedule::encode(&s) == data);
            total += 1;
        }
        assert!(canonical * 100 > total * 70 && canonical < total, "{canonical} of {total} canonical");
    }
}
