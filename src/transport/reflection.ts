import type * as grpc from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer, type PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { toBinary, type DescFile } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
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
      const service = new ReflectionService(reflectionPackage(files));
      answerEmptyExtensionLists(service, files);
      service.addToServer({
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

/** The part of @grpc/reflection's implementations (v1, and v1alpha built on the same class) we reach into. */
interface ReflectionIndex {
  extensions: Record<string, Record<number, unknown>>;
}

/**
 * @grpc/reflection answers all_extension_numbers_of_type with NOT_FOUND for a message that no
 * extension extends, where the protocol's answer is an empty list; grpcurl, asking this for
 * google.rpc.ErrorInfo, then gives up decoding error details. So every message we describe
 * gets its (empty) entry in the index the answer is read from.
 */
function answerEmptyExtensionLists(service: ReflectionService, files: DescFile[]): void {
  const internals = service as unknown as { v1: ReflectionIndex; v1Alpha: ReflectionIndex };
  for (const file of withDependencies(files)) {
    for (const type of nestedTypes(file)) {
      if (type.kind !== "message") continue;
      for (const index of [internals.v1, internals.v1Alpha]) index.extensions[type.typeName] ??= {};
    }
  }
}
