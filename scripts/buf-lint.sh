#!/usr/bin/env bash
# buf lint (STANDARD, see buf.yaml) on our own files of the offline-built image.
set -euo pipefail
cd "$(dirname "$0")/.."
image=$(bash scripts/build-image.sh)
buf lint "$image" --path postpress --config buf.yaml
