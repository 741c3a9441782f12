import { ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import type { FieldViolation } from "../errors/app-error.ts";

/** Longest piece of a caller's key or value an error quotes (a key may be megabytes long). */
const QUOTE_MAX = 40;

/**
 * Where a JSON body that protobuf-es refused goes wrong, as one field violation naming the
 * field path (proto names, as validation errors name them) and the offending key or value:
 * an unknown or misspelled key (with the closest known name), an enum value that is not a
 * value name, a value of the wrong JSON type, two fields of one oneof. Values of scalar
 * fields are never quoted (a password sent as a number is still a password); enum values
 * and keys are, cut to a short prefix.
 */
export function locateJsonProblem(schema: DescMessage, json: unknown, path = ""): FieldViolation | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { field: path, description: `expected a JSON object (${schema.name}), got ${jsonType(json)}` };
  }
  const oneofsSeen = new Map<string, string>();
  for (const [key, value] of Object.entries(json)) {
    const field = schema.fields.find((f) => f.jsonName === key || f.name === key);
    if (!field) return { field: join(path, cut(key)), description: unknownKey(schema, key) };
    const at = join(path, field.name);
    if (value === null) continue;
    if (field.oneof) {
      const other = oneofsSeen.get(field.oneof.name);
      if (other) return { field: at, description: `only one of ${field.oneof.fields.map((f) => f.name).join(", ")} may be set (${other} is set too)` };
      oneofsSeen.set(field.oneof.name, field.name);
    }
    const problem = fieldProblem(field, value, at);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * The violation of a refusal our walk does not explain, from the library's message: only the
 * key or field name it mentions is kept, never a value it may quote.
 */
export function libraryViolation(cause: unknown): FieldViolation {
  const message = cause instanceof Error ? cause.message : "";
  const duplicate = /duplicate object key "([^"]*)"/.exec(message)?.[1];
  if (duplicate !== undefined) return { field: cut(duplicate), description: `the key ${quote(duplicate)} appears more than once` };
  return { field: /field [\w.]*?(\w+) /.exec(message)?.[1] ?? "", description: "not a valid value for this field" };
}

function fieldProblem(field: DescField, value: unknown, at: string): FieldViolation | undefined {
  switch (field.fieldKind) {
    case "message":
      return wellKnown(field.message) ? undefined : locateJsonProblem(field.message, value, at);
    case "enum":
      return enumProblem(field.enum, value, at);
    case "scalar":
      return scalarProblem(field.scalar, value, at);
    case "list": {
      if (!Array.isArray(value)) return { field: at, description: `expected a JSON array, got ${jsonType(value)}` };
      for (const [i, item] of value.entries()) {
        const itemAt = `${at}[${i}]`;
        const problem =
          field.listKind === "message" ? (wellKnown(field.message) ? undefined : locateJsonProblem(field.message, item, itemAt))
          : field.listKind === "enum" ? enumProblem(field.enum, item, itemAt)
          : scalarProblem(field.scalar, item, itemAt);
        if (problem) return problem;
      }
      return undefined;
    }
    case "map": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return { field: at, description: `expected a JSON object, got ${jsonType(value)}` };
      for (const [key, item] of Object.entries(value)) {
        const itemAt = `${at}[${quote(key)}]`;
        const problem =
          field.mapKind === "message" ? (wellKnown(field.message) ? undefined : locateJsonProblem(field.message, item, itemAt))
          : field.mapKind === "enum" ? enumProblem(field.enum, item, itemAt)
          : scalarProblem(field.scalar, item, itemAt);
        if (problem) return problem;
      }
      return undefined;
    }
  }
}

function enumProblem(desc: DescEnum, value: unknown, at: string): FieldViolation | undefined {
  if (typeof value === "number" && Number.isInteger(value)) return undefined;
  if (typeof value === "string" && desc.values.some((v) => v.name === value)) return undefined;
  const shown = typeof value === "string" ? quote(value) : jsonType(value);
  return { field: at, description: `${shown} is not a value of ${desc.name}; accepted: ${desc.values.map((v) => v.name).join(", ")}` };
}

/** What protobuf's JSON mapping accepts for each scalar: numbers may be JSON strings, integers must be integers in range. */
function scalarProblem(scalar: ScalarType, value: unknown, at: string): FieldViolation | undefined {
  if (scalar === ScalarType.STRING || scalar === ScalarType.BYTES) return typeof value === "string" ? undefined : { field: at, description: `expected a JSON string, got ${jsonType(value)}` };
  if (scalar === ScalarType.BOOL) return typeof value === "boolean" ? undefined : { field: at, description: `expected true or false, got ${jsonType(value)}` };
  const range = INTEGER_RANGES.get(scalar);
  const n = typeof value === "number" ? value : typeof value === "string" && NUMBER.test(value.trim()) ? Number(value) : NaN;
  if (!range) {
    const special = typeof value === "string" && ["NaN", "Infinity", "-Infinity"].includes(value);
    return special || !Number.isNaN(n) ? undefined : { field: at, description: `expected a number, got ${jsonType(value)}` };
  }
  if (Number.isInteger(n) && n >= range[0] && n <= range[1]) return undefined;
  return { field: at, description: `expected an integer from ${range[0]} to ${range[1]}, got ${typeof value === "number" ? "another number" : jsonType(value)}` };
}

const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;
const INT32: [number, number] = [-(2 ** 31), 2 ** 31 - 1];
const UINT32: [number, number] = [0, 2 ** 32 - 1];
const INT64: [number, number] = [-(2 ** 63), 2 ** 63];
const UINT64: [number, number] = [0, 2 ** 64];
const INTEGER_RANGES = new Map<ScalarType, [number, number]>([
  [ScalarType.INT32, INT32], [ScalarType.SINT32, INT32], [ScalarType.SFIXED32, INT32],
  [ScalarType.UINT32, UINT32], [ScalarType.FIXED32, UINT32],
  [ScalarType.INT64, INT64], [ScalarType.SINT64, INT64], [ScalarType.SFIXED64, INT64],
  [ScalarType.UINT64, UINT64], [ScalarType.FIXED64, UINT64],
]);

function unknownKey(schema: DescMessage, key: string): string {
  const names = schema.fields.map((f) => f.name);
  const closest = names.find((n) => editDistance(n, key, 2) <= 2 || editDistance(schema.fields.find((f) => f.name === n)!.jsonName, key, 2) <= 2);
  const hint = closest ? `did you mean "${closest}"? ` : "";
  return `unknown field of ${schema.name}: ${hint}${schema.name} takes ${names.join(", ")}`;
}

/** Levenshtein distance, given up past `max` (keys are compared with field names, both short). */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** google.protobuf types (Timestamp, Duration, wrappers, Struct...) have JSON forms of their own. */
function wellKnown(desc: DescMessage): boolean {
  return desc.typeName.startsWith("google.protobuf.");
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function cut(text: string): string {
  return text.length > QUOTE_MAX ? `${text.slice(0, QUOTE_MAX)}…` : text;
}

function quote(text: string): string {
  return JSON.stringify(cut(text));
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}
