//! `deposit`: deposits with valid Merkle proofs against a deposit tree the generator knows.
//!
//! `process_deposit` (consensus-specs v1.1.10 `specs/phase0/beacon-chain.md`, "Deposits") checks
//! `is_valid_merkle_branch(hash_tree_root(deposit.data), deposit.proof,
//! DEPOSIT_CONTRACT_TREE_DEPTH + 1, state.eth1_deposit_index, state.eth1_data.deposit_root)`. The
//! spec-vector states commit to trees nobody kept (genesis states carry `0x42…42`), so the pool
//! holds crafted states (`crafted:deposit-tree-*` in the manifest, built by
//! `differential/src/pool.rs`) whose `eth1_data` commits to a [`DepositTree`]: a pure function of
//! the state's registry and `deposit_count`, marked by `eth1_data.block_hash ==`
//! [`tree_marker`]. The generator recomputes the tree from the view and checks the root, so no
//! extra file is needed.
//!
//! Leaf `j` of the tree is [`leaf`]`(registry, j)`: the first [`LEAF_KINDS_PREFIX`] leaves cycle
//! through [`LEAF_KINDS`] (new validators with amounts at the boundaries, top-ups, invalid
//! signatures, eth1 withdrawal credentials, a repeated pubkey, a `u64::MAX` top-up), the later
//! ones through [`WIDE_LEAF_KINDS`] (issue 21: trees longer than `MAX_DEPOSITS`, whose blocks
//! carry 16 deposits, so no `u64::MAX` top-up that would make every such block invalid; new
//! validators far above `MAX_EFFECTIVE_BALANCE`, at `EJECTION_BALANCE`, below one increment). New validators use the spec tests' deterministic keys
//! (secret key `i + 1` for key index `i`, as `eth2spec/test/helpers/keys.py`) at key index
//! `len(registry) + j`, and carry real signatures, so `--bls real` decides each deposit as the
//! chain would (the `InvalidSignature` leaves are signed by another key: skipped under real BLS,
//! added under `assume-valid`).
//!
//! Keys and signatures come from [`crate::keys`] and [`crate::sign`] (one derivation of the
//! spec-test keys and of the deposit domain for the whole crate).

use crate::view::PoolView;
use crate::{keys, sign};
use diverge_types::constants::{DEPOSIT_CONTRACT_TREE_DEPTH, DOMAIN_DEPOSIT, ETH1_ADDRESS_WITHDRAWAL_PREFIX};
use diverge_types::ssz_types::FixedVector;
use diverge_types::*;
use rand::Rng;

/// `eth1_data.block_hash` of a crafted state whose `deposit_root` commits to a [`DepositTree`]:
/// `sha256("diverge:crafted-deposit-tree:v1")`.
pub fn tree_marker() -> Root {
    Root::from(hash(b"diverge:crafted-deposit-tree:v1"))
}

/// The compressed public key of spec-test key index `index` (secret key `index + 1`), or `None`
/// past the scalar range ([`keys::public_key`]).
pub fn spec_pubkey(index: u64) -> Option<BlsPubkey> {
    keys::public_key(index)
}

/// The signature of `message` (a signing root) by spec-test key index `index`.
pub fn spec_sign(index: u64, message: &Root) -> Option<BlsSignature> {
    keys::secret_key(index).map(|sk| sk.sign(message))
}

/// `compute_signing_root(DepositMessage(...), compute_domain(DOMAIN_DEPOSIT))`: genesis fork
/// version of the preset, zero genesis validators root.
pub fn deposit_signing_root<E: EthSpec>(data: &DepositData) -> Root {
    let message = DepositMessage { pubkey: data.pubkey, withdrawal_credentials: data.withdrawal_credentials, amount: data.amount };
    sign::compute_signing_root(&message, sign::compute_domain(DOMAIN_DEPOSIT, E::GENESIS_FORK_VERSION, Root::ZERO))
}

