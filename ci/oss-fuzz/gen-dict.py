#!/usr/bin/env python3
# Copyright 2026 the Diverge authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
#
################################################################################
"""Writes the libFuzzer dictionary of one Diverge target to stdout:
    ci/oss-fuzz/gen-dict.py <target>

Tokens (libFuzzer dict format: one "\\x.." entry a line, at most 64 bytes each, # comments):
- SSZ: little-endian u32 offsets a phase0 container's first variable field starts at (its fixed
  part's size, consensus-specs v1.1.10 phase0 containers), small offsets, and the u16 state
  selector's boundaries (differential/oracle/src/target.rs input layout);
- the boundary values of shared/design/bugs.md's re-injected bugs: u64 all-ones
  (FAR_FUTURE_EPOCH), 2^63 and 2^63-1 (signed/unsigned confusion, proposer-slashing-overflow),
  MAX_EFFECTIVE_BALANCE = 32e9 Gwei and EJECTION_BALANCE = 16e9 (proposer-index-overflow),
  committee counts and committee indices at and past them (committee-index-eq-count,
  attestation-committee-index-unchecked), and the BLS point at infinity (0xc0 then zeros);
- DKG targets: the field tags of impls/dkg-types/src/input.rs (packet kinds, command kinds,
  participant tags, timestamp tags, the empty-scheme tag);
- network targets (p2p_*): the step opcodes of impls/p2p-types/src/schedule.rs alone and with
  small arguments, and Advance steps (opcode 5, u16 LE ms) at typical timeouts and cooldowns ±1.
"""
import struct
import sys

def u32(v): return struct.pack("<I", v)
def u64(v): return struct.pack("<Q", v)

# Fixed-part sizes of the phase0 containers with a variable field: the first offset's value.
SSZ_OFFSETS = {
    "Attestation / IndexedAttestation / PendingAttestation (aggregation_bits, attesting_indices)": [228, 148],
    "AttesterSlashing (two IndexedAttestation)": [8],
    "SignedBeaconBlock (message)": [100],
    "BeaconBlock (body)": [84],
    "BeaconBlockBody (proposer_slashings .. voluntary_exits)": [220],
    "small offsets": [0, 4, 8, 12, 16],
}
U64 = {
    "zero": 0, "one": 1,
    "u64 max = FAR_FUTURE_EPOCH": (1 << 64) - 1,
    "2^63": 1 << 63, "2^63 - 1": (1 << 63) - 1,
    "2^32": 1 << 32, "u32 max": (1 << 32) - 1,
    "MAX_EFFECTIVE_BALANCE (32e9 Gwei)": 32_000_000_000,
    "EJECTION_BALANCE (16e9 Gwei)": 16_000_000_000,
    "EFFECTIVE_BALANCE_INCREMENT (1e9 Gwei)": 1_000_000_000,
    "MAX_RANDOM_BYTE * MAX_EFFECTIVE_BALANCE": 255 * 32_000_000_000,
    "SLOTS_PER_EPOCH minimal / mainnet": 8, "32 slots": 32,
    "committee count (minimal, 64 validators)": 4, "committee count + 1": 5,
    "MAX_COMMITTEES_PER_SLOT (mainnet)": 64,
}
U16_SELECTORS = [0, 1, 0xFF, 0x100, 0xFFFF]

def esc(b): return '"' + "".join("\\x%02x" % c for c in b) + '"'

def consensus(out):
    for name, offs in SSZ_OFFSETS.items():
        out.append("# SSZ offset: " + name)
        out += [esc(u32(o)) for o in offs]
    out.append("# u64 boundaries (bugs.md)")
    for name, v in U64.items():
        out.append("# " + name)
        out.append(esc(u64(v)))
    out.append("# u16 state selector boundaries")
    out += [esc(struct.pack("<H", v)) for v in U16_SELECTORS]
    out.append("# BLS G1 point at infinity (compressed, 48 bytes) and a G2 infinity prefix")
    out.append(esc(b"\xc0" + bytes(47)))
    out.append(esc(b"\xc0" + bytes(63)))
    out.append("# BitList end markers")
    out += [esc(b"\x01"), esc(b"\x80"), esc(b"\x00")]

