#!/usr/bin/env node
// `npm run mutation [-- stryker options]`: runs StrykerJS (stryker.config.mjs), then prints the score per
// folder and the surviving mutants (scripts/mutation-report.mjs). Extra arguments go to `stryker run`,
// e.g. `npm run mutation -- --mutate "shared/engine/**/*.ts"` or `-- --force` for a full, non-incremental run.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const stryker = fileURLToPath(
  new URL("../node_modules/@stryker-mutator/core/bin/stryker.js", import.meta.url),
);
const run = spawnSync(process.execPath, [stryker, "run", ...process.argv.slice(2)], { stdio: "inherit" });
if (run.status !== 0) process.exit(run.status ?? 1);
const report = spawnSync(process.execPath, ["scripts/mutation-report.mjs"], { stdio: "inherit" });
process.exit(report.status ?? 1);
