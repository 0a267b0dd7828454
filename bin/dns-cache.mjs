#!/usr/bin/env node
// Thin launcher: the CLI is bundled to dist/ by `npm run build` (run by `npm ci` through `prepare`).
import { existsSync } from "node:fs";

const bundle = new URL("../dist/cli/index.mjs", import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write("dns-cache: the CLI is not built; run `npm run build` (npm ci does it for you)\n");
  process.exit(1);
}
await import(bundle.href);
