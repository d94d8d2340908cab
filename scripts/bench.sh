#!/usr/bin/env bash
# Runs the benchmarks (issue 9): starts a throwaway PostgreSQL (scripts/postgres.sh), builds bench/CareWorkflows.Bench
# in Release and runs every section, printing a table and writing bench/results/latest.json and latest.md.
# Usage: scripts/bench.sh [--quick] [--only transitions,timers,hangfire,start,memory]
#   --quick   smoke check, a few minutes (smaller sets, shorter windows); full mode takes up to ~25 minutes.
# Environment: CW_BENCH_PG_PORT (default 55442), CW_BENCH_PG_DIR (default /tmp/cw-bench-pg-$PORT).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${CW_BENCH_PG_PORT:-55442}"
DIR="${CW_BENCH_PG_DIR:-/tmp/cw-bench-pg-$PORT}"
PG="$(scripts/postgres.sh "$PORT" "$DIR")"
dotnet build bench/CareWorkflows.Bench/CareWorkflows.Bench.csproj -c Release -v quiet -nologo >&2
exec dotnet bench/CareWorkflows.Bench/bin/Release/net10.0/CareWorkflows.Bench.dll --pg "$PG" --out bench/results "$@"
