#!/usr/bin/env bash
# Builds the Azure Functions deployable folder and zip:
#   publish/functionapp/       host.json + one folder per function (function.json) + the app, self-contained linux-x64
#   publish/functionapp.zip    the same, for `az functionapp deployment source config-zip`
# The app is self-contained because the Functions custom-handler image has no .NET 10 runtime.
# Usage: scripts/publish.sh [runtime-identifier]   (default linux-x64)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

rid="${1:-linux-x64}"
out=publish/functionapp
rm -rf "$out" publish/functionapp.zip
mkdir -p "$out"

dotnet publish functions/CareWorkflows.Functions.csproj -c Release -r "$rid" --self-contained true \
  -p:DebugType=none -p:UseAppHost=true -o "$out" -v quiet -nologo

cp host.json "$out/"
for dir in functions/FunctionApp/*/; do
  name="$(basename "$dir")"
  [ -f "$dir/function.json" ] || continue
  mkdir -p "$out/$name"
  cp "$dir/function.json" "$out/$name/"
done
# host.json names this file as the custom handler: it must be executable after deployment (zip keeps the mode).
chmod +x "$out/CareWorkflows.Functions"

(cd "$out" && zip -q -r -X ../functionapp.zip .)
echo "Deployable folder: $out ($(find "$out" -name function.json | wc -l) functions)"
echo "Zip: publish/functionapp.zip ($(du -h publish/functionapp.zip | cut -f1))"
