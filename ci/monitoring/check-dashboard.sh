#!/usr/bin/env bash
# Checks the Grafana dashboard against the metrics diverge really exposes: the JSON parses; every
# panel has an id (unique), a title, a type, a position and a Prometheus datasource; every panel
# but a row has at least one query; every PromQL expression (panels and template variables)
# names at least one metric, and every metric it names is one `diverge metric-names` prints (the
# names the exposition of differential/src/metrics.rs gives, counters with `_total`).
# With a URL (a running `diverge fuzz --metrics`), also checks that every series name the scrape
# shows is one `diverge metric-names` prints, and lists which dashboard metrics the scrape has.
#
#   bash ci/monitoring/check-dashboard.sh [http://127.0.0.1:9187/metrics]
# Environment: DIVERGE (default target/release/diverge, built by scripts/test.sh), DASHBOARD.
set -euo pipefail
cd "$(dirname "$0")/../.."
dash=${DASHBOARD:-ci/monitoring/diverge-dashboard.json}
diverge=${DIVERGE:-${CARGO_TARGET_DIR:-target}/release/diverge}
command -v jq >/dev/null || { echo "error: jq not found (ci/install-deps.sh installs it)" >&2; exit 2; }
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

# A live scrape, when given.
if [ $# -gt 0 ]; then
  page=$(curl -fsS --max-time 10 "$1") || { echo "error: cannot scrape $1" >&2; exit 1; }
  scraped=$(sed -nE 's/^# TYPE ([^ ]+) .*/\1/p' <<<"$page" | sort -u)
  for m in $scraped; do
    grep -qxF "$m" <<<"$known" || bad "scrape of $1 shows $m, which diverge metric-names does not list"
  done
  echo "scrape $1: $(wc -w <<<"$scraped") series names; dashboard metrics present: $(comm -12 <(printf '%s\n' "${used[@]}") <(cat <<<"$scraped") | tr '\n' ' ')"
fi
if [ "$fail" -ne 0 ]; then
  echo "check-dashboard: FAILED"
  exit 1
fi
echo "check-dashboard: OK"
