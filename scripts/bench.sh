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
#   full      5 repeats of chain, fanout, start; 3 of timer-load, timer-burst, timers-1m; order alternating; slices ≥ 3 s.
#             Estimated ≈ 38–40 minutes on an idle 2-core machine — an estimate from per-child costs, not yet run as sized:
#               chain + fanout  10 children × ≈ 10 s (AzureStorage ≈ 20 s)        ≈ 2 min a repeat × 5 ≈ 10 min
#               start           2 children × ≈ 15 s                               ≈ 0.5 min × 5       ≈ 2.5 min
#               timer-load      17 children × ≈ 12 s (3 s window + 3 s cap)       ≈ 3.4 min × 3       ≈ 10 min
#               timer-burst     5 children × ≈ 25 s (100,000 rows + 10 s cap)     ≈ 2 min × 3         ≈ 6 min
#               timers-1m       4 children × ≈ 30 s (+ copying the 1M template: 1–4 s as files)  ≈ 2 min × 3  ≈ 6 min
#               1M-pending templates, seeded once per system by COPY (measured at load average 24: ours 58 s with
#               its clone check, Hangfire 62 s, Quartz 49 s, raw ≈ 5 s; 1.25 GB for ours)                    ≈ 3 min
#             (Measured under load average 25–45, a child took 1.5–2× these.) If the idle run overruns, lower
#             Plan.RepeatsOf in bench/CareWorkflows.Bench/Main.cs for the timer sections first.
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
