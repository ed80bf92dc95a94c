#!/usr/bin/env python3
"""Judge the crafted cases written by `dump_crafted_minimal_cases` with the executable spec.

    DIVERGE_DUMP_CRAFTED=/tmp/crafted cargo test -p diverge-spec dump_crafted -- --ignored
    python judge_crafted.py /tmp/crafted        # in a venv with eth2spec==1.1.10 (Python 3.9)

`--mainnet` judges cases written by `dump_crafted_mainnet_cases`.
`--pyspec-aliasing` keeps the executable spec's `process_registry_updates` as it is, with its
remerkleable aliasing artefact (see `process_registry_updates_without_aliasing`).

For each (state, operation) it runs the same spec function with BLS off (the crate's
`AssumeValid`) and compares: a post-state root (or the rewards deltas) for an accepted input, the
exception class for a rejected one (AssertionError for an assert, ValueError/ZeroDivisionError for
uint64 arithmetic, IndexError, and remerkleable's "maximum capacity" for a full list).
"""
import json
import sys
from pathlib import Path

if "--mainnet" in sys.argv:
    from eth2spec.phase0 import mainnet as spec
else:
    from eth2spec.phase0 import minimal as spec
from eth2spec.utils import bls

bls.bls_active = False


def process_registry_updates_without_aliasing(state):
    """`process_registry_updates` exactly as written, but reading each validator through a fresh
    `state.validators[index]` view. With remerkleable 0.1.24, the spec's
    `for index, validator in enumerate(state.validators)` writes the whole list captured at loop
    start back into the state when `validator.activation_eligibility_epoch` is set, undoing the
    exits `initiate_validator_exit` made earlier in the same loop (consensus-specs issue #3925,
    "Update by reference for two state objects affect each other"). The markdown spec and the
    clients keep both writes; so does diverge-spec."""
    for index in range(len(state.validators)):
        validator = state.validators[index]
        if spec.is_eligible_for_activation_queue(validator):
            validator.activation_eligibility_epoch = spec.get_current_epoch(state) + 1
        validator = state.validators[index]
        if (
            spec.is_active_validator(validator, spec.get_current_epoch(state))
            and validator.effective_balance <= spec.config.EJECTION_BALANCE
        ):
            spec.initiate_validator_exit(state, spec.ValidatorIndex(index))
    activation_queue = sorted([
        index for index, validator in enumerate(state.validators)
        if spec.is_eligible_for_activation(state, validator)
    ], key=lambda index: (state.validators[index].activation_eligibility_epoch, index))
    for index in activation_queue[:spec.get_validator_churn_limit(state)]:
        validator = state.validators[index]
        validator.activation_epoch = spec.compute_activation_exit_epoch(spec.get_current_epoch(state))


if "--pyspec-aliasing" not in sys.argv:
    # process_epoch looks the name up at call time, so this covers slots and blocks too.
    spec.process_registry_updates = process_registry_updates_without_aliasing
MAX_SLOTS_PER_TRANSITION = 1024

ARITH = {"ArithmeticOverflow"}
INDEX = {"ValidatorIndexOutOfRange", "IndexOutOfRange"}
LISTFULL = {"ListFull"}
OP_TYPES = {
    "block": spec.SignedBeaconBlock, "block_header": spec.BeaconBlock, "attestation": spec.Attestation,
    "attester_slashing": spec.AttesterSlashing, "proposer_slashing": spec.ProposerSlashing,
    "deposit": spec.Deposit, "voluntary_exit": spec.SignedVoluntaryExit,
}


