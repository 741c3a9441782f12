import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountStatus, Provider } from "../../gen/postpress/accounts/v1/account_pb.js";
import { AccountService, type ListAccountsRequest, type ListAccountsResponse } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { callRpc, WIRES, type Wire } from "../support/clients.ts";
import { BACKENDS, expectFailure, expectOk, mailRequest, startHarness, twitterRequest, uniqueLogin, type Harness } from "./helpers.ts";

const { connectAccount, listAccounts, deleteAccount } = AccountService.method;
type ListInit = Partial<Pick<ListAccountsRequest, "pageSize" | "pageToken" | "provider" | "status">>;

describe.each(BACKENDS)("ListAccounts on %s", (kind) => {
  let h: Harness;
  /** Five accounts of workspace alpha, in creation order: three X, two mail. */
  const x: string[] = [];
  const mail: string[] = [];
  let deletedX: string;

  beforeAll(async () => {
    h = await startHarness(kind);
    for (const request of [twitterRequest(uniqueLogin("lx")), mailRequest(`${uniqueLogin("lm")}@example.org`), twitterRequest(uniqueLogin("lx")), mailRequest(`${uniqueLogin("lm")}@example.org`), twitterRequest(uniqueLogin("lx"))]) {
      const r = await callRpc(h.server, "grpc", connectAccount, request, { apiKey: h.server.apiKey });
      (request.variant?.case === "mail" ? mail : x).push(expectOk(r).accountId);
    }
  });
  afterAll(() => h?.close());

  const list = (wire: Wire, request: ListInit, apiKey = h.server.apiKey) => callRpc(h.server, wire, listAccounts, request, { apiKey });
  const all = () => [...x, ...mail].sort();

  /** Follows next_page_token to the end; returns the pages. */
  async function pages(wire: Wire, request: ListInit): Promise<ListAccountsResponse[]> {
    const out: ListAccountsResponse[] = [];
    let pageToken = "";
    do {
      const page = expectOk(await list(wire, { ...request, pageToken }));
      out.push(page);
      pageToken = page.nextPageToken;
      if (out.length > 10) throw new Error("pagination does not end");
    } while (pageToken !== "");
    return out;
  }

  describe.each(WIRES)("over %s", (wire) => {
    it("pages through five accounts two at a time, oldest first, each exactly once", async () => {
      const got = await pages(wire, { pageSize: 2 });
      expect(got.map((p) => p.accounts.length)).toEqual([2, 2, 1]);
      expect(got.slice(0, -1).every((p) => p.nextPageToken !== "")).toBe(true);
      const ids = got.flatMap((p) => p.accounts.map((a) => a.id));
      expect(ids).toEqual(all());
      const created = got.flatMap((p) => p.accounts.map((a) => timestampMs(a.createTime!)));
      expect(created).toEqual([...created].sort((a, b) => a - b));
    });

    it("filters by provider and status, and pages within a filter", async () => {
      const ids = async (request: ListInit) => (await pages(wire, { pageSize: 1, ...request })).flatMap((p) => p.accounts.map((a) => a.id));
      expect(await ids({ provider: Provider.TWITTER })).toEqual([...x].sort());
      expect(await ids({ provider: Provider.MAIL })).toEqual([...mail].sort());
      expect(await ids({ provider: Provider.OUTLOOK })).toEqual([]);
      expect(await ids({ status: AccountStatus.CONNECTED })).toEqual(all());
      const listed = expectOk(await list(wire, { provider: Provider.MAIL }));
      expect(listed.accounts.every((a) => a.provider === Provider.MAIL && a.status === AccountStatus.CONNECTED)).toBe(true);
      expect(listed.nextPageToken).toBe("");
    });

    it("caps page_size at 250 (251 is limit_too_high) and 0 means the default", async () => {
      expect(expectOk(await list(wire, { pageSize: 250 })).accounts).toHaveLength(5);
      expect(expectOk(await list(wire, { pageSize: 0 })).accounts).toHaveLength(5);
      const tooHigh = expectFailure(await list(wire, { pageSize: 251 }), Code.InvalidArgument, "errors/limit_too_high");
      expect(tooHigh.errorInfo?.metadata.maxPageSize).toBe("250");
      expectFailure(await list(wire, { pageSize: 100_000 }), Code.InvalidArgument, "errors/limit_too_high");
      expectFailure(await list(wire, { pageSize: -1 }), Code.InvalidArgument, "errors/invalid_parameters");
    });

    it.each([
      ["not base64url of an id", "!!not-a-token!!"],
      ["an id of the wrong shape", Buffer.from("acc_123").toString("base64url")],
      ["another kind of id", Buffer.from("ws_01K0000000000000000000000A").toString("base64url")],
      ["longer than 256 characters", "A".repeat(300)],
    ])("rejects a page_token that is %s with INVALID_ARGUMENT", async (_what, pageToken) => {
      const failure = expectFailure(await list(wire, { pageSize: 2, pageToken }), Code.InvalidArgument, "errors/invalid_parameters");
      expect(failure.badRequest?.fieldViolations.map((v) => v.field)).toContain("page_token");
    });
  });

  it("another workspace's page token reveals nothing", async () => {
    const first = expectOk(await list("connect-json", { pageSize: 2 }));
    const other = expectOk(await list("connect-json", { pageSize: 2, pageToken: first.nextPageToken }, h.server.otherApiKey));
    expect(other.accounts.map((a) => a.id).filter((id) => all().includes(id))).toEqual([]);
  });

  // Last: it changes the data the tests above read.
  it("filters on status: a deleted account leaves the default list and shows under DELETED", async () => {
    deletedX = x[1]!;
    expectOk(await callRpc(h.server, "grpc", deleteAccount, { accountId: deletedX }, { apiKey: h.server.apiKey }));
    const ids = async (request: ListInit) => (await pages("grpc-web", { pageSize: 2, ...request })).flatMap((p) => p.accounts.map((a) => a.id));
    const live = all().filter((id) => id !== deletedX);
    expect(await ids({})).toEqual(live);
    expect(await ids({ status: AccountStatus.CONNECTED })).toEqual(live);
    expect(await ids({ status: AccountStatus.DELETED })).toEqual([deletedX]);
    expect(await ids({ status: AccountStatus.DELETED, provider: Provider.TWITTER })).toEqual([deletedX]);
    expect(await ids({ status: AccountStatus.DELETED, provider: Provider.MAIL })).toEqual([]);
    expect(await ids({ provider: Provider.TWITTER })).toEqual(x.filter((id) => id !== deletedX).sort());
  });
});
