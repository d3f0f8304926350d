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
# all targets run even when one fails, and the exit status says if any did.
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

failed=()
n=0
while read -r pkg name; do
  n=$((n + 1))
  echo "== $pkg $name (FUZZTIME=$FUZZTIME)"
  # shellcheck disable=SC2086 # FUZZFLAGS is a list of flags
  if ! "$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" $FUZZFLAGS "$pkg"; then
    failed+=("$pkg $name")
  fi
done < <(targets)

echo "== $n fuzz targets run, ${#failed[@]} failed"
if ((${#failed[@]})); then
  printf '   FAILED: %s\n' "${failed[@]}"
  echo "   (failing inputs are in <package>/testdata/fuzz/<Target>/; go test ./<package>/ replays them)"
  exit 1
fi
