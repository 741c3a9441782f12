import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { Plugin } from "esbuild";
import { BUNDLE_DIR, MANIFEST, ROOT, stampOf, type Manifest } from "./manifest.ts";

/**
 * The packages taken into the bundle: those start-up loads, with their own dependencies (and
 * protovalidate, which shares @bufbuild/protobuf with them and must not load a second copy).
 * The others stay ordinary imports from node_modules: they load only when a feature is used
 * (drivers, tracing, metrics, reflection, PostgreSQL).
 */
const BUNDLED_PACKAGES = new Set([
  "@bufbuild/protobuf", "@bufbuild/protovalidate", "@bufbuild/cel", "@bufbuild/re2",
  "@grpc/grpc-js", "@js-sdsl/ordered-map", "grpc-health-check",
  "@connectrpc/connect", "@connectrpc/connect-node",
  "ulid",
  // pino's transport worker (LOG_FORMAT=pretty) is found from pino's __dirname, kept below.
  "pino", "@pinojs/redact", "atomic-sleep", "on-exit-leak-free", "pino-std-serializers", "process-warning",
  "quick-format-unescaped", "real-require", "safe-stable-stringify", "sonic-boom", "thread-stream",
]);
/**
 * Files whose change must rebuild the bundle besides the repository's own inputs: this build,
 * and the packages' files as a whole, through the lockfile npm rewrites in node_modules on
 * every `npm ci`, `npm install` or `npm update`. Stamping each of the ~300 package files
 * instead cost every start ~10 ms of CPU for the one change this misses, a hand edit inside
 * node_modules (README: delete the bundle's directory after one).
 */
const BUILD_FILES = ["src/bundle/build.ts", "node_modules/.package-lock.json"];
// Every output goes directly into one directory under BUNDLE_DIR (no chunk subdirectories),
// so a path relative to this one holds for the directory the build ends up in.
const NOMINAL_OUT_DIR = join(BUNDLE_DIR, "out");
// A bundled module shares the chunk's import.meta.url: each chunk names the bundle directory,
// and CommonJS code in it gets its `require` (for Node's built-in modules) from here.
const BANNER = 'import { createRequire as __bundleCreateRequire } from "node:module"; const require = __bundleCreateRequire(import.meta.url); const __bundleUrl = import.meta.url;';

/**
 * Bundles the service (src/serve.ts and everything it imports, its lazy imports as separate
 * chunks that still load only when used) into one directory under node_modules/.cache, and
 * returns the entry's path. Start-up then reads a few files instead of resolving and loading
 * ~450 modules (~280 ms of a ~600 ms start). The output goes to a directory named after its
 * content, renamed into place whole: a process starting meanwhile sees a complete bundle or
 * none, and a server still running from the previous bundle keeps its lazy chunks.
 */
export async function buildBundle(): Promise<string> {
  const esbuild = await import("esbuild");
  const started = Date.now();
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ["src/serve.ts"],
    outdir: NOMINAL_OUT_DIR,
    // .mjs: no package.json above node_modules/.cache says "type": "module", and for a .js file
    // Node would then parse each chunk twice to detect its format (seen in the profile).
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node24",
    sourcemap: "linked",
    banner: { js: BANNER },
    metafile: true,
    write: false,
    logLevel: "silent",
    plugins: [keepPackagesExternal, keepFileLocations],
  });
  const hash = createHash("sha256");
  for (const file of result.outputFiles) hash.update(relative(NOMINAL_OUT_DIR, file.path)).update(file.contents);
  const name = `b-${hash.digest("hex").slice(0, 16)}`;
  const outDir = join(BUNDLE_DIR, name);
  if (!existsSync(outDir)) writeWhole(outDir, result.outputFiles);

  // The modules, not their source maps: only the modules run.
  const outputs = result.outputFiles.filter((file) => file.path.endsWith(".mjs")).map((file) => relative(ROOT, join(outDir, relative(NOMINAL_OUT_DIR, file.path))));
  const ownInputs = Object.keys(result.metafile.inputs).filter((path) => !path.startsWith("node_modules/"));
  const inputs = [...ownInputs, ...BUILD_FILES.filter((path) => existsSync(join(ROOT, path)))];
  const inputStamps = inputs.map((path) => stampOf(path));
  const manifest: Manifest = { entry: join(name, "serve.mjs"), files: [...inputStamps, ...outputs.map((path) => stampOf(path))] };
  // A source saved while the build read the sources may or may not be in it: leave the bundle
  // unrecorded, and the next start builds again.
  if (inputStamps.every(([, mtimeMs]) => mtimeMs < started)) {
    const previous = previousBundleDir();
    replaceFile(MANIFEST, JSON.stringify(manifest));
    removeOldBundles([name, previous]);
  }
  return join(BUNDLE_DIR, manifest.entry);
}

/** Packages not in BUNDLED_PACKAGES, and Node's own modules, are imported at run time as before. */
const keepPackagesExternal: Plugin = {
  name: "keep-packages-external",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, ({ path }) => {
      const name = path.startsWith("@") ? path.split("/").slice(0, 2).join("/") : path.split("/")[0]!;
      return BUNDLED_PACKAGES.has(name) ? undefined : { external: true };
    });
  },
};

/**
 * Modules that find files next to themselves (docs/openapi.json, package.json, createRequire)
 * keep finding them from their own location: `import.meta.url` becomes the module's original
 * URL, and a CommonJS module's `__dirname`/`__filename` its original path, both relative to
 * the bundle so a moved checkout still works.
 */
const keepFileLocations: Plugin = {
  name: "keep-file-locations",
  setup(build) {
    build.onLoad({ filter: /\.(ts|js|cjs|mjs)$/ }, ({ path }) => {
      const source = readFileSync(path, "utf8");
      const original = JSON.stringify(relative(NOMINAL_OUT_DIR, path));
      const loader = path.endsWith(".ts") ? "ts" : "js";
      if (source.includes("import.meta.url")) {
        return { contents: source.replaceAll("import.meta.url", `new URL(${original}, import.meta.url).href`), loader };
      }
      if (/\b__(dirname|filename)\b/.test(source)) {
        const locate = `var __filename = require("node:url").fileURLToPath(new URL(${original}, __bundleUrl)), __dirname = require("node:path").dirname(__filename);\n`;
        return { contents: locate + source, loader };
      }
      return undefined;
    });
  },
};

function writeWhole(outDir: string, files: readonly { path: string; contents: Uint8Array }[]): void {
  const staging = `${outDir}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  mkdirSync(staging, { recursive: true });
  try {
    for (const file of files) writeFileSync(join(staging, relative(NOMINAL_OUT_DIR, file.path)), file.contents);
    renameSync(staging, outDir);
  } catch (e) {
    // Another process starting at the same time renamed the same content into place first.
    if (!existsSync(outDir)) throw e;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function replaceFile(path: string, contents: string): void {
  const staging = `${path}.${process.pid}.tmp`;
  writeFileSync(staging, contents);
  renameSync(staging, path);
}

function previousBundleDir(): string | undefined {
  try {
    return dirname((JSON.parse(readFileSync(MANIFEST, "utf8")) as Manifest).entry);
  } catch {
    return undefined;
  }
}

/** Keeps the new bundle and the one before it (a server started from it may still load its lazy chunks). */
function removeOldBundles(keep: (string | undefined)[]): void {
  for (const entry of readdirSync(BUNDLE_DIR)) {
    if (entry.startsWith("b-") && !entry.endsWith(".tmp") && !keep.includes(entry)) rmSync(join(BUNDLE_DIR, entry), { recursive: true, force: true });
  }
}
