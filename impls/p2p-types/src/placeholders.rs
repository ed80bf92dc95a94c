//! TEMPORARY: `Properties` and `incident()` of the placeholder components, so the differential
//! integration compiles before the component owners land theirs. Deleted at their merge.

use crate::schedule::{Schedule, Step};
use crate::{announce, session_cache, stream_setup, Millis, Properties};

macro_rules! placeholder {
    ($ty:ty, $m:ident) => {
        impl Properties for $ty {
            type Obs = $m::Obs;
            fn amplification_bound(nodes: u8, _config: &$m::Config) -> u64 {
                u64::from(nodes).saturating_mul(u64::from(nodes))
            }
            fn drain_budget(_nodes: u8, _config: &$m::Config) -> (usize, Millis) {
                (1_000, 10_000)
            }
            fn check_converged(_config: &$m::Config, _obs: &[Option<$m::Obs>]) -> Result<(), String> {
                Ok(())
            }
            fn seeds() -> Vec<(&'static str, Schedule<Self>)> {
                vec![("placeholder", Self::incident())]
            }
        }
        impl $ty {
            /// Placeholder incident.
            pub fn incident() -> Schedule<Self> {
                Schedule { nodes: 3, config: $m::Config::default(), steps: vec![Step::Command { node: 0, command: $m::Command::Poke(1) }, Step::Deliver(0), Step::Advance(100)] }
            }
        }
    };
}

placeholder!(announce::Announce, announce);
placeholder!(session_cache::SessionCache, session_cache);
placeholder!(stream_setup::StreamSetup, stream_setup);