INDEXED = {"IndexedAttestationEmpty", "IndexedAttestationNotSortedUnique", "InvalidIndexedAttestationSignature"}
# The failing `assert` line of the executable spec -> the Reject variants it stands for.
ASSERTS = [
    ("assert block.slot == state.slot", {"BlockSlotMismatch"}),
    ("assert block.slot > state.latest_block_header.slot", {"BlockNotNewerThanLatestHeader"}),
    ("assert block.proposer_index == get_beacon_proposer_index", {"ProposerIndexMismatch"}),
    ("assert block.parent_root ==", {"ParentRootMismatch"}),
    ("assert not proposer.slashed", {"ProposerSlashed"}),
    ("body.randao_reveal)", {"InvalidRandaoReveal"}),
    ("assert len(body.deposits) ==", {"DepositCountMismatch"}),
    ("assert header_1.slot == header_2.slot", {"ProposerSlashingSlotMismatch"}),
    ("assert header_1.proposer_index == header_2.proposer_index", {"ProposerSlashingProposerMismatch"}),
    ("assert header_1 != header_2", {"ProposerSlashingHeadersEqual"}),
    ("assert is_slashable_validator(proposer", {"ProposerNotSlashable"}),
    ("signed_header.signature)", {"InvalidProposerSlashingSignature"}),
    ("assert is_slashable_attestation_data", {"AttesterSlashingNotSlashable"}),
    ("assert is_valid_indexed_attestation", INDEXED),
    ("assert slashed_any", {"AttesterSlashingNoneSlashed"}),
    ("assert data.target.epoch in", {"AttestationTargetEpochOutOfRange"}),
    ("assert data.target.epoch == compute_epoch_at_slot", {"AttestationTargetEpochMismatch"}),
    ("assert data.slot + MIN_ATTESTATION_INCLUSION_DELAY", {"AttestationTooEarly", "AttestationTooLate"}),
    ("assert data.index < get_committee_count_per_slot", {"CommitteeIndexOutOfRange"}),
    ("assert len(attestation.aggregation_bits) == len(committee)", {"AggregationBitsLengthMismatch"}),
    ("assert data.source ==", {"AttestationSourceMismatch"}),
    ("assert is_valid_merkle_branch", {"DepositInvalidMerkleProof"}),
    ("assert is_active_validator(validator", {"ExitValidatorNotActive"}),
    ("assert validator.exit_epoch == FAR_FUTURE_EPOCH", {"ExitAlreadyInitiated"}),
    ("assert get_current_epoch(state) >= voluntary_exit.epoch", {"ExitEpochInFuture"}),
    ("assert get_current_epoch(state) >= validator.activation_epoch", {"ExitValidatorTooYoung"}),
    ("signed_voluntary_exit.signature)", {"InvalidVoluntaryExitSignature"}),
    ("assert state.slot < slot", {"SlotNotAfterState"}),
    ("assert state.slot < target", {"SlotNotAfterState"}),
    ("assert index < index_count", {"ShuffleIndexOutOfRange"}),
    ("assert len(indices) > 0", {"NoActiveValidators"}),
    ("assert slot < state.slot <= slot + SLOTS_PER_HISTORICAL_ROOT", {"BlockRootSlotOutOfRange"}),
    ("assert epoch in (get_previous_epoch(state), get_current_epoch(state))", {"Internal"}),
]


def classify(e):
    if isinstance(e, AssertionError):
        import traceback
        line = traceback.extract_tb(e.__traceback__)[-1].line or ""
        for text, rejects in ASSERTS:
            if text in line:
                return "assert:" + "|".join(sorted(rejects))
        return "assert:?" + line
    if isinstance(e, (ValueError, ZeroDivisionError, OverflowError)):
        return "arith"
    if isinstance(e, IndexError):
        return "index"
    if "maximum capacity" in str(e):
        return "listfull"
    return f"other:{type(e).__name__}:{e}"


def expected_class(reject):
    if reject in ARITH:
        return "arith"
    if reject in INDEX:
        return "index"
    if reject in LISTFULL:
        return "listfull"
    return "assert:" + "|".join(sorted(r for text, rs in ASSERTS for r in rs if r == reject) or [reject])


def run(state, kind, op_bytes):
    if kind.startswith("epoch:"):
        getattr(spec, "process_" + kind[len("epoch:"):])(state)
    elif kind.startswith("slots:"):
        target = state.slot + int(kind[len("slots:"):])
        assert state.slot < target
        spec.process_slots(state, target)
    elif kind == "block":
        spec.state_transition(state, OP_TYPES[kind].decode_bytes(op_bytes), False)
    elif kind == "block_header":
        spec.process_block_header(state, OP_TYPES[kind].decode_bytes(op_bytes))
    elif kind == "rewards":
        out = []
        for f in (spec.get_source_deltas, spec.get_target_deltas, spec.get_head_deltas,
                  spec.get_inclusion_delay_deltas, spec.get_inactivity_penalty_deltas):
            r, p = f(state)
            out += [int(x) for x in r] + [int(x) for x in p]
        return ",".join(map(str, out))
    else:
        getattr(spec, "process_" + kind)(state, OP_TYPES[kind].decode_bytes(op_bytes))
    return state.hash_tree_root().hex()


def main(d):
    d = Path(d)
    states = {}
    bad = 0
    total = 0
    skipped = 0
    for line in (d / "manifest.jsonl").read_text().splitlines():
        c = json.loads(line)
        k = c["state"]
        if k not in states:
            states[k] = (d / f"state_{k}.ssz").read_bytes()
        state = spec.BeaconState.decode_bytes(states[k])
        total += 1
        if total % 100 == 0:
            print(f"{total} cases judged, {bad} differ so far", file=sys.stderr, flush=True)
        op_bytes = (d / c["file"]).read_bytes() if c["file"] else b""
        try:
            got = "ok:" + run(state, c["op"], op_bytes)
        except Exception as e:  # noqa: BLE001 - every exception is a verdict here
            got = "err:" + classify(e)
        want = c["result"]
        if want == "err:SlotsTooFar":
            skipped += 1  # the shared harness bound, not a spec rule
            continue
        if want.startswith("err:"):
            reject = want[4:]
            want = "err:" + expected_class(reject)
            if got.startswith("err:assert:") and reject in got[len("err:assert:"):].split("|"):
                want = got  # the failing assert stands for this Reject
        if got != want:
            bad += 1
            print(f"DIFF state {k} {c['op']}: rust {c['result'][:80]} python {got[:120]}")
    print(f"{total} cases judged, {bad} differ, {skipped} skipped (SlotsTooFar: harness bound)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main([a for a in sys.argv[1:] if not a.startswith("--")][0]))
