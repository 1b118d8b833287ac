#!/usr/bin/env bash
# Starts HelloJohn Console from an optimized (Release) build in Production mode. With no configuration it runs on its
# embedded default: a private PostgreSQL cluster under .data/ with the console's own database and a demo HelloJohn
# database; it prints the URL and, on first start, the administrator's login. Set HELLOJOHN_DATABASE_URL and
# ConnectionStrings__Console to protect a real deployment.
#
#   ./run.sh                        Production (the default; also what the container runs)
#   ./run.sh --development          Development mode (detailed error pages), for working on the console itself
#   ./run.sh unlock-user EMAIL      lifts the lockout of an account (e.g. the only administrator's), audited
#
# ASPNETCORE_ENVIRONMENT set in the environment is honoured as an explicit choice too; ASPNETCORE_URLS changes the
# address (default http://127.0.0.1:5080).
set -euo pipefail
cd "$(dirname "$0")"

environment="${ASPNETCORE_ENVIRONMENT:-Production}"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --development) environment=Development ;;
    unlock-user)
      [ $# -ge 2 ] || { echo "Usage: ./run.sh unlock-user EMAIL" >&2; exit 2; }
      args+=(--unlock-user "$2"); shift ;;
    *) args+=("$1") ;;
  esac
  shift
done

scripts/install-prerequisites.sh
export ASPNETCORE_ENVIRONMENT="$environment"
export ASPNETCORE_URLS="${ASPNETCORE_URLS:-http://127.0.0.1:5080}"
# glibc gives every thread that allocates its own malloc arena (up to eight per core) and keeps what was freed in
# them; libzstd's worker threads, new for every backup, then leave the console some 20 MB larger after each backup.
# Two arenas keep it level (docs/benchmarks.md). It must be set before the process starts.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
# --no-launch-profile: the launch profile would switch to Development; the Release build is what users run.
exec dotnet run --project HelloJohn.Console.Web --configuration Release --no-launch-profile -- "${args[@]}"
