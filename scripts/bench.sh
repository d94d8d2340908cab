#!/usr/bin/env bash
# Runs the benchmarks (issue 16): our Durable Task server (PostgreSQL, SQLite) against Microsoft's in-process test host and
# DurableTask.AzureStorage on Azurite; its timers against Hangfire, Quartz.NET and a raw PostgreSQL SKIP LOCKED loop.
# Starts two PostgreSQL servers (throwaway: fsync/synchronous_commit/full_page_writes off; durable: on) and Azurite,
# builds bench/CareWorkflows.Bench in Release, runs every section (each measurement in a child process of its own),
# writes bench/results/<date>-<mode>.{json,md} and regenerates README.md's Performance table from the latest results.
# Usage: scripts/bench.sh [--quick] [--only chain,fanout,timer-load,timer-burst,timers-1m,start,timers] [--no-azure]
#                         [--systems ours-pg,hangfire-8,hangfire-16,quartz,raw-pg,...]   (some systems only: a smoke check)
#        scripts/bench.sh --readme          only regenerate README.md's Performance table from bench/results
#   --quick   smoke check: 1 repeat, small sets (about 12 minutes under load average 30; less idle).
#   full      5 repeats of every section; order alternating between repeats; slices ≥ 3 s. About an hour on an idle
#             2-core machine (per repeat ≈ 12 min: chain + fanout 10 children ≈ 2 min, start 2 ≈ 0.5 min, timer-load 17
#             ≈ 3 min, timer-burst 5 ≈ 2 min, timers-1m 12 ≈ 4 min; plus ≈ 3 min seeding the 1M-pending templates once).
#             The idle full run's duration is in its result file (machine.duration).
# Run the full mode on an otherwise idle machine: the load average at start is recorded with the results.
# Environment: CW_BENCH_PG_PORT (default 55442; the durable server uses PORT+1), CW_BENCH_PG_DIR (default /tmp/cw-bench-pg-$PORT).
set -euo pipefail
cd "$(dirname "$0")/.."
DLL=bench/CareWorkflows.Bench/bin/Release/net10.0/CareWorkflows.Bench.dll
if [ "${1:-}" = "--readme" ]; then
  [ -f "$DLL" ] || dotnet build bench/CareWorkflows.Bench/CareWorkflows.Bench.csproj -c Release -v quiet -nologo >&2
  exec dotnet "$DLL" --readme --out bench/results
fi
PORT="${CW_BENCH_PG_PORT:-55442}"
DIR="${CW_BENCH_PG_DIR:-/tmp/cw-bench-pg-$PORT}"
PG="$(scripts/postgres.sh "$PORT" "$DIR")"
PG_DURABLE_CS="$(PG_DURABLE=1 scripts/postgres.sh "$((PORT + 1))" "$DIR-durable")"
ARGS=(--pg "$PG" --pg-durable "$PG_DURABLE_CS" --out bench/results)
NO_AZURE=0
PASS=()
for a in "$@"; do if [ "$a" = "--no-azure" ]; then NO_AZURE=1; else PASS+=("$a"); fi; done
[ "$NO_AZURE" = "1" ] || ARGS+=(--azurite "$(scripts/azurite.sh)")
dotnet build bench/CareWorkflows.Bench/CareWorkflows.Bench.csproj -c Release -v quiet -nologo >&2
dotnet "$DLL" "${ARGS[@]}" "${PASS[@]}"
dotnet "$DLL" --readme --out bench/results
