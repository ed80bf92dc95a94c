#!/usr/bin/env bash
# Entrypoint of the community image (ci/docker/Dockerfile): fuzzes every target with the built-in
# loop until stopped, the corpus growing in the corpus volume, findings in the findings volume, and
# writes the Markdown triage report REPORT.md beside the findings at exit, also after `docker stop`
# (SIGTERM) or Ctrl-C (SIGINT). Needs no network and writes only into the two volumes.
#
# 1. Syncs the shipped seeds ($DIVERGE_HOME/seeds/<target>/) into the corpus volume
#    (<corpus>/<target>/), never overwriting a file there: the first start copies them all, later
#    starts add only seeds a newer image ships.
# 2. Runs `diverge fuzz --all --seed S --pool $DIVERGE_HOME/corpora/states/<preset> --corpus
#    <corpus> --save-corpus <corpus> --findings <findings> ARGS...` (with a --target among ARGS, no
#    --all): every input that reaches a new behaviour is saved into the corpus volume and seeds the
#    next start. S is fresh from the OS (/dev/urandom, a u64) unless ARGS has a --seed, so two
#    containers started the same way search different sequences; it is printed, and written first
#    into <findings>/CAMPAIGN.txt with the version and the command line (`--seed S` gives the same
#    RNG streams again). The final table follows in CAMPAIGN.txt. diverge's progress lines (every
#    10 s) also go to <findings>/campaign.log, which the HEALTHCHECK watches.
# 3. At exit: `diverge triage --markdown <findings>` into <findings>/REPORT.md.
# Exit status: diverge fuzz's (0 nothing new found, 1 new findings, 2 error).
#
#   diverge-entrypoint health    the Dockerfile's HEALTHCHECK: healthy while campaign.log was
#                                written in the last 2 minutes (a dead or hung supervisor is not)
#
# Environment: DIVERGE_FINDINGS_DIR (default /findings), DIVERGE_CORPUS_DIR (default /corpus),
# DIVERGE_HOME (default /opt/diverge: pool and seeds), DIVERGE (default: diverge on PATH).
set -euo pipefail
findings=${DIVERGE_FINDINGS_DIR:-/findings}
corpus=${DIVERGE_CORPUS_DIR:-/corpus}
home=${DIVERGE_HOME:-/opt/diverge}
diverge=${DIVERGE:-diverge}
say() { echo "entrypoint: $*" >&2; }

if [ "${1:-}" = health ]; then
  log=$findings/campaign.log
  [ -n "$(find "$log" -mmin -2 2>/dev/null)" ] || { echo "unhealthy: $log not written in the last 2 minutes"; exit 1; }
  tail -1 "$log"
  exit 0
fi

for dir in "$findings" "$corpus"; do
  mkdir -p "$dir" 2>/dev/null || true
  if ! [ -d "$dir" ] || ! [ -w "$dir" ]; then
    say "error: $dir is not a writable directory for uid $(id -u) (mount a volume there; for a bind mount, run with --user \"\$(id -u):\$(id -g)\" or make it writable)"
    exit 2
  fi
done
# The pool of the preset asked for (`--preset mainnet` needs a pool the image does not ship).
preset=minimal
prev=
for arg in "$@"; do
  [ "$prev" = "--preset" ] && preset=$arg
  case "$arg" in --preset=*) preset=${arg#--preset=} ;; esac
  prev=$arg
done
pool=$home/corpora/states/$preset
[ -d "$pool" ] || { say "error: $pool: no $preset state pool in the image (shipped: $(ls "$home/corpora/states" | paste -sd' ' -))"; exit 2; }

# 1. Seeds into the corpus volume (no overwrite).
before=$(find "$corpus" -type f | wc -l)
for seeds in "$home"/seeds/*/; do
  target=$(basename "$seeds")
  mkdir -p "$corpus/$target"
  cp -R -n "$seeds." "$corpus/$target/"
done
after=$(find "$corpus" -type f | wc -l)
say "corpus $corpus: $after files ($((after - before)) seeds added from $home/seeds)"

# 2. The campaign, in the background so that a signal reaches the trap while it runs.
all=(--all)
seed=()
json=0
for arg in "$@"; do
  case "$arg" in
    --target | --target=*) all=() ;;
    --seed | --seed=*) seed=(given) ;;
    --json) json=1 ;;
  esac
done
if [ ${#seed[@]} -eq 0 ]; then
  s=$(od -An -N8 -tu8 /dev/urandom | tr -d ' \n')
  [[ $s =~ ^[0-9]+$ ]] || { say "error: cannot read a seed from /dev/urandom"; exit 2; }
  seed=(--seed "$s")
  say "seed $s (fresh from the OS; pass --seed $s to search the same sequence again)"
else
  say "seed given on the command line"
fi
[ "${seed[0]}" != given ] || seed=()
cmd=("$diverge" fuzz "${all[@]}" "${seed[@]}" --pool "$pool" --corpus "$corpus" --save-corpus "$corpus" --findings "$findings" "$@")
say "${cmd[*]}"
: > "$findings/CAMPAIGN.txt"
if [ "$json" = 0 ]; then
  # The campaign's identity first (not with --json, whose output stays one JSON document).
  {
    echo "# diverge campaign started $(date -u +%Y-%m-%dT%H:%M:%SZ): $("$diverge" --version 2>/dev/null || echo 'diverge (version unknown)')"
    echo "# seed: ${seed[1]:-given on the command line} $([ ${#seed[@]} -gt 0 ] && echo '(fresh from the OS)')"
    echo "# command: ${cmd[*]}"
  } >> "$findings/CAMPAIGN.txt"
fi
"${cmd[@]}" >> "$findings/CAMPAIGN.txt" 2> >(tee -a "$findings/campaign.log" >&2) &
pid=$!
# docker stop sends SIGTERM: diverge fuzz stops on SIGINT (its Ctrl-C), writes its table, exits.
stop() {
  say "stopping the campaign (pid $pid)"
  kill -INT "$pid" 2>/dev/null || true
}
trap stop TERM INT
status=0
while :; do
  wait "$pid" && status=0 || status=$?
  # A trapped signal interrupts wait (status > 128) while the campaign still runs: wait again.
  kill -0 "$pid" 2>/dev/null || break
done
trap - TERM INT
cat "$findings/CAMPAIGN.txt"

# 3. The report a maintainer can paste upstream.
if "$diverge" triage --markdown "$findings" > "$findings/REPORT.md.tmp"; then
  mv "$findings/REPORT.md.tmp" "$findings/REPORT.md"
else
  mv "$findings/REPORT.md.tmp" "$findings/REPORT.md"
  say "warning: triage reported unreadable findings (see REPORT.md and the errors above)"
fi
say "campaign exit status $status; corpus $(find "$corpus" -type f | wc -l) files; report $findings/REPORT.md"
exit "$status"
