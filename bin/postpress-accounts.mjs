#!/usr/bin/env node
// The CLI is TypeScript run by Node >= 24's type stripping; `npm run -s cli -- <command>`
// is the usual way in (npm puts the pinned Node 24, a dependency, first on PATH).
const [major] = process.versions.node.split(".").map(Number);
if (major < 24) {
  console.error(`postpress-accounts needs Node >= 24 (this is ${process.version}); run it as: npm run -s cli -- <command>`);
  process.exit(1);
}
await import("../src/cli.ts");