/// What leaf `j` of a [`DepositTree`] deposits ([`leaf_kind`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafKind {
    /// A new validator, `MAX_EFFECTIVE_BALANCE`, BLS withdrawal credentials, real signature.
    NewMax,
    /// A top-up of an existing validator by `EFFECTIVE_BALANCE_INCREMENT` (signature not checked).
    TopUp,
    /// A new validator one Gwei under `MAX_EFFECTIVE_BALANCE`.
    NewUnderMax,
    /// A new validator one Gwei over `MAX_EFFECTIVE_BALANCE`, eth1-address withdrawal credentials.
    NewOverMaxEth1Credentials,
    /// A new validator whose signature is another key's: skipped under real BLS.
    InvalidSignature,
    /// A top-up of 0 Gwei with other withdrawal credentials than the validator's.
    TopUpZeroOtherCredentials,
    /// A new validator with the previous leaf's pubkey: a top-up of the validator that leaf
    /// added when both are in one block, a new validator otherwise.
    RepeatPubkey,
    /// A top-up of `u64::MAX` Gwei: `increase_balance` overflows uint64.
    TopUpOverflow,
    /// A new validator with 64 * `MAX_EFFECTIVE_BALANCE` (its effective balance is capped, its
    /// balance is not).
    NewFarOverMax,
    /// A new validator with `EJECTION_BALANCE`.
    NewAtEjection,
    /// A new validator with one Gwei under `EFFECTIVE_BALANCE_INCREMENT` (effective balance 0;
    /// phase0 has no minimum deposit check in `process_deposit`).
    NewBelowIncrement,
}

/// The leaf kinds in tree order below [`LEAF_KINDS_PREFIX`]: leaf `j < 16` is `LEAF_KINDS[j % 8]`.
pub const LEAF_KINDS: [LeafKind; 8] = [
    LeafKind::NewMax,
    LeafKind::TopUp,
    LeafKind::NewUnderMax,
    LeafKind::NewOverMaxEth1Credentials,
    LeafKind::InvalidSignature,
    LeafKind::TopUpZeroOtherCredentials,
    LeafKind::RepeatPubkey,
    LeafKind::TopUpOverflow,
];

/// Leaves below this index cycle through [`LEAF_KINDS`] (the 16-leaf trees of the first crafted
/// states, whose roots are fixed in the shipped manifest); from it on, through [`WIDE_LEAF_KINDS`].
pub const LEAF_KINDS_PREFIX: u64 = 16;

/// The kinds of leaves `LEAF_KINDS_PREFIX..`: leaf `j` is `WIDE_LEAF_KINDS[(j - 16) % 16]`. Every
/// kind but [`LeafKind::TopUpOverflow`], new validators above the maximum twice per cycle.
pub const WIDE_LEAF_KINDS: [LeafKind; 16] = [
    LeafKind::NewMax,
    LeafKind::NewFarOverMax,
    LeafKind::TopUp,
    LeafKind::NewUnderMax,
    LeafKind::NewOverMaxEth1Credentials,
    LeafKind::NewAtEjection,
    LeafKind::TopUpZeroOtherCredentials,
    LeafKind::NewMax,
    LeafKind::InvalidSignature,
    LeafKind::RepeatPubkey,
    LeafKind::NewBelowIncrement,
    LeafKind::NewFarOverMax,
    LeafKind::TopUp,
    LeafKind::NewMax,
    LeafKind::NewOverMaxEth1Credentials,
    LeafKind::NewUnderMax,
];

/// The kind of leaf `j`.
pub fn leaf_kind(j: u64) -> LeafKind {
    let (kinds, at): (&[LeafKind], u64) = match j.checked_sub(LEAF_KINDS_PREFIX) {
        None => (&LEAF_KINDS, j),
        Some(k) => (&WIDE_LEAF_KINDS, k),
    };
    let i = usize::try_from(at.checked_rem(kinds.len() as u64).unwrap_or(0)).unwrap_or(0);
    kinds.get(i).copied().unwrap_or(LeafKind::NewMax)
}

