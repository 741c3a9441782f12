#!/usr/bin/env bash
# Builds a protobuf image (FileDescriptorSet with imports and source info) of proto/ with
# protoc, offline: third-party protos come from npm packages, buf/validate from the
# descriptor compiled into @bufbuild/protovalidate. grpc.health.v1 comes from
# grpc-health-check, so reflection can describe the health service. Prints the image path.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }
tmp=.tmp/proto
mkdir -p "$tmp"
node --disable-warning=ExperimentalWarning scripts/validate-descriptor-set.ts "$tmp/validate.binpb"
mapfile -t files < <(cd proto && find . -name '*.proto' -printf '%P\n' | LC_ALL=C sort)
protoc \
  --descriptor_set_in="$tmp/validate.binpb" \
  -I proto -I node_modules/google-proto-files -I node_modules/grpc-health-check/proto \
  --include_imports --include_source_info \
  --descriptor_set_out="$tmp/image.binpb" \
  "${files[@]}" google/rpc/status.proto google/rpc/error_details.proto health/v1/health.proto
echo "$tmp/image.binpb"
