#!/usr/bin/env bash
# Runs every fuzz target of the repository (each `func FuzzXxx` of a
# *_test.go file) for FUZZTIME, one target after the other
# (docs/fuzzing.md).
#
#   scripts/fuzz.sh            run them all (FUZZTIME each, default 2m)
#   scripts/fuzz.sh REGEXP     only targets whose "package Target" matches
#   scripts/fuzz.sh -l [RE]    list the targets, run nothing
#
# Environment: GO (go), FUZZTIME (2m), FUZZFLAGS (extra go test flags,
# default -fuzzminimizetime=10s so a long minimisation does not eat the
# run; add -parallel=1 on a shared machine).
# A failing input is written by go test to <package>/testdata/fuzz/<Target>/;
# all targets run even when one fails, and the exit status says if any did
# (a target that fails without writing an input is reported apart: the Go
# 1.26 fuzz coordinator's deadline race, golang/go#75804).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-2m}
FUZZFLAGS=${FUZZFLAGS:--fuzzminimizetime=10s}

list=0
if [[ ${1:-} == -l ]]; then
  list=1
  shift
fi
filter=${1:-.}

# "./dir Target" for every fuzz target, found in the sources (no build,
# works from a fresh clone; integration/ holds none).
targets() {
  grep -rHo --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . |
    grep -v '^\./integration/' |
    sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#' |
    sort -u | grep -E -- "$filter" || true
}

if ((list)); then
  targets
  exit 0
fi

corpus() { ls "$1/testdata/fuzz/$2" 2>/dev/null || true; }

failed=()
flaked=()
n=0
while read -r pkg name; do
  n=$((n + 1))
  echo "== $pkg $name (FUZZTIME=$FUZZTIME)"
  before=$(corpus "$pkg" "$name")
  # -timeout=0: go test's default 10m would end a long FUZZTIME early.
  # shellcheck disable=SC2086 # FUZZFLAGS is a list of flags
  if ! "$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -timeout=0 $FUZZFLAGS "$pkg"; then
    if [[ "$(corpus "$pkg" "$name")" == "$before" ]]; then
      # No failing input written: Go 1.26's coordinator can report
      # "context deadline exceeded" when -fuzztime ends while a worker is
      # busy (golang/go#75804, fixed in Go 1.27). Not a finding.
      flaked+=("$pkg $name")
    else
      failed+=("$pkg $name")
    fi
  fi
done < <(targets)

echo "== $n fuzz targets run, ${#failed[@]} failed, ${#flaked[@]} ended without a failing input (golang/go#75804)"
if ((${#flaked[@]})); then
  printf '   no input: %s\n' "${flaked[@]}"
fi
if ((${#failed[@]})); then
  printf '   FAILED: %s\n' "${failed[@]}"
  echo "   (failing inputs are in <package>/testdata/fuzz/<Target>/; go test ./<package>/ replays them)"
  exit 1
fi
