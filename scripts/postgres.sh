#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15+ server on 127.0.0.1 for tests and benchmarks, installing it if needed.
# Prints the connection string on stdout. Usage: scripts/postgres.sh [port] [dir]
# Throwaway settings (fsync, synchronous_commit, full_page_writes off) unless PG_DURABLE=1 (PostgreSQL's durable defaults).
set -euo pipefail
PORT="${1:-55432}"
DIR="${2:-/tmp/careworkflows-pg-$PORT}"

find_bin() {
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return 0; }; done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

BIN="$(find_bin || true)"
if [ -z "$BIN" ]; then
  echo "PostgreSQL not found: installing it (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
  BIN="$(find_bin)"
fi

as_pg() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "$(id -u)" = "0" ] && ! id postgres >/dev/null 2>&1; then useradd -r -M postgres; fi

if ! as_pg "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  if [ ! -f "$DIR/PG_VERSION" ]; then
    rm -rf "$DIR"; mkdir -p "$DIR"
    [ "$(id -u)" = "0" ] && chown postgres "$DIR"
    as_pg "$BIN/initdb" -D "$DIR" -A trust -U postgres >/dev/null
  fi
  FAST="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${PG_DURABLE:-0}" = "1" ] && FAST="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
  as_pg "$BIN/pg_ctl" -D "$DIR" -w -t 60 \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=400 $FAST" \
    -l "$DIR/log" start >&2
fi
echo "Host=127.0.0.1;Port=$PORT;Username=postgres"