def dkg(out, sequence):
    out.append("# packet flags (bit 0: metadata) and kinds (mod 7): 0 none, 1 Proposal, 2 Accept, 3 Reject, 4 Execute, 5 Abort, 6 Dkg")
    out += [esc(bytes([k])) for k in range(0, 7)]
    out.append("# participant tags: test key i (<0x40), key substitution (0x40), empty PoP (0x80), explicit (0xC0), absent (0xFF)")
    out += [esc(bytes([t])) for t in (0x00, 0x07, 0x3F, 0x40, 0x47, 0x80, 0x87, 0xBF, 0xC0, 0xFE, 0xFF)]
    out.append("# timestamp tags: 0 absent, 1 now+i32, 2 absolute (i64, i32), 3 GENESIS+i32")
    out += [esc(bytes([t])) for t in range(4)]
    out.append("# i32 / i64 timestamp boundaries")
    out += [esc(struct.pack("<i", v)) for v in (-1, 0x7FFFFFFF, -0x80000000)]
    out += [esc(struct.pack("<q", v)) for v in (-1, 0x7FFFFFFFFFFFFFFF, -0x8000000000000000)]
    out.append("# scheme tag 5: empty scheme name")
    out.append(esc(b"\x05"))
    out.append("# BLS G1 point at infinity (the identity key, IdentityKeyAccepted)")
    out.append(esc(b"\xc0" + bytes(47)))
    if sequence:
        out.append("# commands: 0 Initial, 1 Resharing, 2 Join, 3 Accept, 4 Reject, 5 Execute, 6 Abort, 7 Complete, 8+ Failed")
        out += [esc(bytes([c])) for c in range(9)]

def p2p(out):
    out.append("# step opcodes (mod 8): 0 Command, 1 Deliver, 2 Drop, 3 Duplicate, 4 Delay, 5 Advance, 6 Join, 7 Leave")
    out += [esc(bytes([op])) for op in range(8)]
    out.append("# queue steps and membership steps with small arguments")
    out += [esc(bytes([op, i])) for op in (1, 2, 3, 4, 6, 7) for i in (0, 1, 2)]
    out.append("# Advance (opcode 5, u16 LE ms) at typical timeouts and cooldowns, and one ms either side")
    for t in (1, 100, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000):
        for v in (t - 1, t, t + 1):
            if 0 < v <= 0xFFFF:
                out.append(esc(b"\x05" + struct.pack("<H", v)))
    out.append(esc(b"\x05\xff\xff"))

def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen-dict.py <target>")
    target = sys.argv[1]
    out = ["# libFuzzer dictionary of the Diverge target %s, generated by ci/oss-fuzz/gen-dict.py" % target]
    if target.startswith("dkg_"):
        dkg(out, target == "dkg_sequence")
    elif target.startswith("p2p_"):
        p2p(out)
    else:
        consensus(out)
        if target == "chain":
            out.append("# chain: first offset of the List[SignedBeaconBlock, 8] (4 bytes per block, 1..8 blocks)")
            out += [esc(u32(4 * n)) for n in range(1, 9)]
        if target == "epoch":
            out.append("# epoch: step bytes, 10 = the whole process_epoch")
            out += [esc(bytes([s])) for s in range(11)]
        if target == "ssz_decode":
            out.append("# SSZ type selector (first byte, index into SSZ_TYPES)")
            out += [esc(bytes([i])) for i in range(27)]
    seen, lines = set(), []
    for line in out:
        if line.startswith("#") or line not in seen:
            seen.add(line)
            lines.append(line)
    print("\n".join(lines))

if __name__ == "__main__":
    main()
