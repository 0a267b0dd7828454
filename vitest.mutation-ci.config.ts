import mutation from "./vitest.mutation.config.ts";

// The engine's own tests: what `npm run mutation:ci` (stryker.ci.config.mjs) runs against each mutant.
// (Spread, not mergeConfig: mergeConfig would append this list to the full suite's.)
export default {
  ...mutation,
  test: {
    ...mutation.test,
    include: [
      "test/corefile.test.ts",
      "test/container-array.test.ts",
      "test/option-layers.test.ts",
      "test/strip.test.ts",
      "test/normalize.test.ts",
      "test/memory.test.ts",
      "test/inject.test.ts",
      "test/inject.property.test.ts",
      "test/inject-bridge.property.test.ts",
      "test/validation.test.ts",
      "test/corpus.test.ts",
      "test/bridge.test.ts",
      "test/data-plane.test.ts",
    ],
  },
};
