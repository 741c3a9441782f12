import type * as grpc from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer, type PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { toBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { fileDescriptorSet, withDependencies } from "./descriptor-set.ts";

type ReflectionHandler = grpc.handleBidiStreamingCall<unknown, unknown>;

/**
 * gRPC server reflection (v1 and v1alpha) describing `files`, built on its first call:
 * indexing every descriptor takes ~150 ms and ~25 MB, for a service only tools such as
 * grpcurl and `buf curl` call. The services are registered at once, from an instance that
 * describes nothing (cheap), and their handlers hand each call to the real one.
 */
export function addLazyReflection(server: Pick<grpc.Server, "addService">, files: DescFile[]): void {
  let handlers: Map<string, ReflectionHandler> | undefined;
  const handlerFor = (path: string): ReflectionHandler => {
    if (!handlers) {
      const built = new Map<string, ReflectionHandler>();
      new ReflectionService(reflectionPackage(files)).addToServer({
        addService: (definition, implementation) => {
          for (const [name, method] of Object.entries(definition)) built.set(method.path, implementation[name] as ReflectionHandler);
        },
      });
      handlers = built;
    }
    return handlers.get(path)!;
  };
  new ReflectionService({}).addToServer({
    addService: (definition, implementation) => {
      const lazy = Object.fromEntries(
        Object.keys(implementation).map((name): [string, ReflectionHandler] => [name, (call) => handlerFor(definition[name]!.path)(call)]),
      );
      server.addService(definition, lazy);
    },
  });
}

/**
 * proto-loader re-encodes files through protobufjs, which drops their import lists, and
 * reflection clients (grpcurl, buf curl) then cannot resolve the imported types. So every
 * entry serves the original descriptors instead.
 */
function reflectionPackage(files: DescFile[]): PackageDefinition {
  const packageDefinition = loadFileDescriptorSetFromBuffer(Buffer.from(fileDescriptorSet(files)));
  const originals = withDependencies(files).map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)));
  for (const definition of Object.values(packageDefinition)) {
    if ("fileDescriptorProtos" in definition) definition.fileDescriptorProtos = originals;
  }
  return packageDefinition;
}
