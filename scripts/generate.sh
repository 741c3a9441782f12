#!/usr/bin/env bash
# Regenerates gen/ from proto/ (plus google/rpc from google-proto-files and grpc.health.v1
# from grpc-health-check), byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
image=$(bash scripts/build-image.sh)
rm -rf gen
buf generate "$image" --template buf.gen.yaml --path postpress --path google/rpc/status.proto --path google/rpc/error_details.proto --path health/v1/health.proto
