#!/usr/bin/env bash
# Starts Azurite (the Azure Storage emulator, from npm) on 127.0.0.1 for tests and benchmarks, installing it if needed.
# Blob 10000, queue 10001, table 10002, in memory. Prints the connection string on stdout.
# Usage: scripts/azurite.sh            (idempotent: an Azurite already answering on 10000 is reused)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=tools/azurite
log=/tmp/careworkflows-azurite.log
conn="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"

answering() { (exec 3<>/dev/tcp/127.0.0.1/10000) 2>/dev/null; }

if ! answering; then
  if [ ! -x "$dir/node_modules/.bin/azurite" ]; then
    echo "Azurite not found: installing it (npm)" >&2
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error >&2
  fi
  nohup "$dir/node_modules/.bin/azurite" --silent --inMemoryPersistence --skipApiVersionCheck --disableTelemetry \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 >"$log" 2>&1 &
  for _ in $(seq 1 100); do answering && break; sleep 0.2; done
  answering || { echo "Azurite did not start; see $log" >&2; exit 1; }
fi
echo "$conn"
