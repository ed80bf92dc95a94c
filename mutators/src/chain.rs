//! `chain`: short sequences (2–[`MAX_CHAIN_BLOCKS`]) of generated blocks, each a valid extension of
//! the state the blocks before it leave, so bugs that need several blocks (eth1 votes toward a
//! majority, participation toward justification, slashings and exits piling up in one epoch) are
//! reachable (issue 13, "a `chain` target that applies a short sequence of generated blocks").
//!
//! The `chain` target (`differential/oracle/src/target.rs`) runs `state_transition(state, block,
//! validate_result)` for each block in order, `validate_result = flags & 1`, stopping at the first
//! rejection. Generating block `i + 1` needs the state after block `i`: the generator cannot
//! compute it (that is the logic under test), so the caller hands over a [`StateTransition`], an
//! implementation's `state_transition` run by the harness (this crate never depends on one). The
//! executor only steers generation: its verdicts are never compared, and a wrong post-state makes
//! the next block less likely to be valid, nothing worse.
//!
//! Knowing each post-state also fills what [`crate::block`] cannot: `block.state_root =
//! hash_tree_root(post-state)`, so generated chains carry `validate_result = 1` half of the time and
//! still pass, and under `--bls real` the block signature covers the right root.
//!
//! Mutations of a chain that decodes: perturb one block's field ([`crate::block::perturb_block`]
//! on the state before it) with the blocks after it regenerated or kept, regenerate a tail, extend,
//! drop, duplicate or swap blocks, flip the flag, move to another pool state, or byte havoc one call
//! in 20. Everything is deterministic for a given RNG state and never panics.

use crate::block::{gen_block, perturb_block, BlockInput};
use crate::generate::{frame, split, Config, RESIGN, SIGNATURE_MOVE};
use crate::havoc::havoc;
use crate::view::PoolView;
use diverge_types::ssz::{Decode, Encode};
use diverge_types::*;
use rand::Rng;

/// `state_transition(state, signed_block, validate_result=False)` under `assume-valid` BLS
/// (consensus-specs v1.1.10 `specs/phase0/beacon-chain.md`, "Beacon chain state transition
/// function"), as the generator's oracle of the next pre-state.
pub trait StateTransition<E: EthSpec>: Send + Sync {
    /// The post-state, or `None` when the block is rejected.
    fn state_transition(&self, state: &BeaconState<E>, block: &SignedBeaconBlock<E>) -> Option<BeaconState<E>>;
}

/// A `chain` input's body: `[flags: u8][SSZ List[SignedBeaconBlock, MAX_CHAIN_BLOCKS]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainInput<E: EthSpec> {
    /// Bit 0: `validate_result` for every block (signature and state root checked).
    pub flags: u8,
    /// 1..=[`MAX_CHAIN_BLOCKS`] blocks, applied in order.
    pub blocks: Vec<SignedBeaconBlock<E>>,
}

impl<E: EthSpec> ChainInput<E> {
    /// Decodes a chain body (`None`: too short, not SSZ, no block or more than
    /// [`MAX_CHAIN_BLOCKS`], as the target's decoder).
    pub fn decode(body: &[u8]) -> Option<Self> {
        let (flags, rest) = body.split_first()?;
        let blocks = Vec::<SignedBeaconBlock<E>>::from_ssz_bytes(rest).ok()?;
        (!blocks.is_empty() && blocks.len() <= MAX_CHAIN_BLOCKS).then_some(ChainInput { flags: *flags, blocks })
    }

    /// The body bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.flags];
        out.extend(self.blocks.as_ssz_bytes());
        out
    }
}

/// The pool as the chain generator needs it: every state (to run blocks on) with its view
/// (`states[i]` and `views[i]` are pool state `i`, the selector picks `selector % len`), and the
/// executor.
pub struct ChainPool<'a, E: EthSpec> {
    /// The pool states, in manifest order.
    pub states: &'a [BeaconState<E>],
    /// Their views.
    pub views: &'a [PoolView<E>],
    /// The next-state oracle.
    pub executor: &'a dyn StateTransition<E>,
}

