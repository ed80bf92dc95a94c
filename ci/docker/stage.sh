#!/usr/bin/env bash
# Lays out the community image's runtime files under ROOT, exactly as they land in the image: the
# Dockerfile's runtime stage copies ROOT as it is (`COPY --from=builder /stage/ /`), and
# ci/docker/check.sh runs the same script, so the list of shipped paths lives here only.
#
#   ci/docker/stage.sh ROOT DIVERGE_BINARY
#
# ROOT/usr/local/bin/diverge                 the binary
# ROOT/usr/local/bin/diverge-entrypoint      ci/docker/entrypoint.sh
# ROOT/opt/diverge/corpora/states/<preset>/  every state pool the checkout has (minimal is shipped)
# ROOT/opt/diverge/seeds/<target>/           each target's seed corpus (`diverge list --json` names
#                                            its directory), which the entrypoint syncs into /corpus
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 ROOT DIVERGE_BINARY" >&2; exit 2; }
root=$1
bin=$2
cd "$(dirname "$0")/../.."
[ -x "$bin" ] || { echo "error: $bin: not an executable diverge binary" >&2; exit 1; }
[ -d corpora/states/minimal ] || { echo "error: corpora/states/minimal: the minimal state pool is missing" >&2; exit 1; }
install -D -m 0755 "$bin" "$root/usr/local/bin/diverge"
install -D -m 0755 ci/docker/entrypoint.sh "$root/usr/local/bin/diverge-entrypoint"
mkdir -p "$root/opt/diverge/corpora/states" "$root/opt/diverge/seeds"
for pool in corpora/states/*/; do
  cp -R "$pool" "$root/opt/diverge/corpora/states/"
done
# Targets and their seed directories, from the binary's own registry (`diverge list --json`:
# {"targets":[{"name","seed_dir",...}]}), not from its human-readable table.
command -v jq >/dev/null || { echo "error: jq not found (the Dockerfile's builder installs it; ci/install-deps.sh too)" >&2; exit 1; }
seeds=$("$bin" list --json | jq -r '.targets[] | [.name, .seed_dir] | @tsv')
[ -n "$seeds" ] || { echo "error: $bin list --json listed no target" >&2; exit 1; }
n=0
while IFS=$'\t' read -r target dir; do
  [ -d "$dir" ] || { echo "error: $dir: seed directory of $target missing" >&2; exit 1; }
  mkdir -p "$root/opt/diverge/seeds/$target"
  cp -R "$dir/." "$root/opt/diverge/seeds/$target/"
  n=$((n + 1))
done <<<"$seeds"
echo "stage: $root: diverge, entrypoint, $(ls "$root/opt/diverge/corpora/states" | paste -sd, -) pool(s), $n seed corpora ($(find "$root/opt/diverge/seeds" -type f ! -name PROVENANCE | wc -l) seeds), $(du -sh "$root" | cut -f1)"
