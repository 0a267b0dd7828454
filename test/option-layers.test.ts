/**
 * Which value each option takes and where it came from (shared/engine/option-layers.ts), and the exact
 * INVALID_OPTION refusals for option values that contradict each other.
 */
import { describe, expect, it } from "vitest";
import { REFUSAL_REASONS } from "#shared/engine/errors.ts";
import { inject } from "#shared/engine/inject.ts";
import { resolveOptions } from "#shared/engine/option-layers.ts";
import { DEFAULT_OPTIONS } from "#shared/engine/options.ts";
import type { TaskDefinitionInput } from "#shared/engine/task-definition.ts";

const definition = (tags: Array<{ key: string; value: string }> = []): TaskDefinitionInput => ({
  family: "app",
  networkMode: "awsvpc",
  requiresCompatibilities: ["FARGATE"],
  cpu: "256",
  memory: "512",
  containerDefinitions: [{ name: "app", image: "nginx:1.27" }],
  tags,
});

describe("option layers", () => {
  it("each option's source is the strongest layer that sets it; marker tags are never options", () => {
    const { options, sources, errors } = resolveOptions(
      definition([
        { key: "dns-cache:prefetch", value: "off" },
        { key: "dns-cache:fallback", value: "off" },
        { key: "dns-cache:version", value: "1.0.0" },
      ]),
      { deployment: { fallback: true, resolverTimeout: 3 }, explicit: { fallback: true } },
    );
    expect(errors).toEqual([]);
    expect(options).toMatchObject({
      prefetch: false,
      fallback: true,
      resolverTimeout: 3,
      resolverAttempts: 2,
    });
    expect(sources).toMatchObject({
      prefetch: "tag",
      fallback: "flag",
      "resolver-timeout": "deployment",
      "resolver-attempts": "default",
    });
  });

  it("no layers and no tags: every option from the defaults", () => {
    const { options, sources } = resolveOptions({ ...definition(), tags: undefined }, {});
    expect(options).toStrictEqual(DEFAULT_OPTIONS);
    expect(new Set(Object.values(sources))).toEqual(new Set(["default"]));
  });

  it.each([
    [{ memoryReservation: 64, memoryLimit: 64 }, "memory-limit (64 MiB) must be above memory (64 MiB)"],
    [
      { waitFor: "healthy", healthCheck: false },
      "wait-for healthy needs health-check on: ECS waits for HEALTHY only on a container with a health check",
    ],
    [{ healthPort: 19000, metricsPort: 19000 }, "metrics-port and health-port are both 19000"],
  ] as const)("contradicting options %j are refused, saying which", (explicit, message) => {
    const result = inject(definition(), { explicit });
    expect(result.outcome === "refused" && result.refusals).toEqual([
      { reason: REFUSAL_REASONS.INVALID_OPTION, message },
    ]);
  });

  it.each([
    [{ memoryReservation: 64, memoryLimit: 65 }],
    [{ waitFor: "healthy", healthCheck: true }],
    [{ healthPort: 19000, metricsPort: 19001 }],
  ] as const)("%j is consistent", (explicit) => {
    expect(inject(definition(), { explicit }).outcome).toBe("injected");
  });
});
