#!/usr/bin/env bash
# Verifies the community image (ci/docker/Dockerfile) without Docker: performs its build steps in a
# temporary root, makes that root read-only, and runs the entrypoint there as an unprivileged user
# with the two volumes mapped to writable temporary directories, then stops it the way
# `docker stop` does (SIGTERM).
#
#   ci/docker/check.sh [SECONDS] [--bug FEATURE]      (default: 30 s, the default build)
#
# 1. The Dockerfile still has the shape this check mirrors: the builder runs
#    `cargo build --release --locked -p diverge` and `ci/docker/stage.sh /stage`, the runtime stage
#    copies only /stage (`COPY --from=builder /stage/ /`), a non-root USER, VOLUMEs /findings and
#    /corpus, ENTRYPOINT /usr/local/bin/diverge-entrypoint, HEALTHCHECK `diverge-entrypoint health`,
#    the OCI labels (title, source, revision, licences).
# 2. The builder step: `cargo build --release --locked -p diverge` (a no-op when scripts/main.sh
#    built it already; CI reuses that build). With --bug FEATURE: the re-injected bug build of
#    ci/bug-smoke.sh (target/bug-smoke), and the campaign is on the bug's target only.
# 3. ci/docker/stage.sh lays out the runtime root; `chmod -R a-w` makes it read-only.
# 4. The entrypoint runs twice at once, started the same way (two containers of one image), from
#    that root for SECONDS, as nobody:nogroup in a network namespace of its own (no network) when
#    this runs as root, else as the current user (said so), each with DIVERGE_FINDINGS_DIR and
#    DIVERGE_CORPUS_DIR on temporary directories of its own; the HEALTHCHECK command runs against
#    each after 15 s; then each gets SIGTERM.
# 5. Fails unless, for each run: the entrypoint stopped on the signal and exited 0 or 1; the health
#    check passed; CAMPAIGN.txt names a seed fresh from the OS, and the two runs' seeds differ; the
#    campaign table shows executions for every target fuzzed; the corpus volume holds more files
#    than the seeds it started from; REPORT.md is in the findings volume; nothing in the root
#    changed; with --bug, a finding with the bug's signature (from `diverge list --bugs`) is in
#    the findings volume.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=30
bug=
while [ $# -gt 0 ]; do
  case "$1" in
    --bug) bug=${2:?--bug needs a feature or bug name}; shift 2 ;;
    [0-9]*) secs=$1; shift ;;
    *) echo "usage: $0 [SECONDS] [--bug FEATURE]" >&2; exit 2 ;;
  esac
done
fail() { echo "FAIL: $*" >&2; exit 1; }
SECONDS=0

# 1. The Dockerfile's shape.
df=ci/docker/Dockerfile
runtime=$(awk '/^FROM /{stage=""} {stage = stage $0 "\n"} END {printf "%s", stage}' "$df")
grep -qE '^RUN .*cargo build --release --locked -p diverge|^    cargo build --release --locked -p diverge' "$df" || fail "$df: the builder no longer runs cargo build --release --locked -p diverge"
grep -q 'bash ci/docker/stage.sh /stage target/release/diverge' "$df" || fail "$df: the builder no longer runs ci/docker/stage.sh /stage"
copies=$(grep -E '^(COPY|ADD) ' <<<"$runtime" || true)
[ "$copies" = "COPY --from=builder /stage/ /" ] || fail "$df: the runtime stage must copy only the staged root (COPY --from=builder /stage/ /), has: $copies"
grep -qE '^USER [^r0]' <<<"$runtime" || fail "$df: the runtime stage has no non-root USER"
grep -q '^VOLUME \["/findings", "/corpus"\]' <<<"$runtime" || fail "$df: VOLUME /findings /corpus missing"
grep -q '^ENTRYPOINT \["/usr/local/bin/diverge-entrypoint"\]' <<<"$runtime" || fail "$df: ENTRYPOINT is not /usr/local/bin/diverge-entrypoint"
grep -qE '^HEALTHCHECK .*CMD \["/usr/local/bin/diverge-entrypoint", "health"\]' <<<"$runtime" || fail "$df: no HEALTHCHECK running diverge-entrypoint health"
for label in title source revision licenses; do
  grep -q "org.opencontainers.image.$label=" <<<"$runtime" || fail "$df: OCI label org.opencontainers.image.$label missing"
