#!/usr/bin/env bash
# Runs the whole test suite: unit, integration (real PostgreSQL, pg_dump/pg_restore, an S3-compatible server),
# bUnit components, then the browser flows in Chromium. Installs what the machine lacks first.
# Run one capability alone with: dotnet test HelloJohn.Console.sln --filter Capability=Backups
set -uo pipefail
cd "$(dirname "$0")"
scripts/install-prerequisites.sh --for-tests || exit 1

results=TestResults
rm -rf "$results"
dotnet build HelloJohn.Console.sln -nologo -v quiet || exit 1

status=0
# One project at a time: two test hosts each starting PostgreSQL clusters and browsers would fight over 2 cores.
dotnet test HelloJohn.Console.Tests --no-build --logger "trx;LogFileName=tests.trx" --results-directory "$results" || status=1
dotnet test e2e/HelloJohn.Console.E2E --no-build --logger "trx;LogFileName=e2e.trx" --results-directory "$results" || status=1

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  n=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters"); e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${n:-0} - ${e:-0}))
done
echo
echo "Tests: $passed passed, $failed failed, $skipped skipped"
[ "$passed" -gt 0 ] || status=1
exit $status
