import { createRequire } from "node:module";
import type * as grpc from "@grpc/grpc-js";
import type { PackageDefinition } from "@grpc/proto-loader";
import type { ReflectionService } from "@grpc/reflection";
import { toBinary, type DescFile } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { fileDescriptorSet, withDependencies } from "./descriptor-set.ts";

type ReflectionHandler = grpc.handleBidiStreamingCall<unknown, unknown>;
type ReflectionMethod = grpc.MethodDefinition<unknown, unknown>;

/** The one RPC of reflection v1 and v1alpha: what grpcurl and `buf curl` call. */
const REFLECTION_PATHS = ["/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"];

// CommonJS packages, loaded synchronously on first use (a serializer cannot wait for an import).
const require = createRequire(import.meta.url);

/**
 * gRPC server reflection (v1 and v1alpha) describing `files`, built on its first call: loading
 * @grpc/reflection (protobufjs, and its own .proto files parsed) and indexing every descriptor
 * take ~150 ms and ~25 MB, for a service only tools such as grpcurl and `buf curl` call. Its
 * methods are registered at once under their paths, and their handlers and serializers hand
 * each call to the real ones.
 */
export function addLazyReflection(server: Pick<grpc.Server, "addService">, files: DescFile[]): void {
  let built: Map<string, { method: ReflectionMethod; handler: ReflectionHandler }> | undefined;
  const real = (path: string) => {
    if (!built) {
      const methods = new Map<string, { method: ReflectionMethod; handler: ReflectionHandler }>();
      const { ReflectionService } = require("@grpc/reflection") as typeof import("@grpc/reflection");
      const service = new ReflectionService(reflectionPackage(files));
      answerEmptyExtensionLists(service, files);
      service.addToServer({
        addService: (definition, implementation) => {
          for (const [name, method] of Object.entries(definition)) methods.set(method.path, { method, handler: implementation[name] as ReflectionHandler });
        },
      });
      built = methods;
    }
    return built.get(path)!;
  };
  for (const path of REFLECTION_PATHS) {
    const method: ReflectionMethod = {
      path,
      requestStream: true,
      responseStream: true,
      originalName: "serverReflectionInfo",
      requestSerialize: (value) => real(path).method.requestSerialize(value),
      requestDeserialize: (bytes) => real(path).method.requestDeserialize(bytes),
      responseSerialize: (value) => real(path).method.responseSerialize(value),
      responseDeserialize: (bytes) => real(path).method.responseDeserialize(bytes),
    };
    server.addService({ ServerReflectionInfo: method }, { ServerReflectionInfo: (call: Parameters<ReflectionHandler>[0]) => real(path).handler(call) });
  }
}

/**
 * proto-loader re-encodes files through protobufjs, which drops their import lists, and
 * reflection clients (grpcurl, buf curl) then cannot resolve the imported types. So every
 * entry serves the original descriptors instead.
 */
function reflectionPackage(files: DescFile[]): PackageDefinition {
  const { loadFileDescriptorSetFromBuffer } = require("@grpc/proto-loader") as typeof import("@grpc/proto-loader");
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
