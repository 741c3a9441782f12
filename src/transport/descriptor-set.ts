import { create, toBinary } from "@bufbuild/protobuf";
import type { DescFile } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/** `roots` and everything they import, dependencies first (the order protoc and proto-loader expect). */
export function withDependencies(roots: DescFile[]): DescFile[] {
  const ordered: DescFile[] = [];
  const seen = new Set<string>();
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) return;
    seen.add(file.name);
    file.dependencies.forEach(visit);
    ordered.push(file);
  };
  roots.forEach(visit);
  return ordered;
}

/**
 * A serialized google.protobuf.FileDescriptorSet of `roots` with their imports. Used at
 * build time to feed buf/validate to protoc, and at run time to feed gRPC reflection.
 */
export function fileDescriptorSet(roots: DescFile[]): Uint8Array {
  return toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: withDependencies(roots).map((f) => f.proto) }));
}
