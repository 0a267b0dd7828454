// Mutation testing (StrykerJS + its vitest runner): `npm run mutation`, then scripts/mutation-report.mjs
// prints the score per folder and the surviving mutants. See README, "Mutation testing".
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  // related: false: the tests that reach a mutant are known from per-test coverage, including those that
  // load the Lambda bundles (built from the instrumented sources in Stryker's sandbox), which vitest's
  // module graph would not relate to the mutated file.
  vitest: { configFile: "vitest.mutation.config.ts", related: false },
  // Each mutant runs only the tests that reach it.
  coverageAnalysis: "perTest",
  mutate: [
    // The pure engine (init script and Corefile generators included) and every function's flow: any
    // folder of shared/ but the adapters, the runtime plumbing and the CLI, so a new flow is picked up.
    "shared/**/*.ts",
    "!shared/{aws,runtime,cli}/**",
    // The test helpers that decide what the code may do: the IAM-vs-code reader and the
    // EventBridge pattern matcher the template checks rely on.
    "test/helpers/sdk-calls.ts",
    "test/support/event-pattern.ts",
  ],
  // Static mutants (module-level constants) need a fresh module graph per mutant: slow, and rarely telling.
  ignoreStatic: true,
  incremental: true,
  incrementalFile: "reports/stryker-incremental.json",
  reporters: ["json", "html", "progress"],
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
  concurrency: 2,
  // Generous: the machine is shared; a timed-out mutant counts as detected, so avoid false ones.
  timeoutMS: 30_000,
  timeoutFactor: 2,
  thresholds: { high: 90, low: 85, break: null },
};
