#!/usr/bin/env bash
# Checks the Grafana dashboard against the metrics diverge really exposes: the JSON parses; every
# panel has an id (unique), a title, a type, a position and a Prometheus datasource; every panel
# but a row has at least one query; every PromQL expression (panels and template variables)
# names at least one metric, and every metric it names is one `diverge metric-names` prints (the
# names the exposition of differential/src/metrics.rs gives, counters with `_total`).
# Then a real scrape: of the URL given (a running `diverge fuzz --metrics` or `diverge farm afl
# --metrics`), else of a campaign this script starts (`diverge fuzz --target attestation dkg_packet
# --jobs 1 --metrics 127.0.0.1:0` for a few seconds: dkg_packet's seeds hold known hazards, so the
# findings series is on the page too), scraped after 6 s. On that page: `promtool check metrics`
# (Prometheus' own lint: counters end in _total, no abbreviated units, HELP on every metric, ...)
# must be clean; every series name must be one `diverge metric-names` prints; no signature label;
# and the script lists which dashboard metrics the scrape has.
#
#   bash ci/monitoring/check-dashboard.sh [http://127.0.0.1:9187/metrics]
# Environment: DIVERGE (default target/release/diverge, built by scripts/test.sh), DASHBOARD,
# PROMTOOL (default promtool: Debian's prometheus package, which ci/install-deps.sh installs).
set -euo pipefail
cd "$(dirname "$0")/../.."
dash=${DASHBOARD:-ci/monitoring/diverge-dashboard.json}
diverge=${DIVERGE:-${CARGO_TARGET_DIR:-target}/release/diverge}
command -v jq >/dev/null || { echo "error: jq not found (ci/install-deps.sh installs it)" >&2; exit 2; }
promtool=${PROMTOOL:-promtool}
command -v "$promtool" >/dev/null || { echo "error: $promtool not found (Debian's prometheus package; ci/install-deps.sh installs it)" >&2; exit 2; }
[ -x "$diverge" ] || { echo "error: $diverge not built (cargo build --release -p diverge)" >&2; exit 2; }
jq empty "$dash" 2>/dev/null || { echo "error: $dash: not valid JSON: $(jq empty "$dash" 2>&1)" >&2; exit 1; }

known=$("$diverge" metric-names | cut -f1)
[ -n "$known" ] || { echo "error: $diverge metric-names printed nothing" >&2; exit 1; }
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# Structure.
dups=$(jq -r '[.panels[].id] | group_by(.) | map(select(length > 1) | .[0]) | .[]' "$dash")
[ -z "$dups" ] || bad "duplicate panel ids: $dups"
while IFS=$'\t' read -r id problem; do
  bad "panel $id: $problem"
