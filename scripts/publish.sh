#!/usr/bin/env bash
# Builds the Azure Functions deployable (the .NET isolated worker app, functions/FunctionApp):
#   publish/functionapp/       the worker, host.json, functions.metadata, the generated extensions (.azurefunctions/), wwwroot
#   publish/functionapp.zip    the same, for `az functionapp deployment source config-zip`
# Framework-dependent: the Function App's runtime (dotnet-isolated 10.0, set by infra/) provides .NET.
# Usage: scripts/publish.sh [runtime-identifier]   (default linux-x64)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

rid="${1:-linux-x64}"
out=publish/functionapp
rm -rf "$out" publish/functionapp.zip
mkdir -p "$out"

dotnet publish functions/FunctionApp/CareWorkflows.FunctionApp.csproj -c Release -r "$rid" --self-contained false \
  -p:DebugType=none -o "$out" -v quiet -nologo

for required in host.json functions.metadata worker.config.json extensions.json; do
  [ -f "$out/$required" ] || { echo "publish: $required missing from $out" >&2; exit 1; }
done
(cd "$out" && zip -q -r -X ../functionapp.zip .)
echo "Deployable folder: $out ($(grep -c '"scriptFile"' "$out/functions.metadata") functions)"