fn bls_credentials(pubkey: &BlsPubkey) -> Root {
    let mut c = hash(pubkey.as_slice());
    c[0] = 0;
    Root::from(c)
}

/// Leaf `j` of the deposit tree of a state whose registry is `validators` (only the registry
/// length and the top-up targets' pubkeys and credentials are read). `None` for an empty
/// registry where a top-up needs a validator, or past the key range.
pub fn leaf<E: EthSpec>(validators: &[Validator], j: u64) -> Option<DepositData> {
    let n = validators.len() as u64;
    let new_key = n.checked_add(j)?;
    let top_up = |j: u64| -> Option<&Validator> { validators.get(usize::try_from(j.checked_mul(5)?.checked_add(1)?.checked_rem(n)?).ok()?) };
    let new = |key: u64, amount: u64| -> Option<DepositData> {
        let pubkey = spec_pubkey(key)?;
        let mut d = DepositData { pubkey, withdrawal_credentials: bls_credentials(&pubkey), amount, signature: BlsSignature::ZERO };
        d.signature = spec_sign(key, &deposit_signing_root::<E>(&d))?;
        Some(d)
    };
    let max = E::MAX_EFFECTIVE_BALANCE;
    match leaf_kind(j) {
        LeafKind::NewMax => new(new_key, max),
        LeafKind::NewFarOverMax => new(new_key, max.checked_mul(64)?),
        LeafKind::NewAtEjection => new(new_key, E::EJECTION_BALANCE),
        LeafKind::NewBelowIncrement => new(new_key, E::EFFECTIVE_BALANCE_INCREMENT.checked_sub(1)?),
        LeafKind::NewUnderMax => new(new_key, max.checked_sub(1)?),
        LeafKind::NewOverMaxEth1Credentials => {
            let pubkey = spec_pubkey(new_key)?;
            let mut creds = [0u8; 32];
            creds[0] = ETH1_ADDRESS_WITHDRAWAL_PREFIX;
            if let Some(addr) = creds.get_mut(12..) {
                addr.copy_from_slice(&[0xee; 20]);
            }
            let mut d = DepositData { pubkey, withdrawal_credentials: Root::from(creds), amount: max.checked_add(1)?, signature: BlsSignature::ZERO };
            d.signature = spec_sign(new_key, &deposit_signing_root::<E>(&d))?;
            Some(d)
        }
        LeafKind::InvalidSignature => {
            let mut d = new(new_key, max)?;
            // Signed by the next key: a valid point, the wrong signer.
            d.signature = spec_sign(new_key.checked_add(1)?, &deposit_signing_root::<E>(&d))?;
            Some(d)
        }
        LeafKind::RepeatPubkey => new(new_key.checked_sub(1)?, E::EFFECTIVE_BALANCE_INCREMENT),
        LeafKind::TopUp => {
            let v = top_up(j)?;
            Some(DepositData { pubkey: v.pubkey, withdrawal_credentials: v.withdrawal_credentials, amount: E::EFFECTIVE_BALANCE_INCREMENT, signature: BlsSignature::ZERO })
        }
        LeafKind::TopUpZeroOtherCredentials => {
            let v = top_up(j)?;
            Some(DepositData { pubkey: v.pubkey, withdrawal_credentials: Root::from(hash(v.withdrawal_credentials.as_slice())), amount: 0, signature: BlsSignature::ZERO })
        }
        LeafKind::TopUpOverflow => {
            let v = top_up(j)?;
            Some(DepositData { pubkey: v.pubkey, withdrawal_credentials: v.withdrawal_credentials, amount: u64::MAX, signature: BlsSignature::ZERO })
        }
    }
}

