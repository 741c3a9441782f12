import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";

/** gRPC server reflection (v1 and v1alpha, what buf curl and grpcurl use) and grpc.health.v1, without an API key. */

const root = fileURLToPath(new URL("../../", import.meta.url));
const bufScript = join(root, "node_modules/.bin/buf");
const reflectionProtoDir = join(dirname(createRequire(import.meta.url).resolve("@grpc/reflection")), "../proto");
const exec = promisify(execFile);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const methods = AccountService.methods.map((m) => `${AccountService.typeName}/${m.name}`);

function buf(...args: string[]) {
  return exec(process.execPath, [bufScript, ...args], { cwd: root, timeout: 15_000 });
}

describe("buf curl through reflection", () => {
  it("--list-methods lists every AccountService method, ConnectAccount included", async () => {
    const { stdout } = await buf("curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-methods", `http://${server.grpcAddress}`);
    const listed = stdout.split("\n").map((l) => l.trim()).filter(Boolean);
    expect(listed).toContain("postpress.accounts.v1.AccountService/ConnectAccount");
    for (const m of methods) expect(listed).toContain(m);
    // Health is described too, so `buf curl .../grpc.health.v1.Health/Check` works without a proto.
    expect(listed).toContain("grpc.health.v1.Health/Check");
  });

  it("calls a method from reflected descriptors alone (imports such as buf/validate resolve)", async () => {
    const { stdout } = await buf(
      "curl", "--protocol", "grpc", "--http2-prior-knowledge",
      "-H", `x-api-key: ${server.apiKey}`,
      "-d", '{"pageSize": 10}',
      `http://${server.grpcAddress}/postpress.accounts.v1.AccountService/ListAccounts`,
    );
    expect(JSON.parse(stdout)).toEqual({});
  });

  it("a bad call through buf curl carries our ErrorInfo (decodable by the caller)", async () => {
    const stderr = await buf(
      "curl", "--protocol", "grpc", "--http2-prior-knowledge",
      "-H", `x-api-key: ${server.apiKey}`,
      "-d", '{"twitter": {"username": "anna", "email": "nope", "password": "p"}}',
      `http://${server.grpcAddress}/postpress.accounts.v1.AccountService/ConnectAccount`,
    ).then(
      () => "",
      (e: { stderr: string }) => e.stderr,
    );
    const error = JSON.parse(stderr) as { code: string; details: { type: string; value: string }[] };
    expect(error.code).toBe("invalid_argument");
    const infos = error.details.filter((d) => d.type === "google.rpc.ErrorInfo");
    expect(infos).toHaveLength(1);
    const info = fromBinary(ErrorInfoSchema, Buffer.from(infos[0]!.value, "base64"));
    expect(info.metadata.type).toBe("errors/invalid_parameters");
    expect(error.details.map((d) => d.type)).toContain("google.rpc.BadRequest");
  });
});

interface ReflectionResponse {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  allExtensionNumbersResponse?: { baseTypeName: string; extensionNumber?: number[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

/** One request on a raw grpc-js reflection stream (no API key sent). */
function reflect(version: "v1" | "v1alpha", request: Record<string, string>): Promise<ReflectionResponse> {
  const def = loadSync(join(reflectionProtoDir, `grpc/reflection/${version}/reflection.proto`), { keepCase: false, longs: String, defaults: false, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { reflection: Record<string, { ServerReflection: grpc.ServiceClientConstructor }> } };
  const Client = pkg.grpc.reflection[version]!.ServerReflection;
  const client = new Client(server.grpcAddress, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const stream = (client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, ReflectionResponse> }).ServerReflectionInfo();
    stream.on("data", (r: ReflectionResponse) => {
      resolve(r);
      stream.end();
      client.close();
    });
    stream.on("error", (e) => {
      reject(e);
      client.close();
    });
    stream.write(request);
  });
}

describe.each(["v1", "v1alpha"] as const)("reflection %s", (version) => {
  it("lists the services without an API key", async () => {
    const r = await reflect(version, { listServices: "" });
    const names = r.listServicesResponse?.service.map((s) => s.name) ?? [];
    expect(names).toContain("postpress.accounts.v1.AccountService");
  });
  it("serves the file of AccountService with its import list", async () => {
    const r = await reflect(version, { fileContainingSymbol: "postpress.accounts.v1.AccountService" });
    const files = (r.fileDescriptorResponse?.fileDescriptorProto ?? []).map((b) => fromBinary(FileDescriptorProtoSchema, b));
    const file = files.find((f) => f.name === "postpress/accounts/v1/account_service.proto");
    expect(file?.service.map((s) => s.name)).toEqual(["AccountService"]);
    expect(file?.dependency).toContain("buf/validate/validate.proto");
    expect(file?.dependency).toContain("postpress/accounts/v1/variants.proto");
  });
});

describe.each(["v1", "v1alpha"] as const)("reflection %s: extension numbers (what grpcurl asks before decoding error details)", (version) => {
  it.each(["google.rpc.ErrorInfo", "google.rpc.BadRequest", "google.rpc.RetryInfo", "postpress.accounts.v1.ConnectAccountRequest"])(
    "all_extension_numbers_of_type %s is an empty list, not NOT_FOUND",
    async (type) => {
      const r = await reflect(version, { allExtensionNumbersOfType: type });
      expect(r.errorResponse).toBeUndefined();
      expect(r.allExtensionNumbersResponse?.baseTypeName).toBe(type);
      expect(r.allExtensionNumbersResponse?.extensionNumber ?? []).toEqual([]);
    },
  );
  it("a type that does not exist is still NOT_FOUND", async () => {
    const r = await reflect(version, { allExtensionNumbersOfType: "no.such.Message" });
    expect(r.errorResponse?.errorCode).toBe(grpc.status.NOT_FOUND);
  });
});

describe("grpc.health.v1", () => {
  function healthClient() {
    const def = loadSync(healthProtoPath, { keepCase: false, defaults: true, enums: String });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
    return new pkg.grpc.health.v1.Health(server.grpcAddress, grpc.credentials.createInsecure());
  }
  function check(service: string): Promise<{ status: string } | grpc.ServiceError> {
    const client = healthClient();
    return new Promise((resolve) => {
      (client as unknown as { Check(req: object, cb: (e: grpc.ServiceError | null, r: { status: string }) => void): void }).Check({ service }, (err, res) => {
        client.close();
        resolve(err ?? res);
      });
    });
  }
  it("Check reports SERVING for the server and for AccountService, without an API key", async () => {
    expect(await check("")).toEqual({ status: "SERVING" });
    expect(await check("postpress.accounts.v1.AccountService")).toEqual({ status: "SERVING" });
  });
  it("an unknown service is NOT_FOUND", async () => {
    const r = await check("no.such.Service");
    expect((r as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
  });
  it("List reports the server, AccountService and EventService", async () => {
    const client = healthClient();
    const listed = await new Promise<unknown>((resolve) => {
      (client as unknown as { List(req: object, cb: (e: grpc.ServiceError | null, r: unknown) => void): void }).List({}, (err, res) => {
        client.close();
        resolve(err ?? res);
      });
    });
    expect(listed).toEqual({
      statuses: { "": { status: "SERVING" }, "postpress.accounts.v1.AccountService": { status: "SERVING" }, "postpress.accounts.v1.EventService": { status: "SERVING" } },
    });
  });
});
