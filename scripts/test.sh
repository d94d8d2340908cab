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

# Chromium for the browser tests (Debian package; Playwright launches it by path), with chromium-l10n so date and time
# inputs follow en-GB (dd/mm/yyyy, 24-hour) as our users see them.
if [ -d tests/CareWorkflows.BrowserTests ] && [ -z "${CW_CHROMIUM:-}" ]; then
  if ! command -v chromium >/dev/null 2>&1 || [ ! -f /usr/lib/chromium/locales/en-GB.pak ]; then
    echo "Chromium (or its en-GB locale) not found: installing chromium and chromium-l10n (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq chromium chromium-l10n
  fi
  export CW_CHROMIUM="$(command -v chromium)"
fi

# axe-core (npm, tools/axe) for the browser tests' accessibility checks.
if [ -d tests/CareWorkflows.BrowserTests ] && [ ! -f tools/axe/node_modules/axe-core/axe.min.js ]; then
  echo "axe-core not found: installing it (npm)"
  npm ci --prefix tools/axe --no-audit --no-fund --loglevel=error
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
