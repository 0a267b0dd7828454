// The mutation subset `.ci/run` runs (`npm run mutation:ci`): the engine's small pure files that shape the
// cache's configuration, against the engine's own tests only, so it takes minutes on two cores. The full
// run is `npm run mutation` (stryker.config.mjs); see README, "Mutation testing".
import base from "./stryker.config.mjs";

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  ...base,
  mutate: [
    "shared/engine/corefile.ts",
    "shared/engine/memory.ts",
    "shared/engine/option-layers.ts",
    "shared/engine/container-array.ts",
    "shared/engine/strip.ts",
  ],
  vitest: { ...base.vitest, configFile: "vitest.mutation-ci.config.ts" },
  // A clean clone has no earlier report to reuse.
  incremental: false,
  jsonReporter: { fileName: "reports/mutation-ci/mutation.json" },
  htmlReporter: { fileName: "reports/mutation-ci/mutation.html" },
};
