#!/usr/bin/env bash
# THE test command (README): installs and starts what the tests need (PostgreSQL, Azurite, Chromium), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# PostgreSQL: the contract tests run against it; they fail (not skip) without it.
if [ -z "${CW_TEST_POSTGRES:-}" ]; then
  CW_TEST_POSTGRES="$(scripts/postgres.sh 55432 /tmp/careworkflows-pg-test)"
  export CW_TEST_POSTGRES
fi
echo "PostgreSQL for tests: $CW_TEST_POSTGRES"

# Azurite (Azure Storage emulator, npm): DurableTask.AzureStorage conformance and the Table storage stores.
if [ -z "${CW_TEST_AZURITE:-}" ]; then
  CW_TEST_AZURITE="$(scripts/azurite.sh)"
  export CW_TEST_AZURITE
fi

# Bicep (infra/): compile with the NuGet Bicep CLI; fails on any error or linter warning.
scripts/bicep-build.sh

# Chromium for the browser tests (Debian package; Playwright launches it by path).
if [ -d tests/CareWorkflows.BrowserTests ] && [ -z "${CW_CHROMIUM:-}" ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    echo "Chromium not found: installing it (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq chromium
  fi
  export CW_CHROMIUM="$(command -v chromium)"
fi

dotnet build CareWorkflows.sln -c Release -v quiet -nologo
set +e
dotnet test --solution CareWorkflows.sln -c Release --no-build "$@" 2>&1 | tee /tmp/careworkflows-test-output.txt
status=${PIPESTATUS[0]}
set -e
# One plain summary line for whoever reads the log.
total=$(grep -Eo 'succeeded: [0-9]+' /tmp/careworkflows-test-output.txt | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'failed: [0-9]+' /tmp/careworkflows-test-output.txt | awk '{s+=$2} END {print s+0}')
echo "${total} passed, ${failed} failed"
shots=tests/CareWorkflows.BrowserTests/bin/Release/net10.0/TestResults/screenshots
[ -d "$shots" ] && echo "Browser screenshots: $shots ($(ls "$shots" | wc -l) files)"
exit $status
