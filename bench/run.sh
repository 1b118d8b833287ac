#!/usr/bin/env bash
# The HelloJohn Console benchmark in one command (see docs/benchmarks.md):
#   bench/run.sh [--users N] [--reps K] [--verification-reps K] [--catalog-backups N] [--no-end-to-end] [--output FILE]
# It starts a private PostgreSQL cluster under a temporary folder, generates the data, runs every case (the console in
# this process, and its Release build as users run it, driven through its pages), prints one table and removes what it
# created. Progress goes to stderr, the table to stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dotnet build --nologo --verbosity quiet --configuration Release "$here/HelloJohn.Console.Bench" >&2
# The console as deployed (the Dockerfile's command): a Release build with its static assets in wwwroot.
dotnet publish --nologo --verbosity quiet --configuration Release "$here/../HelloJohn.Console.Web" >&2
# The console's own setting (run.sh, Dockerfile): two malloc arenas, for this process and the Release console it starts.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec dotnet run --no-build --configuration Release --project "$here/HelloJohn.Console.Bench" -- run "$@"
