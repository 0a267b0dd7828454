// Bundles the CLI and each Lambda (functions/<name>/handler.ts) with esbuild into dist/.
// One function builds everything that is deployed: `npm run build`, `npm run bench` and `sam build` (through
// the Makefile: `node scripts/build.mjs --function <name> --outdir <dir>`) all call buildFunction().
//   node scripts/build.mjs                                   everything into dist/
//   node scripts/build.mjs --function <name> --outdir <dir>  one Lambda's artifact (no source maps)
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

export const root = fileURLToPath(new URL("..", import.meta.url));

/** Every Lambda: each folder of functions/ with a handler.ts. */
export function functionNames() {
  const dir = join(root, "functions");
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, "handler.ts")))
    .map((d) => d.name)
    .sort();
}

/** The Lambda handler setting (file.export) of every function's artifact. */
export const HANDLER = "index.handler";

const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  minify: true,
  legalComments: "none",
  // ESM builds first: some packages (jsonc-parser) ship a UMD "main" that esbuild cannot follow.
  mainFields: ["module", "main"],
  logLevel: "warning",
  absWorkingDir: root,
  // Lets bundled CommonJS dependencies call require() from inside the ESM bundle (and each chunk).
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
};

/**
 * A Lambda's esbuild options. Code splitting: whatever the code imports dynamically (the SDK's credential
 * providers and their node:http, the idempotency guard outside inject mode) becomes a chunk that Node
 * loads only if a call needs it, not at every cold start.
 */
export function functionBuildOptions(name, outdir) {
  return {
    ...common,
    entryPoints: { index: `functions/${name}/handler.ts` },
    outdir,
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    outExtension: { ".js": ".mjs" },
    target: "node24",
    // Written apart from the artifact (see buildFunction): never loaded by the function.
    sourcemap: "external",
    metafile: true,
    write: false,
  };
}

/**
 * Builds one Lambda's artifact into `outdir` (emptied first) and, if `mapsDir` is given, its source maps
 * there. Maps stay out of the artifact: enabling them (--enable-source-maps) costs every cold start tens
 * of ms for stack traces that reason codes make rare; `node scripts/symbolicate.mjs` maps a logged stack
 * trace back to the sources with the maps `npm run build` makes from the same commit (the build is
 * deterministic). Returns the esbuild metafile.
 */
export async function buildFunction(name, outdir, mapsDir) {
  const absOut = resolve(root, outdir);
  // It is emptied first: never the project or a folder holding it.
  if (!relative(absOut, root).startsWith("..")) throw new Error(`build: refusing to empty ${absOut}`);
  const result = await build(functionBuildOptions(name, absOut));
  rmSync(absOut, { recursive: true, force: true });
  if (mapsDir) rmSync(resolve(root, mapsDir), { recursive: true, force: true });
  for (const file of result.outputFiles) {
    const rel = relative(absOut, file.path);
    const isMap = file.path.endsWith(".map");
    if (isMap && !mapsDir) continue;
    const target = isMap ? join(resolve(root, mapsDir), rel) : file.path;
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.contents);
  }
  return result.metafile;
}

export async function buildCli() {
  // The CLI also runs on the host's Node (>= 20) when called outside npm scripts.
  await build({
    ...common,
    entryPoints: ["bin/main.ts"],
    outfile: "dist/cli/index.mjs",
    sourcemap: true,
    target: "node20",
  });
}

/** Everything into dist/: dist/<fn>/ (the artifact), dist/sourcemaps/<fn>/, dist/cli/. */
export async function buildAll() {
  const metafiles = {};
  await Promise.all([
    buildCli(),
    ...functionNames().map(async (name) => {
      metafiles[name] = await buildFunction(name, `dist/${name}`, `dist/sourcemaps/${name}`);
    }),
  ]);
  return metafiles;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { function: { type: "string" }, outdir: { type: "string" } } });
  if (values.function) {
    if (!functionNames().includes(values.function)) {
      console.error(`build: no functions/${values.function}/handler.ts`);
      process.exit(2);
    }
    await buildFunction(values.function, values.outdir ?? `dist/${values.function}`);
  } else {
    await buildAll();
  }
}