/// How many blocks a generated chain has: two in a third of the chains, three or four in another
/// third, up to [`MAX_CHAIN_BLOCKS`] in the rest.
fn length<R: Rng>(rng: &mut R) -> usize {
    match rng.gen_range(0..3u8) {
        0 => 2,
        1 => rng.gen_range(3..=4),
        _ => rng.gen_range(5..=MAX_CHAIN_BLOCKS),
    }
}

/// Extends `blocks` (valid so far, leaving the state `start` and its view) by generated blocks
/// until it has `to`, or a block cannot be generated or is rejected (that block is kept, as the
/// chain's last). With [`Config::sign`] every signature of a block is made before it runs, and
/// the block signature again once its state root is filled (`fill_roots`): the signing root
/// covers it.
fn extend<E: EthSpec, R: Rng>(
    config: &Config,
    executor: &dyn StateTransition<E>,
    blocks: &mut Vec<SignedBeaconBlock<E>>,
    start: (&BeaconState<E>, &PoolView<E>),
    to: usize,
    fill_roots: bool,
    rng: &mut R,
) {
    let mut owned: Option<(BeaconState<E>, PoolView<E>)> = None;
    while blocks.len() < to.min(MAX_CHAIN_BLOCKS) {
        let (state, view) = owned.as_ref().map_or(start, |(s, v)| (s, v));
        let Some(BlockInput { mut block, .. }) = gen_block(view, rng) else { return };
        // The operations and the RANDAO reveal are signed before the block runs (the reveal is
        // mixed into the state), the block itself after its state root is known.
        if config.sign {
            let _ = crate::sign::sign_block(view, &mut block);
        }
        let post = executor.state_transition(state, &block);
        // The post-state root, hashed once: the block's state root (with `fill_roots`) and the
        // next view's parent root both need it.
        let post_root = post.as_ref().map(TreeHash::tree_hash_root);
        if let (true, Some(root)) = (fill_roots, post_root) {
            block.message.state_root = root;
            if let (true, Some(signature)) = (config.sign, crate::sign::block_signature(view, &block.message)) {
                block.signature = signature;
            }
        }
        blocks.push(block);
        let (Some(post), Some(root)) = (post, post_root) else { return };
        let view = PoolView::with_state_root(&post, || root);
        owned = Some((post, view));
    }
}

/// Runs `blocks` on `state`: the state they leave, or `None` when one of them is rejected.
fn replay<E: EthSpec>(executor: &dyn StateTransition<E>, state: &BeaconState<E>, blocks: &[SignedBeaconBlock<E>]) -> Option<BeaconState<E>> {
    let mut s = state.clone();
    for b in blocks {
        s = executor.state_transition(&s, b)?;
    }
    Some(s)
}

/// A generated chain on pool state `at`: valid by construction up to signatures under
/// `assume-valid` (signed with [`Config::sign`]), state roots filled when `flags` is 1; `None` when
/// no block can be generated on that state.
pub fn gen_chain<E: EthSpec, R: Rng>(config: &Config, pool: &ChainPool<'_, E>, at: usize, rng: &mut R) -> Option<ChainInput<E>> {
    let start = (pool.states.get(at)?, pool.views.get(at)?);
    let flags = u8::from(rng.gen_bool(0.5));
    let mut blocks = Vec::new();
    extend(config, pool.executor, &mut blocks, start, length(rng), flags == 1, rng);
    (!blocks.is_empty()).then_some(ChainInput { flags, blocks })
}

