//! `process_slashings` (`#slashings`, v1.1.10).

use super::summary::EpochSummary;
use crate::arith::{u, SafeArith};
use crate::helpers::{decrease_balance, get_current_epoch};
use crate::state::FastState;
use diverge_types::*;

/// `process_slashings(state)`.
///
/// # Errors
/// Overflow.
pub fn process_slashings<E: EthSpec>(fs: &mut FastState<E>, s: &EpochSummary) -> Result<(), Reject> {
    let epoch = get_current_epoch(&fs.state);
    let total = s.total_active_balance;
    let mut sum: u64 = 0;
    for x in fs.state.slashings.iter() {
        sum = sum.sadd(*x)?;
    }
    let adjusted = sum.smul(E::PROPORTIONAL_SLASHING_MULTIPLIER)?.min(total);
    let target = epoch.sadd(E::EPOCHS_PER_SLASHINGS_VECTOR / 2)?;
    let inc = E::EFFECTIVE_BALANCE_INCREMENT;
    let mut penalties = Vec::new();
    for (i, v) in fs.state.validators.iter().enumerate() {
        if v.slashed && target == v.withdrawable_epoch {
            let numerator = v.effective_balance.sdiv(inc)?.smul(adjusted)?;
            penalties.push((u(i), numerator.sdiv(total)?.smul(inc)?));
        }
    }
    for (i, p) in penalties {
        decrease_balance(&mut fs.state, i, p)?;
    }
    Ok(())
}
