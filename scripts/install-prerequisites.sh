#!/usr/bin/env bash
# Installs what the console and its tests need and the machine lacks: PostgreSQL's programs (pg_dump, pg_restore,
# initdb…), Chromium for the browser tests, Node.js for the S3-compatible and SMTP test servers. Debian/Ubuntu (apt-get).
# Usage: scripts/install-prerequisites.sh [--for-tests]
set -euo pipefail

for_tests=false
[ "${1:-}" = "--for-tests" ] && for_tests=true

missing=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
if $for_tests; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "This machine has no apt-get. Install these yourself, then run again: ${missing[*]}" >&2
    exit 1
  fi
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET 10 SDK is required (https://dot.net). Install it, then run again." >&2
  exit 1
fi

if $for_tests; then
  # The S3-compatible server the storage tests start on loopback.
  if [ ! -d HelloJohn.Console.Tests/s3rver/node_modules/s3rver ]; then
    (cd HelloJohn.Console.Tests/s3rver && npm ci --no-audit --no-fund --loglevel=error)
  fi
  # The SMTP server the notification tests start on loopback.
  if [ ! -d HelloJohn.Console.Tests/smtp/node_modules/smtp-server ]; then
    (cd HelloJohn.Console.Tests/smtp && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
