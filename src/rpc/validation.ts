import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { isReflectList, isReflectMap, isReflectMessage, pathToString, reflect, type Path } from "@bufbuild/protobuf/reflect";
import type { Validator } from "@bufbuild/protovalidate";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { CredentialService } from "../../gen/postpress/accounts/v1/credential_service_pb.js";
import { EventService } from "../../gen/postpress/accounts/v1/event_service_pb.js";
import { AppError } from "../errors/app-error.ts";
import { clip, ECHO_LIMITS } from "../errors/clip.ts";

// Built once per process: the validator compiles and caches each message's rules. Loaded on
// the first call rather than at start-up, which it would slow by ~35 ms (and ~7 MB); that
// call pays it along with compiling its message's rules, which happens on first use anyway.
let validator: Promise<Validator> | undefined;
const loadValidator = () => import("@bufbuild/protovalidate").then(({ createValidator }) => createValidator({ regexMatch: platformRegexMatch }));

/**
 * `string.pattern` rules matched with the platform RegExp rather than protovalidate's default
 * JavaScript RE2 engine, which took three quarters of validating a GetAccountRequest (about 3 µs
 * of 4). RE2's promise is linear time whatever the pattern; ours are fixed in the proto, anchored
 * character classes with bounded repeats (an account id, a country, a phone number), which a
 * backtracking engine also matches in linear time, on input whose length the proto bounds. No
 * rule builds a pattern from input (no CEL matches()), so the compiled set stays that small.
 */
const compiledPatterns = new Map<string, RegExp>();
function platformRegexMatch(pattern: string, against: string): boolean {
  let regex = compiledPatterns.get(pattern);
  if (regex === undefined) compiledPatterns.set(pattern, (regex = new RegExp(pattern, "u")));
  return regex.test(against);
}

/**
 * Compiles the rules of every request type of the three services now, one type per turn of the event
 * loop, rather than in each RPC's first call after a start: protovalidate parses its rules' CEL
 * on first use, 50–170 ms per request type here (the first ConnectAccount, GetAccount and
 * ListAccounts after a start each waited that long). Run after start-up, it costs it nothing;
 * a call arriving meanwhile waits for one type's compile at most.
 */
export async function precompileRules(): Promise<void> {
  const loaded = await (validator ??= loadValidator());
  for (const method of [AccountService, EventService, CredentialService].flatMap((service) => service.methods)) {
    await new Promise((resolve) => setImmediate(resolve));
    // An empty message plans every field's rules (nested and oneof messages too): the plan is per type.
    loaded.validate(method.input, create(method.input));
  }
}

/**
 * Applies the proto's buf.validate rules. Only missing fields (a `required` rule, or a rule
 * broken only because the field was left out, such as a port of 0 or an empty cookie
 * list: proto3 cannot tell "0" from "not sent") → errors/missing_parameters; any other
 * broken rule → errors/invalid_parameters. One field violation per broken rule.
 */
export async function validateRequest<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Promise<void> {
  const result = (await (validator ??= loadValidator())).validate(schema, message);
  if (result.kind === "valid") return;
  if (result.kind === "error") throw new AppError("unexpected_error", { cause: result.error });
  // Paths hold map keys the caller chose: only a short prefix of each is echoed.
  const violations = result.violations.map((v) => ({
    field: clip(pathToString(v.field), ECHO_LIMITS.field),
    description: clip(v.message, ECHO_LIMITS.description),
    missing: v.ruleId === "required" || (!v.forKey && leftOut(schema, message, v.field)),
  }));
  const allMissing = violations.every((v) => v.missing);
  const listed = violations.slice(0, ECHO_LIMITS.violations);
  const more = violations.length - listed.length;
  throw new AppError(allMissing ? "missing_parameters" : "invalid_parameters", {
    detail: listed.map((v) => `${v.field || "(request)"}: ${v.description}`).join("; ") + (more > 0 ? `; and ${more} more` : ""),
    violations: listed.map(({ field, description }) => ({ field, description })),
  });
}

/** Whether the path ends at a field that is not set (a zero scalar, an empty list or map). */
function leftOut(schema: DescMessage, message: MessageShape<DescMessage>, path: Path): boolean {
  const last = path.at(-1);
  if (last?.kind !== "field") return false;
  let current: unknown = reflect(schema, message, false);
  for (const item of path.slice(0, -1)) {
    if (item.kind === "field" && isReflectMessage(current)) current = current.get(item);
    else if (item.kind === "list_sub" && isReflectList(current)) current = current.get(item.index);
    else if (item.kind === "map_sub" && isReflectMap(current)) current = current.get(item.key);
    else if (item.kind !== "oneof") return false;
  }
  return isReflectMessage(current) && !current.isSet(last);
}
