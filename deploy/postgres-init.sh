#!/bin/sh
# Runs once, when the compose PostgreSQL volume is new: HelloJohn's database and the console's own database, each with
# its own role. Passwords come from the environment, never from this file.
set -eu
psql -v ON_ERROR_STOP=1 --username postgres \
  -v hj_pw="$HELLOJOHN_DB_PASSWORD" -v console_pw="$CONSOLE_DB_PASSWORD" <<'SQL'
CREATE ROLE hellojohn LOGIN CREATEDB PASSWORD :'hj_pw';
CREATE DATABASE hellojohn OWNER hellojohn;
CREATE ROLE hellojohn_console LOGIN PASSWORD :'console_pw';
CREATE DATABASE hellojohn_console OWNER hellojohn_console;
SQL
