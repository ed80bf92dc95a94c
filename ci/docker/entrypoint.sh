#!/usr/bin/env bash
# Entrypoint of the community image (ci/docker/Dockerfile): fuzzes every target with the built-in
# loop until stopped, the corpus growing in the corpus volume, findings in the findings volume, and
# writes the Markdown triage report REPORT.md beside the findings at exit, also after `docker stop`
# (SIGTERM) or Ctrl-C (SIGINT). Needs no network and writes only into the two volumes.
#
# 1. Syncs the shipped seeds ($DIVERGE_HOME/seeds/<target>/) into the corpus volume
#    (<corpus>/<target>/), never overwriting a file there: the first start copies them all, later
#    starts add only seeds a newer image ships.
# 2. Runs `diverge fuzz --all --pool $DIVERGE_HOME/corpora/states/<preset> --corpus <corpus>
#    --save-corpus <corpus> --findings <findings> ARGS...` (with a --target among ARGS, no --all):
#    every input that reaches a new behaviour is saved into the corpus volume and seeds the next
#    start. The final table also goes to <findings>/CAMPAIGN.txt.
# 3. At exit: `diverge triage --markdown <findings>` into <findings>/REPORT.md.
# Exit status: diverge fuzz's (0 nothing new found, 1 new findings, 2 error).
#
# Environment: DIVERGE_FINDINGS_DIR (default /findings), DIVERGE_CORPUS_DIR (default /corpus),
# DIVERGE_HOME (default /opt/diverge: pool and seeds), DIVERGE (default: diverge on PATH).
set -euo pipefail
findings=${DIVERGE_FINDINGS_DIR:-/findings}
corpus=${DIVERGE_CORPUS_DIR:-/corpus}
home=${DIVERGE_HOME:-/opt/diverge}
diverge=${DIVERGE:-diverge}
say() { echo "entrypoint: $*" >&2; }

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
for arg in "$@"; do
  case "$arg" in --target | --target=*) all=() ;; esac
done
say "diverge fuzz ${all[*]} --pool $pool --corpus $corpus --save-corpus $corpus --findings $findings $*"
"$diverge" fuzz "${all[@]}" --pool "$pool" --corpus "$corpus" --save-corpus "$corpus" \
  --findings "$findings" "$@" > "$findings/CAMPAIGN.txt" &
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