done
echo "== $df: builder builds and stages; the runtime copies only /stage; non-root user; volumes; entrypoint; healthcheck; OCI labels"

# 2. The builder step.
tdir=${CARGO_TARGET_DIR:-target}
extra=()
if [ -n "$bug" ]; then
  cargo build --release --locked -p diverge
  entry=$("$tdir/release/diverge" list --bugs | awk -F'\t' -v b="$bug" '$1 == b || $2 == b')
  [ -n "$entry" ] || fail "$bug is not a bug of the registry (diverge list --bugs)"
  IFS=$'\t' read -r _name feature _crate bug_target signature <<<"$entry"
  echo "== builder: bug build $feature (target/bug-smoke, as ci/bug-smoke.sh); expecting $signature"
  CARGO_TARGET_DIR=target/bug-smoke cargo build --release --locked -p diverge --features "$feature"
  bin=target/bug-smoke/release/diverge
  extra=(--target "$bug_target")
else
  echo "== builder: cargo build --release --locked -p diverge"
  cargo build --release --locked -p diverge
  bin=$tdir/release/diverge
fi

# 3. The runtime root, read-only.
work=$(mktemp -d)
cleanup() { chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
chmod 755 "$work"
root=$work/root
bash ci/docker/stage.sh "$root" "$bin"
chmod -R a-w "$root"
stamp=$work/stamp
touch "$stamp"
seeds=$(find "$root/opt/diverge/seeds" -type f | wc -l)

# 4. The entrypoint, unprivileged, no network, twice at once, stopped by SIGTERM after $secs s.
base=(env -i PATH="$root/usr/local/bin:/usr/bin:/bin" DIVERGE_HOME="$root/opt/diverge" DIVERGE="$root/usr/local/bin/diverge")
priv=()
if [ "$(id -u)" -eq 0 ]; then
  priv=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  if unshare --net true 2>/dev/null; then
    who="nobody:nogroup (setpriv), in a network namespace of its own (unshare --net: loopback only, down)"
    priv=(unshare --net "${priv[@]}")
  else
    who="nobody:nogroup (setpriv; unshare --net is not permitted here, so the network is not cut off)"
  fi
else
  who="$(id -un) (not root: cannot switch user or network namespace; the root is read-only to this user too)"
fi
runs=(a b)
for r in "${runs[@]}"; do
  mkdir -p "$work/$r/findings" "$work/$r/corpus"
  [ "$(id -u)" -ne 0 ] || chown nobody:nogroup "$work/$r/findings" "$work/$r/corpus"
done
echo "== entrypoint, twice at once (runs ${runs[*]}), as $who for ${secs}s, root $root (read-only), volumes $work/{a,b}/{findings,corpus}"
# The image's working directory; nothing may depend on a repository beside it.
cd "$root/opt/diverge"
pids=()
for r in "${runs[@]}"; do
  env_r=("${base[@]}" DIVERGE_FINDINGS_DIR="$work/$r/findings" DIVERGE_CORPUS_DIR="$work/$r/corpus")
  # --foreground: SIGTERM to the entrypoint only, as `docker stop` signals only the container's PID 1
  # (without it, timeout signals the whole process group, diverge fuzz and its workers included).
  timeout --foreground --preserve-status --signal=TERM --kill-after=60 "$secs" \
    "${priv[@]}" "${env_r[@]}" "$root/usr/local/bin/diverge-entrypoint" "${extra[@]}" > "$work/$r/out.txt" 2> "$work/$r/err.txt" &
  pids+=($!)
done
# The HEALTHCHECK command, as Docker runs it in the container (same user and environment), once
# the first progress line is due (diverge fuzz prints one every 10 s).
sleep $(( secs > 20 ? 15 : secs / 2 ))
for r in "${runs[@]}"; do
  env_r=("${base[@]}" DIVERGE_FINDINGS_DIR="$work/$r/findings" DIVERGE_CORPUS_DIR="$work/$r/corpus")
  if "${priv[@]}" "${env_r[@]}" "$root/usr/local/bin/diverge-entrypoint" health > "$work/$r/health.txt" 2>&1; then
    echo "== run $r: healthy: $(cat "$work/$r/health.txt")"
  else
    echo "FAIL: run $r: the HEALTHCHECK failed: $(cat "$work/$r/health.txt")" >&2; echo unhealthy > "$work/$r/unhealthy"
  fi
done
status=()
for i in "${!runs[@]}"; do
  st=0; wait "${pids[$i]}" || st=$?
  status+=("$st")
done
cd - >/dev/null

# 5. What must have happened, per run.
tot_execs=0
run_seeds=()
for i in "${!runs[@]}"; do
  r=${runs[$i]} findings=$work/${runs[$i]}/findings corpus=$work/${runs[$i]}/corpus
  echo "== run $r:"
  grep -v '^fuzz: \[' "$work/$r/err.txt" | sed 's/^/   /' || true
  sed 's/^/   /' "$work/$r/out.txt"
  [ ! -e "$work/$r/unhealthy" ] || fail "run $r: the HEALTHCHECK command failed during the campaign"
  grep -q '^entrypoint: stopping the campaign' "$work/$r/err.txt" || fail "run $r: the entrypoint did not stop the campaign on SIGTERM"
  [ "${status[$i]}" -eq 0 ] || [ "${status[$i]}" -eq 1 ] || fail "run $r: the entrypoint exited ${status[$i]} (0: nothing new found, 1: new findings)"
  seed=$(sed -n 's/^# seed: \([0-9][0-9]*\) (fresh from the OS)$/\1/p' "$findings/CAMPAIGN.txt")
  [ -n "$seed" ] || fail "run $r: CAMPAIGN.txt names no seed fresh from the OS"
  grep -qF -- "--seed $seed " "$findings/CAMPAIGN.txt" || fail "run $r: the campaign's command line does not pass --seed $seed"
  grep -q "^entrypoint: seed $seed " "$work/$r/err.txt" || fail "run $r: the entrypoint did not print its seed $seed"
  run_seeds+=("$seed")
  rows=$(grep -E '^[a-z0-9_]+ +(minimal|mainnet) +[0-9]+ ' "$findings/CAMPAIGN.txt" || true)
  [ -n "$rows" ] || fail "run $r: no campaign table in the findings volume's CAMPAIGN.txt"
  want=$(if [ -n "$bug" ]; then echo 1; else find "$root/opt/diverge/seeds" -mindepth 1 -maxdepth 1 -type d | wc -l; fi)
  [ "$(wc -l <<<"$rows")" -eq "$want" ] || fail "run $r: $(wc -l <<<"$rows") target rows in the campaign table, expected $want"
  idle=$(awk '$3 == 0 {print $1}' <<<"$rows")
  [ -z "$idle" ] || fail "run $r: no executions for: $idle"
  tot_execs=$((tot_execs + $(awk '{s += $3} END {print s}' <<<"$rows")))
  grown=$(find "$corpus" -type f | wc -l)
  [ "$grown" -gt "$seeds" ] || fail "run $r: the corpus volume did not grow: $grown files from $seeds seeds"
  [ -s "$findings/REPORT.md" ] || fail "run $r: no REPORT.md in the findings volume"
  grep -q '^## Diverge findings' "$findings/REPORT.md" || fail "run $r: REPORT.md is not a triage report"
  if [ -n "$bug" ]; then
    grep -rqF "\"signature\": \"$signature\"" --include=finding.json "$findings" || fail "run $r: no finding with signature $signature in the findings volume"
    grep -qF "$signature" "$findings/REPORT.md" || fail "run $r: REPORT.md does not name $signature"
  fi
  echo "   findings volume: $(cd "$findings" && find . -type f | sort | tr '\n' ' ')"
  echo "   REPORT.md: $(head -3 "$findings/REPORT.md" | tail -1); corpus volume $seeds -> $grown files; seed $seed"
done
[ "${run_seeds[0]}" != "${run_seeds[1]}" ] || fail "the two runs, started the same way, used the same seed ${run_seeds[0]}"
changed=$(find "$root" -newer "$stamp" | head -5)
[ -z "$changed" ] || fail "the read-only root changed: $changed"
echo "docker check: OK: two runs started the same way, seeds ${run_seeds[0]} and ${run_seeds[1]}; $tot_execs execs over $(wc -l <<<"$rows") target(s) each in ${secs}s as $(cut -d' ' -f1 <<<"$who"); healthy during the run; $(find "$work"/a/findings "$work"/b/findings -name finding.json | wc -l) finding(s) and a REPORT.md per findings volume${bug:+; $signature found}; ${SECONDS}s in all"
