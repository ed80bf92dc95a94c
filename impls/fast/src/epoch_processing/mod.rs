//! Epoch processing (`specs/phase0/beacon-chain.md#epoch-processing`, v1.1.10): one function per
//! spec sub-function over a shared [`summary::EpochSummary`] built once per `process_epoch`.

pub mod process_effective_balance_updates;
pub mod process_justification_and_finalization;
pub mod process_registry_updates;
pub mod process_rewards_and_penalties;
pub mod process_slashings;
pub mod resets;
pub mod single_pass;
pub mod summary;

use crate::state::FastState;
use diverge_types::*;
use summary::Need;

/// `process_epoch(state)`: the summary is built once (justification's evaluation order first)
/// and reused by justification, rewards and slashings; it stays exact across them because none of
/// the steps before `process_effective_balance_updates` changes effective balances, slashed flags
/// or the active sets it summarises (registry updates only schedule epochs ≥ current + 1).
/// Rewards, slashings and effective-balance updates run as one fused pass
/// ([`single_pass::process_balances_fused`]) after the registry updates.
///
/// # Errors
/// The first failing step.
pub fn process_epoch<E: EthSpec>(fs: &mut FastState<E>) -> Result<(), Reject> {
    let jf = process_justification_and_finalization::applies(fs);
    let rw = process_rewards_and_penalties::applies(fs);
    let need = match (jf, rw) {
        (true, _) => Need::Both,
        (false, true) => Need::Rewards,
        (false, false) => Need::Registry,
    };
    let s = summary::build(fs, need)?;
    process_justification_and_finalization::process_justification_and_finalization(fs, &s)?;
    let deltas = if rw { Some(process_rewards_and_penalties::get_attestation_deltas(fs, &s)?) } else { None };
    process_registry_updates::process_registry_updates(fs)?;
    resets::process_eth1_data_reset(fs)?;
    single_pass::process_balances_fused(fs, &s, deltas.as_ref())?;
    resets::process_slashings_reset(fs)?;
    resets::process_randao_mixes_reset(fs)?;
    resets::process_historical_roots_update(fs)?;
    resets::process_participation_record_updates(fs);
    Ok(())
}

/// One sub-function of `process_epoch` alone, as the `epoch_processing` vectors apply it, or the
/// whole of it ([`EpochStep::ProcessEpoch`]: [`process_epoch`], the fused pass `process_slots` runs).
///
/// # Errors
/// The step's failure.
pub fn process_epoch_step<E: EthSpec>(fs: &mut FastState<E>, step: EpochStep) -> Result<(), Reject> {
    match step {
        EpochStep::JustificationAndFinalization => {
            if !process_justification_and_finalization::applies(fs) {
                return Ok(());
            }
            let s = summary::build(fs, Need::Justification)?;
            process_justification_and_finalization::process_justification_and_finalization(fs, &s)
        }
        EpochStep::RewardsAndPenalties => {
            if !process_rewards_and_penalties::applies(fs) {
                return Ok(());
            }
            let s = summary::build(fs, Need::Rewards)?;
            process_rewards_and_penalties::process_rewards_and_penalties(fs, &s)
        }
        EpochStep::RegistryUpdates => process_registry_updates::process_registry_updates(fs),
        EpochStep::Slashings => {
            let s = summary::build(fs, Need::Registry)?;
            process_slashings::process_slashings(fs, &s)
        }
        EpochStep::Eth1DataReset => resets::process_eth1_data_reset(fs),
        EpochStep::EffectiveBalanceUpdates => process_effective_balance_updates::process_effective_balance_updates(fs),
        EpochStep::SlashingsReset => resets::process_slashings_reset(fs),
        EpochStep::RandaoMixesReset => resets::process_randao_mixes_reset(fs),
        EpochStep::HistoricalRootsUpdate => resets::process_historical_roots_update(fs),
        EpochStep::ParticipationRecordUpdates => {
            resets::process_participation_record_updates(fs);
            Ok(())
        }
        EpochStep::ProcessEpoch => process_epoch(fs),
    }
}
