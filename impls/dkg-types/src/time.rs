//! Go's `time.Time` as drand uses it, and protobuf's `Timestamp`.
//!
//! Mirrors `google.golang.org/protobuf/types/known/timestamppb` (`AsTime`, `New`) and Go's
//! `time.Unix`, `Time.Before`, `Time.Unix`, `Time.MarshalBinary` (UTC only: every time drand's DKG
//! code marshals comes from `AsTime()`, which is UTC).

/// Seconds from 0001-01-01 to 1970-01-01 (Go's `unixToInternal`).
pub const UNIX_TO_INTERNAL: i64 = 62_135_596_800;

/// A protobuf `google.protobuf.Timestamp`: seconds since the Unix epoch plus nanoseconds. Not
/// normalised: nanos outside `[0, 1e9)` are allowed on the wire and normalised by [`GoTime::as_time`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, PartialOrd, Ord)]
pub struct Timestamp {
    /// Seconds since 1970-01-01 UTC.
    pub seconds: i64,
    /// Nanoseconds, normally in `[0, 1e9)`.
    pub nanos: i32,
}

/// A UTC Go `time.Time` without monotonic reading: `sec` counts seconds since 0001-01-01 (Go's
/// internal epoch, wrapping like Go's `int64` on overflow), `nsec` is in `[0, 1e9)`. The derived
/// order is Go's `Before`/`Equal` order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct GoTime {
    /// Seconds since 0001-01-01 UTC (Go's internal representation).
    pub sec: i64,
    /// Nanoseconds within the second, `[0, 1e9)`.
    pub nsec: u32,
}

const NANOS: i64 = 1_000_000_000;

impl GoTime {
    /// Go `time.Unix(sec, nsec)`: normalises `nsec` into `[0, 1e9)` carrying into `sec`, with Go's
    /// wrapping `int64` arithmetic.
    pub fn unix(sec: i64, nsec: i64) -> GoTime {
        let mut sec = sec;
        let mut nsec = nsec;
        if !(0..NANOS).contains(&nsec) {
            let n = nsec.wrapping_div(NANOS);
            sec = sec.wrapping_add(n);
            nsec = nsec.wrapping_sub(n.wrapping_mul(NANOS));
            if nsec < 0 {
                nsec = nsec.wrapping_add(NANOS);
                sec = sec.wrapping_sub(1);
            }
        }
        GoTime { sec: sec.wrapping_add(UNIX_TO_INTERNAL), nsec: u32::try_from(nsec).unwrap_or(0) }
    }

    /// `timestamppb.(*Timestamp).AsTime()`: a nil timestamp is 1970-01-01 (its getters return 0).
    pub fn as_time(ts: Option<&Timestamp>) -> GoTime {
        match ts {
            Some(t) => GoTime::unix(t.seconds, i64::from(t.nanos)),
            None => GoTime::unix(0, 0),
        }
    }

    /// Go `Time.Unix()`: seconds since 1970 (wrapping).
    pub fn unix_seconds(&self) -> i64 {
        self.sec.wrapping_sub(UNIX_TO_INTERNAL)
    }

    /// `timestamppb.New(t)`: `{Seconds: t.Unix(), Nanos: t.Nanosecond()}`.
    pub fn to_timestamp(&self) -> Timestamp {
        Timestamp { seconds: self.unix_seconds(), nanos: i32::try_from(self.nsec).unwrap_or(0) }
    }

    /// Go `Time.Before`.
    pub fn before(&self, other: &GoTime) -> bool {
        self < other
    }

    /// Go `Time.Add(d)` for a whole number of seconds (wrapping).
    pub fn add_seconds(&self, s: i64) -> GoTime {
        GoTime { sec: self.sec.wrapping_add(s), nsec: self.nsec }
    }

    /// Go `Time.MarshalBinary()` of a UTC time: 15 bytes, version 1, big-endian seconds since year
    /// 1, big-endian nanoseconds (u32), zone offset in minutes `-1` (= UTC) as big-endian i16.
    pub fn marshal_binary(&self) -> [u8; 15] {
        let mut out = [0u8; 15];
        let s = self.sec.to_be_bytes();
        let n = self.nsec.to_be_bytes();
        let o = (-1i16).to_be_bytes();
        let mut i = 0usize;
        for b in std::iter::once(1u8).chain(s).chain(n).chain(o) {
            if let Some(slot) = out.get_mut(i) {
                *slot = b;
            }
            i = i.saturating_add(1);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marshal_binary_matches_go() {
        // Go: time.Unix(0,0).UTC().MarshalBinary() = 01 00000000 0e7791f7 00000000 ffff
        let t = GoTime::unix(0, 0);
        assert_eq!(hex::encode(t.marshal_binary()), "010000000e7791f70000000000ffff");
        // time.Unix(1700000000, 5).UTC(): sec = 1700000000 + 62135596800 = 0x0EDCE5E800
        let t = GoTime::unix(1_700_000_000, 5);
        assert_eq!(hex::encode(t.marshal_binary()), "010000000edce5e80000000005ffff");
    }

    #[test]
    fn unix_normalises_like_go() {
        assert_eq!(GoTime::unix(10, -1), GoTime { sec: 9 + UNIX_TO_INTERNAL, nsec: 999_999_999 });
        assert_eq!(GoTime::unix(10, 2_500_000_000), GoTime { sec: 12 + UNIX_TO_INTERNAL, nsec: 500_000_000 });
        assert_eq!(GoTime::as_time(None).unix_seconds(), 0);
        assert!(GoTime::unix(1, 0).before(&GoTime::unix(1, 1)));
    }
}