done < <(jq -r '.panels[] |
  (if (.title // "") == "" then [.id, "no title"] else empty end),
  (if .gridPos.w == null or .gridPos.h == null then [.id, "no gridPos"] else empty end),
  (if .type != "row" and (.datasource.type // "") != "prometheus" then [.id, "datasource is not prometheus"] else empty end),
  (if .type != "row" and ([.targets[]? | select((.expr // "") != "")] | length) == 0 then [.id, "no query"] else empty end)
  | @tsv' "$dash")

# Every PromQL expression: what names it uses, each checked against the exported names.
exprs=$(jq -r '(.panels[] | select(.type != "row") | .title as $t | .targets[] | [$t, .expr]),
               (.templating.list[]? | select(.type == "query") | ["variable $" + .name, (.query.query? // .query)])
               | @tsv' "$dash")
n=0
used=()
while IFS=$'\t' read -r title expr; do
  n=$((n + 1))
  # Drop strings, label matchers, ranges, grouping clauses and label_values' label argument:
  # what is left are function names, keywords, numbers and metric names.
  clean=$(sed -E 's/label_values\(([^,]*),[^)]*\)/\1/g; s/"[^"]*"//g; s/\{[^}]*\}//g; s/\[[^]]*\]//g;
                  s/(by|without|on|ignoring|group_left|group_right)[[:space:]]*\([^)]*\)//g' <<<"$expr")
  names=$(grep -oE '[A-Za-z_:][A-Za-z0-9_:]*' <<<"$clean" \
    | grep -vxE 'sum|min|max|avg|count|stddev|topk|bottomk|quantile|rate|irate|increase|delta|deriv|abs|clamp_min|clamp_max|vector|scalar|time|or|and|unless|offset|bool|histogram_quantile|absent' \
    | sort -u || true)
  [ -n "$names" ] || bad "$title: no metric in: $expr"
  for m in $names; do
    if grep -qxF "$m" <<<"$known"; then
      used+=("$m")
      printf 'ok    %-28s %-38s %s\n' "$title" "$m" "$expr"
    else
      bad "$title: $m is not a metric diverge exports (diverge metric-names) in: $expr"
    fi
  done
done <<<"$exprs"
mapfile -t used < <(printf '%s\n' "${used[@]}" | sort -u)
unused=$(comm -23 <(sort -u <<<"$known") <(printf '%s\n' "${used[@]}"))
echo "dashboard: $(jq '[.panels[] | select(.type != "row")] | length' "$dash") panels, $n queries, ${#used[@]} of $(wc -l <<<"$known") exported metrics used"
[ -z "$unused" ] || echo "not on the dashboard: $(tr '\n' ' ' <<<"$unused")"

# A real scrape: the URL given, or a campaign of our own.
url=${1:-}
if [ -z "$url" ]; then
  tmp=$(mktemp -d)
  trap 'kill "$camp" 2>/dev/null || true; rm -rf "$tmp"' EXIT
  : > "$tmp/err.txt"   # the background job opens it only once it runs
  "$diverge" fuzz --target attestation dkg_packet --jobs 1 --duration 10s --metrics 127.0.0.1:0 \
    --findings "$tmp/findings" > "$tmp/out.txt" 2> "$tmp/err.txt" &
  camp=$!
  for _ in $(seq 100); do
    url=$(sed -n 's|^fuzz: metrics on \(http://[^ ]*/metrics\)$|\1|p' "$tmp/err.txt" 2>/dev/null || true)
    [ -n "$url" ] && break
    kill -0 "$camp" 2>/dev/null || { cat "$tmp/err.txt" >&2; echo "error: diverge fuzz exited before serving metrics" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$url" ] || { echo "error: diverge fuzz printed no metrics address" >&2; exit 1; }
  sleep 6
fi
page=$(curl -fsS --max-time 10 "$url") || { echo "error: cannot scrape $url" >&2; exit 1; }
# Our campaign ends by itself (--duration): wait for it rather than kill it.
[ -z "${camp:-}" ] || wait "$camp" || true
scraped=$(sed -nE 's/^# TYPE ([^ ]+) .*/\1/p' <<<"$page" | sort -u)
[ -n "$scraped" ] || bad "scrape of $url has no series"
for m in $scraped; do
  grep -qxF "$m" <<<"$known" || bad "scrape of $url shows $m, which diverge metric-names does not list"
done
if grep -q 'signature=' <<<"$page"; then bad "scrape of $url has a signature label (unbounded; signatures belong to diverge triage)"; fi
lint=$("$promtool" check metrics <<<"$page" 2>&1) || true
if [ -n "$lint" ]; then
  bad "promtool check metrics on the scrape of $url:"
  sed 's/^/   /' <<<"$lint"
else
  echo "promtool check metrics: clean on the scrape of $url ($(grep -cv '^#' <<<"$page") samples, $(wc -w <<<"$scraped") metrics)"
fi
echo "scrape $url: $(wc -w <<<"$scraped") series names; dashboard metrics present: $(comm -12 <(printf '%s\n' "${used[@]}") <(cat <<<"$scraped") | tr '\n' ' ')"
if [ "$fail" -ne 0 ]; then
  echo "check-dashboard: FAILED"
  exit 1
fi
echo "check-dashboard: OK"
