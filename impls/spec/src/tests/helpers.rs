use super::{read_ssz, vectors_dir};
use crate::helpers::math::integer_squareroot;
use crate::helpers::misc::{compute_domain, compute_shuffled_index};
use crate::helpers::predicates::is_valid_merkle_branch;
use diverge_types::constants::{DOMAIN_BEACON_PROPOSER, DOMAIN_DEPOSIT};
use diverge_types::*;

#[derive(serde::Deserialize)]
struct Mapping {
    seed: String,
    count: u64,
    mapping: Vec<u64>,
}

fn check_shuffling<E: EthSpec>() -> usize {
    let dir = vectors_dir();
    let dir = dir.join(E::PRESET_BASE).join("phase0/shuffling/core/shuffle");
    let mut cases = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path().join("mapping.yaml");
        let m: Mapping = serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let seed: Root = m.seed.parse().unwrap();
        assert_eq!(m.mapping.len() as u64, m.count, "{}", path.display());
        // mapping[i] = compute_shuffled_index(i, count, seed)
        for (i, expected) in m.mapping.iter().enumerate() {
            assert_eq!(compute_shuffled_index::<E>(i as u64, m.count, &seed), Ok(*expected), "{} i={i}", path.display());
        }
        assert_eq!(compute_shuffled_index::<E>(m.count, m.count, &seed), Err(Reject::ShuffleIndexOutOfRange));
        cases += 1;
    }
    cases
}

#[test]
fn compute_shuffled_index_matches_minimal_vectors() {
    let n = check_shuffling::<MinimalSpec>();
    assert_eq!(n, 300, "cases");
}

#[test]
fn compute_shuffled_index_matches_mainnet_vectors() {
    let n = check_shuffling::<MainnetSpec>();
    assert_eq!(n, 300, "cases");
}

#[test]
fn compute_shuffled_index_refuses_out_of_range_and_huge_counts() {
    let seed = Root::repeat_byte(7);
    assert_eq!(compute_shuffled_index::<MinimalSpec>(0, 0, &seed), Err(Reject::ShuffleIndexOutOfRange));
    assert_eq!(compute_shuffled_index::<MinimalSpec>(5, 5, &seed), Err(Reject::ShuffleIndexOutOfRange));
    // `pivot + index_count` overflows uint64 for counts near 2**64: Python raises.
    assert_eq!(compute_shuffled_index::<MinimalSpec>(0, u64::MAX, &seed), Err(Reject::ArithmeticOverflow));
    assert_eq!(compute_shuffled_index::<MinimalSpec>(0, 1, &seed), Ok(0));
}

#[test]
fn compute_domain_matches_hand_computed_values() {
    // ForkData(current_version=0x00000001, genesis_validators_root=0x00..): two chunks,
    // sha256(01-version chunk ‖ zero chunk) = 18ae4ccb...; the domain is the type ‖ its first 28 bytes.
    let domain = compute_domain::<MinimalSpec>(DOMAIN_BEACON_PROPOSER, Some([0, 0, 0, 1]), Some(Root::ZERO));
    assert_eq!(
        domain,
        "0x0000000018ae4ccbda9538839d79bb18ca09e23e24ae8c1550f56cbb3d84b053".parse::<Root>().unwrap()
    );
    // The same from the definition, spelled out.
    let mut chunks = [0u8; 64];
    chunks[3] = 1;
    let root = hash(&chunks);
    assert_eq!(&domain[..4], &[0, 0, 0, 0]);
    assert_eq!(&domain[4..], &root[..28]);
    // Defaults: minimal GENESIS_FORK_VERSION is 0x00000001, so the default deposit domain equals the
    // explicit one; mainnet's default is the well-known mainnet deposit domain.
    assert_eq!(
        compute_domain::<MinimalSpec>(DOMAIN_DEPOSIT, None, None),
        compute_domain::<MinimalSpec>(DOMAIN_DEPOSIT, Some([0, 0, 0, 1]), Some(Root::ZERO))
    );
    assert_eq!(
        compute_domain::<MainnetSpec>(DOMAIN_DEPOSIT, None, None),
        "0x03000000f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a9".parse::<Root>().unwrap()
    );
}

#[test]
fn integer_squareroot_values() {
    assert_eq!(integer_squareroot(0), Ok(0));
    assert_eq!(integer_squareroot(1), Ok(1));
    assert_eq!(integer_squareroot(3), Ok(1));
    assert_eq!(integer_squareroot(4), Ok(2));
    assert_eq!(integer_squareroot(15), Ok(3));
    assert_eq!(integer_squareroot(16), Ok(4));
    assert_eq!(integer_squareroot(2_048_000_000_000), Ok(1_431_083));
    assert_eq!(integer_squareroot(1_000_000_000_000_000_000), Ok(1_000_000_000));
    assert_eq!(integer_squareroot(u64::MAX - 1), Ok(4_294_967_295));
    // v1.1.10: `x + 1` overflows for n = 2**64 - 1 and Python raises.
    assert_eq!(integer_squareroot(u64::MAX), Err(Reject::ArithmeticOverflow));
}

#[test]
fn is_valid_merkle_branch_on_vector_deposits() {
    let dir = vectors_dir();
    let case = dir.join("minimal/phase0/operations/deposit/pyspec_tests/new_deposit_under_max");
    let pre: BeaconState<MinimalSpec> = read_ssz(&case.join("pre.ssz_snappy"));
    let deposit: Deposit = read_ssz(&case.join("deposit.ssz_snappy"));
    let leaf = hash_tree_root(&deposit.data);
    let ok = |branch: &[Root], index: u64| {
        is_valid_merkle_branch(&leaf, branch, 33, index, &pre.eth1_data.deposit_root).unwrap()
    };
    assert!(ok(&deposit.proof, pre.eth1_deposit_index));
    // Another index, a damaged sibling, or a damaged length mix-in all fail.
    assert!(!ok(&deposit.proof, pre.eth1_deposit_index + 1));
    let mut damaged = deposit.proof.to_vec();
    damaged[0] = Root::repeat_byte(0xaa);
    assert!(!ok(&damaged, pre.eth1_deposit_index));
    let mut damaged = deposit.proof.to_vec();
    damaged[32] = Root::ZERO;
    assert!(!ok(&damaged, pre.eth1_deposit_index));
    // A branch shorter than the depth raises IndexError in Python.
    assert_eq!(
        is_valid_merkle_branch(&leaf, &deposit.proof[..32], 33, 0, &pre.eth1_data.deposit_root),
        Err(Reject::IndexOutOfRange)
    );

    let case = dir.join("minimal/phase0/operations/deposit/pyspec_tests/bad_merkle_proof");
    let pre: BeaconState<MinimalSpec> = read_ssz(&case.join("pre.ssz_snappy"));
    let deposit: Deposit = read_ssz(&case.join("deposit.ssz_snappy"));
    assert!(!is_valid_merkle_branch(
        &hash_tree_root(&deposit.data),
        &deposit.proof,
        33,
        pre.eth1_deposit_index,
        &pre.eth1_data.deposit_root
    )
    .unwrap());
}