/// The structured mutation of a `chain` input (module docs), keeping it at most `max_len` bytes.
/// With no pool state, or an input that does not decode, it applies byte havoc.
pub fn mutate_chain<E: EthSpec, R: Rng>(config: &Config, pool: &ChainPool<'_, E>, data: &mut Vec<u8>, rng: &mut R, max_len: usize) {
    let n = pool.states.len().min(pool.views.len());
    if n == 0 {
        return havoc(data, rng, max_len);
    }
    // Generation: as for `block`, where a field move rarely keeps an input valid.
    if rng.gen_bool(config.generate_for(crate::Kind::Block)) {
        for _ in 0..4 {
            let at = rng.gen_range(0..n);
            if let (Some(mut chain), Ok(selector)) = (gen_chain(config, pool, at, rng), u16::try_from(at)) {
                if !rng.gen_bool(config.valid.clamp(0.0, 1.0)) {
                    perturb_last(config, pool, at, &mut chain, rng);
                }
                *data = frame(selector, &chain.encode());
                data.truncate(max_len);
                return;
            }
        }
    }
    let Some((mut selector, body)) = split(data) else { return havoc(data, rng, max_len) };
    let Some(mut chain) = ChainInput::<E>::decode(body) else { return havoc(data, rng, max_len) };
    let at = usize::from(selector).checked_rem(n).unwrap_or(0);
    match rng.gen_range(0..20u8) {
        0 => return havoc(data, rng, max_len),
        1 => selector = u16::try_from(rng.gen_range(0..n)).unwrap_or(0),
        2 => chain.flags ^= 1,
        // Drop the last block, or one in the middle (the next one's parent no longer matches).
        3 | 4 => {
            if chain.blocks.len() > 1 {
                let i = if rng.gen() { chain.blocks.len().saturating_sub(1) } else { rng.gen_range(0..chain.blocks.len()) };
                chain.blocks.remove(i);
            }
        }
        // A block applied twice, or two blocks swapped.
        5 => {
            let i = rng.gen_range(0..chain.blocks.len());
            if chain.blocks.len() < MAX_CHAIN_BLOCKS {
                if let Some(b) = chain.blocks.get(i).cloned() {
                    chain.blocks.insert(i, b);
                }
            }
        }
        6 => {
            let i = rng.gen_range(0..chain.blocks.len());
            let j = rng.gen_range(0..chain.blocks.len());
            chain.blocks.swap(i, j);
        }
        // Keep a prefix, regenerate or extend the rest.
        7..=11 => {
            let k = rng.gen_range(1..=chain.blocks.len());
            chain.blocks.truncate(k);
            let to = rng.gen_range(k..=MAX_CHAIN_BLOCKS).max(k.saturating_add(1));
            if let Some(pre) = pool.states.get(at).and_then(|state| replay(pool.executor, state, &chain.blocks)) {
                let view = PoolView::new(&pre);
                extend(config, pool.executor, &mut chain.blocks, (&pre, &view), to, chain.flags & 1 == 1, rng);
            }
        }
        // One field of one block, on the state before it.
        _ => {
            let i = rng.gen_range(0..chain.blocks.len());
            perturb_at(config, pool, at, &mut chain, i, rng);
        }
    }
    *data = frame(selector, &chain.encode());
    data.truncate(max_len);
}

/// [`perturb_at`] on the last block.
fn perturb_last<E: EthSpec, R: Rng>(config: &Config, pool: &ChainPool<'_, E>, at: usize, chain: &mut ChainInput<E>, rng: &mut R) {
    let last = chain.blocks.len().saturating_sub(1);
    perturb_at(config, pool, at, chain, last, rng);
}

/// One field of block `i` moved ([`perturb_block`]) on the state the blocks before it leave (the
/// pool state's own view when they are rejected), then re-signed with probability [`RESIGN`]
/// under [`Config::sign`], or its signatures moved instead (probability [`SIGNATURE_MOVE`]).
fn perturb_at<E: EthSpec, R: Rng>(config: &Config, pool: &ChainPool<'_, E>, at: usize, chain: &mut ChainInput<E>, i: usize, rng: &mut R) {
    let (Some(state), Some(pool_view)) = (pool.states.get(at), pool.views.get(at)) else { return };
    let prefix = chain.blocks.get(..i).unwrap_or_default();
    let pre = if prefix.is_empty() { None } else { replay(pool.executor, state, prefix).map(|s| PoolView::new(&s)) };
    let view = pre.as_ref().unwrap_or(pool_view);
    let Some(block) = chain.blocks.get_mut(i) else { return };
    let mut input = BlockInput { flags: chain.flags, block: block.clone() };
    if config.sign && rng.gen_bool(SIGNATURE_MOVE) {
        let mut op = crate::generate::Op::Block(input);
        crate::sign::mutate_signature(view, &mut op, rng);
        if let crate::generate::Op::Block(b) = op {
            *block = b.block;
        }
        return;
    }
    perturb_block(&mut input, view, rng);
    if config.sign && rng.gen_bool(RESIGN) {
        let _ = crate::sign::sign_block(view, &mut input.block);
    }
    *block = input.block;
    chain.flags = input.flags;
}