/// A deposit tree of `count` leaves ([`leaf`]) and its Merkle layers: `hash_tree_root` of
/// `List[DepositData, 2**DEPOSIT_CONTRACT_TREE_DEPTH]` (the deposit contract's root, length
/// mixed in), and proofs for `is_valid_merkle_branch` at depth `DEPOSIT_CONTRACT_TREE_DEPTH + 1`.
#[derive(Clone, Debug)]
pub struct DepositTree {
    /// The leaves' data, in index order.
    pub leaves: Vec<DepositData>,
    /// `layers[h]`: the nodes at height `h` (`layers[0]` the leaf roots), without zero padding.
    layers: Vec<Vec<Root>>,
    /// `zero[h]`: the root of an empty subtree of height `h`.
    zero: Vec<Root>,
    /// The root with the length mixed in (`eth1_data.deposit_root`).
    pub root: Root,
}

fn hash2(a: &Root, b: &Root) -> Root {
    let mut pre = [0u8; 64];
    pre[..32].copy_from_slice(a.as_slice());
    pre[32..].copy_from_slice(b.as_slice());
    Root::from(hash(&pre))
}

fn length_node(count: u64) -> Root {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&count.to_le_bytes());
    Root::from(b)
}

impl DepositTree {
    /// The tree of `leaves`.
    pub fn from_leaves(leaves: Vec<DepositData>) -> Self {
        let depth = usize::try_from(DEPOSIT_CONTRACT_TREE_DEPTH).unwrap_or(32);
        let mut zero = vec![Root::ZERO];
        for h in 0..depth {
            let z = zero.get(h).copied().unwrap_or_default();
            zero.push(hash2(&z, &z));
        }
        let mut layers: Vec<Vec<Root>> = vec![leaves.iter().map(TreeHash::tree_hash_root).collect()];
        for h in 0..depth {
            let below = layers.get(h).cloned().unwrap_or_default();
            let z = zero.get(h).copied().unwrap_or_default();
            let up = below.chunks(2).map(|p| hash2(p.first().unwrap_or(&z), p.get(1).unwrap_or(&z))).collect();
            layers.push(up);
        }
        let top = layers.get(depth).and_then(|l| l.first().copied()).unwrap_or_else(|| zero.get(depth).copied().unwrap_or_default());
        let root = hash2(&top, &length_node(leaves.len() as u64));
        DepositTree { leaves, layers, zero, root }
    }

    /// The tree of the first `count` [`leaf`]s of `validators`' state (`None` when a leaf cannot
    /// be built).
    pub fn for_registry<E: EthSpec>(validators: &[Validator], count: u64) -> Option<Self> {
        let leaves: Option<Vec<DepositData>> = (0..count).map(|j| leaf::<E>(validators, j)).collect();
        Some(Self::from_leaves(leaves?))
    }

    /// The proof of leaf `index`: 32 siblings, then the length node.
    pub fn proof(&self, index: u64) -> FixedVector<Root, typenum_u33::U33> {
        let mut out = Vec::with_capacity(33);
        let mut i = usize::try_from(index).unwrap_or(usize::MAX);
        for (h, layer) in self.layers.iter().take(self.zero.len().saturating_sub(1)).enumerate() {
            out.push(layer.get(i ^ 1).copied().unwrap_or_else(|| self.zero.get(h).copied().unwrap_or_default()));
            i >>= 1;
        }
        out.push(length_node(self.leaves.len() as u64));
        FixedVector::new(out).unwrap_or_default()
    }

    /// The deposit of leaf `index` with its proof.
    pub fn deposit(&self, index: u64) -> Option<Deposit> {
        let data = self.leaves.get(usize::try_from(index).ok()?)?.clone();
        Some(Deposit { proof: self.proof(index), data })
    }
}

/// Re-export of the proof length type (`DEPOSIT_CONTRACT_TREE_DEPTH + 1`).
pub mod typenum_u33 {
    pub use diverge_types::ssz_types::typenum::U33;
}

