#!/usr/bin/env bash
# Rewrites functions/FunctionApp/Functions/WorkflowFunctions.Generated.cs (the Durable Functions wrappers) from the
# orchestrators and activities DurableTaskHosting.RegisterWorkflows registers, then rebuilds so functions.metadata follows.
# Run after adding a workflow (or an activity) to RegisterWorkflows; commit the regenerated file.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/CareWorkflows.Tests/CareWorkflows.Tests.csproj -c Release -v quiet -nologo
(cd tests/CareWorkflows.Tests && CW_WRITE_GENERATED=1 dotnet test --no-build -c Release -- --filter-class '*FunctionsCodegenTests' >/dev/null)
dotnet build tests/CareWorkflows.Tests/CareWorkflows.Tests.csproj -c Release -v quiet -nologo
echo "Regenerated functions/FunctionApp/Functions/WorkflowFunctions.Generated.cs"
