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
#    /corpus, ENTRYPOINT /usr/local/bin/diverge-entrypoint.
# 2. The builder step: `cargo build --release --locked -p diverge` (a no-op when scripts/main.sh
#    built it already; CI reuses that build). With --bug FEATURE: the re-injected bug build of
#    ci/bug-smoke.sh (target/bug-smoke), and the campaign is on the bug's target only.
# 3. ci/docker/stage.sh lays out the runtime root; `chmod -R a-w` makes it read-only.
# 4. The entrypoint runs from that root for SECONDS, as nobody:nogroup in a network namespace of
#    its own (no network) when this runs as root, else as the current user (said so), with
#    DIVERGE_FINDINGS_DIR and DIVERGE_CORPUS_DIR on temporary directories, then gets SIGTERM.
# 5. Fails unless: the entrypoint stopped on the signal and exited 0 or 1; the campaign table
#    shows executions for every target fuzzed; the corpus volume holds more files than the seeds
#    it started from; REPORT.md is in the findings volume; nothing in the root changed; with --bug,
#    a finding with the bug's signature (from `diverge list --bugs`) is in the findings volume.
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
grep -q '^RUN cargo build --release --locked -p diverge' "$df" || fail "$df: the builder no longer runs cargo build --release --locked -p diverge"
grep -q 'bash ci/docker/stage.sh /stage target/release/diverge' "$df" || fail "$df: the builder no longer runs ci/docker/stage.sh /stage"
copies=$(grep -E '^(COPY|ADD) ' <<<"$runtime" || true)
[ "$copies" = "COPY --from=builder /stage/ /" ] || fail "$df: the runtime stage must copy only the staged root (COPY --from=builder /stage/ /), has: $copies"
grep -qE '^USER [^r0]' <<<"$runtime" || fail "$df: the runtime stage has no non-root USER"
grep -q '^VOLUME \["/findings", "/corpus"\]' <<<"$runtime" || fail "$df: VOLUME /findings /corpus missing"
grep -q '^ENTRYPOINT \["/usr/local/bin/diverge-entrypoint"\]' <<<"$runtime" || fail "$df: ENTRYPOINT is not /usr/local/bin/diverge-entrypoint"
echo "== $df: builder builds and stages; the runtime copies only /stage; non-root user; volumes; entrypoint"

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
findings=$work/findings
corpus=$work/corpus
mkdir -p "$findings" "$corpus"
stamp=$work/stamp
touch "$stamp"
seeds=$(find "$root/opt/diverge/seeds" -type f | wc -l)

# 4. The entrypoint, unprivileged, no network, stopped by SIGTERM after $secs s.
run=(env -i PATH="$root/usr/local/bin:/usr/bin:/bin" DIVERGE_HOME="$root/opt/diverge"
     DIVERGE_FINDINGS_DIR="$findings" DIVERGE_CORPUS_DIR="$corpus" DIVERGE="$root/usr/local/bin/diverge")
if [ "$(id -u)" -eq 0 ]; then
  chown nobody:nogroup "$findings" "$corpus"
  run=(setpriv --reuid=nobody --regid=nogroup --clear-groups "${run[@]}")
  if unshare --net true 2>/dev/null; then
    who="nobody:nogroup (setpriv), in a network namespace of its own (unshare --net: loopback only, down)"
    run=(unshare --net "${run[@]}")
  else
    who="nobody:nogroup (setpriv; unshare --net is not permitted here, so the network is not cut off)"
  fi
else
  who="$(id -un) (not root: cannot switch user or network namespace; the root is read-only to this user too)"
fi
echo "== entrypoint as $who for ${secs}s, root $root (read-only), findings $findings, corpus $corpus"
# The image's working directory; nothing may depend on a repository beside it.
cd "$root/opt/diverge"
status=0
# --foreground: SIGTERM to the entrypoint only, as `docker stop` signals only the container's PID 1
# (without it, timeout signals the whole process group, diverge fuzz and its workers included).
timeout --foreground --preserve-status --signal=TERM --kill-after=60 "$secs" \
  "${run[@]}" "$root/usr/local/bin/diverge-entrypoint" "${extra[@]}" > "$work/out.txt" 2> "$work/err.txt" || status=$?
cd - >/dev/null
grep -v '^fuzz: \[' "$work/err.txt" | sed 's/^/   /' || true
sed 's/^/   /' "$work/out.txt"

# 5. What must have happened.
grep -q '^entrypoint: stopping the campaign' "$work/err.txt" || fail "the entrypoint did not stop the campaign on SIGTERM"
[ "$status" -eq 0 ] || [ "$status" -eq 1 ] || fail "the entrypoint exited $status (0: nothing new found, 1: new findings)"
rows=$(grep -E '^[a-z0-9_]+ +(minimal|mainnet) +[0-9]+ ' "$findings/CAMPAIGN.txt" || true)
[ -n "$rows" ] || fail "no campaign table in the findings volume's CAMPAIGN.txt"
want=$(if [ -n "$bug" ]; then echo 1; else find "$root/opt/diverge/seeds" -mindepth 1 -maxdepth 1 -type d | wc -l; fi)
[ "$(wc -l <<<"$rows")" -eq "$want" ] || fail "$(wc -l <<<"$rows") target rows in the campaign table, expected $want"
idle=$(awk '$3 == 0 {print $1}' <<<"$rows")
[ -z "$idle" ] || fail "no executions for: $idle"
execs=$(awk '{s += $3} END {print s}' <<<"$rows")
grown=$(find "$corpus" -type f | wc -l)
[ "$grown" -gt "$seeds" ] || fail "the corpus volume did not grow: $grown files from $seeds seeds"
[ -s "$findings/REPORT.md" ] || fail "no REPORT.md in the findings volume"
grep -q '^## Diverge findings' "$findings/REPORT.md" || fail "REPORT.md is not a triage report"
changed=$(find "$root" -newer "$stamp" | head -5)
[ -z "$changed" ] || fail "the read-only root changed: $changed"
if [ -n "$bug" ]; then
  grep -rqF "\"signature\": \"$signature\"" --include=finding.json "$findings" || fail "no finding with signature $signature in the findings volume"
  grep -qF "$signature" "$findings/REPORT.md" || fail "REPORT.md does not name $signature"
fi
echo "== findings volume:"
(cd "$findings" && find . -type f | sort | sed 's/^/   /')
echo "== REPORT.md: $(head -3 "$findings/REPORT.md" | tail -1)"
echo "docker check: OK: $execs execs over $(wc -l <<<"$rows") target(s) in ${secs}s as $(cut -d' ' -f1 <<<"$who"); corpus volume $seeds -> $grown files; $(find "$findings" -name finding.json | wc -l) finding(s) and REPORT.md in the findings volume${bug:+; $signature found}; ${SECONDS}s in all"
