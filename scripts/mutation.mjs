#!/usr/bin/env node
// `npm run mutation [-- stryker options]`: runs StrykerJS (stryker.config.mjs), then prints the score per
// folder and the surviving mutants (scripts/mutation-report.mjs). Extra arguments go to `stryker run`,
// e.g. `npm run mutation -- --mutate "shared/engine/**/*.ts"` or `-- --force` for a full, non-incremental run.
// A first argument naming a Stryker config file (`npm run mutation:ci`) runs that config instead.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const stryker = fileURLToPath(
  new URL("../node_modules/@stryker-mutator/core/bin/stryker.js", import.meta.url),
);
const args = process.argv.slice(2);
const configFile = args[0]?.endsWith(".mjs") ? args.shift() : "stryker.config.mjs";
const config = (await import(pathToFileURL(resolve(configFile)).href)).default;
const run = spawnSync(process.execPath, [stryker, "run", configFile, ...args], { stdio: "inherit" });
if (run.status !== 0) process.exit(run.status ?? 1);
const report = spawnSync(process.execPath, ["scripts/mutation-report.mjs", config.jsonReporter.fileName], {
  stdio: "inherit",
});
process.exit(report.status ?? 1);
