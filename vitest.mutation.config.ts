import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.ts";

// The suite as Stryker runs it for each mutant (stryker.config.mjs). Tests that check packaging or soak
// the adapters under faults and at scale see `DNS_CACHE_MUTATION_RUN` and step aside: they would run for
// every mutant they reach, for minutes, and what they pin is not the logic being mutated.
export default mergeConfig(
  base,
  defineConfig({
    test: {
      env: {
        DNS_CACHE_MUTATION_RUN: "1",
        // Property tests run for every mutant they reach: fewer cases each (the example tests pin the
        // details; the properties still sweep the shapes). The full counts run in `npm test`.
        PROPERTY_RUNS: "50",
        DNS_CACHE_PROPERTY_RUNS: "10",
      },
    },
  }),
);
