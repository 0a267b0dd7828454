// Bundles the CLI and each Lambda (functions/<name>/handler.ts) with esbuild into dist/.
import { existsSync, readdirSync } from "node:fs";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const functions = existsSync(`${root}functions`)
  ? readdirSync(`${root}functions`, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(`${root}functions/${d.name}/handler.ts`))
      .map((d) => d.name)
  : [];

const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  minify: true,
  sourcemap: true,
  legalComments: "none",
  // ESM builds first: some packages (jsonc-parser) ship a UMD "main" that esbuild cannot follow.
  mainFields: ["module", "main"],
  logLevel: "warning",
  absWorkingDir: root,
  // Lets bundled CommonJS dependencies call require() from inside the ESM bundle.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
};

await Promise.all([
  // The CLI also runs on the host's Node (>= 20) when called outside npm scripts.
  build({ ...common, entryPoints: ["bin/main.ts"], outfile: "dist/cli/index.mjs", target: "node20" }),
  ...functions.map((name) =>
    build({
      ...common,
      entryPoints: [`functions/${name}/handler.ts`],
      outfile: `dist/${name}/index.mjs`,
      target: "node24",
    }),
  ),
]);
