import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { createValidator } from "@bufbuild/protovalidate";
import { AppError } from "../errors/app-error.ts";

// Built once per process: the validator compiles and caches each message's rules.
const validator = createValidator();

/**
 * Applies the proto's buf.validate rules. Only missing required fields →
 * errors/missing_parameters; any other broken rule → errors/invalid_parameters.
 * One field violation per broken rule.
 */
export function validateRequest<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): void {
  const result = validator.validate(schema, message);
  if (result.kind === "valid") return;
  if (result.kind === "error") throw new AppError("unexpected_error", { cause: result.error });
  const violations = result.violations.map((v) => ({
    field: pathToString(v.field),
    description: v.message,
    ruleId: v.ruleId,
  }));
  const allMissing = violations.every((v) => v.ruleId === "required");
  throw new AppError(allMissing ? "missing_parameters" : "invalid_parameters", {
    detail: violations.map((v) => `${v.field || "(request)"}: ${v.description}`).join("; "),
    violations: violations.map(({ field, description }) => ({ field, description })),
  });
}
