#!/usr/bin/env bash
# Starts HelloJohn Console. With no configuration it runs on its embedded default: a private PostgreSQL cluster under
# .data/ with the console's own database and a demo HelloJohn database; it prints the URL and, on first start, the
# administrator's login. Set HELLOJOHN_DATABASE_URL and ConnectionStrings__Console to protect a real deployment.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-prerequisites.sh
exec dotnet run --project HelloJohn.Console.Web "$@"