/// `is_valid_merkle_branch(leaf, branch, depth, index, root)` (for tests and the generator's own
/// check).
pub fn is_valid_merkle_branch(leaf: &Root, branch: &[Root], depth: u64, index: u64, root: &Root) -> bool {
    let mut value = *leaf;
    for i in 0..depth {
        let Some(node) = branch.get(usize::try_from(i).unwrap_or(usize::MAX)) else { return false };
        value = if index.checked_shr(u32::try_from(i).unwrap_or(u32::MAX)).unwrap_or(0) & 1 == 1 { hash2(node, &value) } else { hash2(&value, node) };
    }
    value == *root
}

/// `process_deposit`: the deposit at `state.eth1_deposit_index` of the view's known tree.
pub fn gen_deposit<E: EthSpec, R: Rng>(view: &PoolView<E>, _rng: &mut R) -> Option<Deposit> {
    let tree = view.deposit_tree()?;
    tree.deposit(view.eth1_deposit_index)
}

/// One field moved: a proof node, the index (the neighbour leaf with its own proof), the amount
/// at its boundaries, the pubkey (an existing validator's vs a fresh one), the withdrawal
/// credentials, the signature, or the length node.
pub fn perturb_deposit<E: EthSpec, R: Rng>(d: &mut Deposit, view: &PoolView<E>, rng: &mut R) {
    let mut proof: Vec<Root> = d.proof.iter().copied().collect();
    match rng.gen_range(0..9u8) {
        // One wrong proof node.
        0 => {
            let i = rng.gen_range(0..proof.len().max(1));
            if let Some(node) = proof.get_mut(i) {
                let mut b = node.0;
                let at = rng.gen_range(0..32);
                if let Some(x) = b.get_mut(at) {
                    *x ^= 1u8 << rng.gen_range(0..8);
                }
                *node = Root::from(b);
            }
        }
        // The leaf at index ± 1 with its own (valid) proof: wrong index.
        1 => {
            if let Some(tree) = view.deposit_tree() {
                let i = if rng.gen() { view.eth1_deposit_index.wrapping_add(1) } else { view.eth1_deposit_index.wrapping_sub(1) };
                if let Some(other) = tree.deposit(i) {
                    *d = other;
                    return;
                }
            }
            d.data.amount = d.data.amount.wrapping_add(1);
        }
        2 => {
            let max = E::MAX_EFFECTIVE_BALANCE;
            let v = [0, 1, max.saturating_sub(1), max, max.saturating_add(1), u64::MAX, E::EFFECTIVE_BALANCE_INCREMENT.saturating_sub(1)];
            d.data.amount = v.get(rng.gen_range(0..v.len())).copied().unwrap_or(0);
        }
        // An existing validator's pubkey (a top-up) or a fresh one.
        3 => {
            let n = view.validator_count();
            if n > 0 && rng.gen() {
                if let Some(v) = view.validators.get(rng.gen_range(0..usize::try_from(n).unwrap_or(0).max(1))) {
                    d.data.pubkey = v.pubkey;
                }
            } else if let Some(pk) = spec_pubkey(n.saturating_add(rng.gen_range(100..200))) {
                d.data.pubkey = pk;
            }
        }
        4 => {
            let mut c = rng.gen::<[u8; 32]>();
            c[0] = if rng.gen() { 0 } else { ETH1_ADDRESS_WITHDRAWAL_PREFIX };
            d.data.withdrawal_credentials = Root::from(c);
        }
        5 => {
            let mut s = [0u8; 96];
            rng.fill(&mut s[..]);
            d.data.signature = BlsSignature::from(s);
        }
        // The length node one off.
        6 => {
            if let Some(last) = proof.last_mut() {
                let mut b = [0u8; 8];
                b.copy_from_slice(last.as_slice().get(..8).unwrap_or(&[0; 8]));
                let n = u64::from_le_bytes(b);
                *last = length_node(if rng.gen() { n.wrapping_add(1) } else { n.wrapping_sub(1) });
            }
        }
        // The siblings in reverse order (every level wrong).
        7 => proof.reverse(),
        _ => {
            if let Some(last) = proof.last_mut() {
                *last = Root::ZERO;
            }
        }
    }
    if let Ok(p) = FixedVector::new(proof) {
        d.proof = p;
    }
}
