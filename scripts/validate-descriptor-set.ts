// Writes buf/validate/validate.proto (and the well-known types it imports) as a
// FileDescriptorSet, taken from the compiled descriptor @bufbuild/protovalidate ships:
// the .proto file itself is on no registry we can reach.
import { writeFileSync } from "node:fs";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { fileDescriptorSet } from "../src/transport/descriptor-set.ts";

const out = process.argv[2];
if (!out) throw new Error("usage: validate-descriptor-set.ts <out.binpb>");
writeFileSync(out, fileDescriptorSet([file_buf_validate_validate]));
