/**
 * ECS's request limits as inject() meets them on both paths (sidecars and bridge): 50 tags with the marker
 * tags included (three when a source revision is recorded), 64 KiB of request with the cache included,
 * each limit reached exactly and passed by one.
 */
import { describe, expect, it } from "vitest";
import { MARKER_TAGS, MAX_REQUEST_BYTES } from "#shared/engine/constants.ts";
import { REFUSAL_REASONS } from "#shared/engine/errors.ts";
import { type Injected, type InjectResult, inject } from "#shared/engine/inject.ts";
import type { TaskDefinitionInput } from "#shared/engine/task-definition.ts";
import { fargateApp } from "./helpers/fixtures.ts";

function bridgeApp(overrides: Partial<TaskDefinitionInput> = {}): TaskDefinitionInput {
  return {
    family: "web",
    networkMode: "bridge",
    requiresCompatibilities: ["EC2"],
    memory: "1024",
    containerDefinitions: [
      { name: "web", image: "nginx:1.27", essential: true, memoryReservation: 256 },
      { name: "worker", image: "nginx:1.27", essential: false, memory: 128 },
      { name: "batch", image: "nginx:1.27", essential: false },
    ],
    tags: [{ key: "dns-cache", value: "enabled" }],
    ...overrides,
  };
}

const PATHS = [
  ["awsvpc", fargateApp],
  ["bridge", bridgeApp],
] as const;

function injected(result: InjectResult): Injected {
  if (result.outcome !== "injected") throw new Error(`refused: ${JSON.stringify(result.refusals)}`);
  return result;
}

/** `count` tags, dns-cache's opt-in tag first. */
function tags(count: number) {
  return [
    { key: "dns-cache", value: "enabled" },
    ...Array.from({ length: count - 1 }, (_, i) => ({ key: `t${i}`, value: "v" })),
  ];
}

describe.each(PATHS)("the %s path", (path, make) => {
  it.each([
    [48, undefined, "injected"],
    [49, undefined, "refused"],
    [47, 7, "injected"],
    [48, 7, "refused"],
  ])("with %i tags and source revision %s: %s", (count, sourceRevision, outcome) => {
    const context = sourceRevision === undefined ? {} : { sourceRevision };
    const result = inject(make({ tags: tags(count) }), context);
    expect(result.outcome).toBe(outcome);
    if (result.outcome === "refused") {
      const markers = sourceRevision === undefined ? 2 : 3;
      expect(result.refusals).toEqual([
        {
          reason: REFUSAL_REASONS.TOO_MANY_TAGS,
          message: `the definition has ${count} tags; dns-cache's ${markers} marker tags would pass ECS's limit of 50`,
        },
      ]);
    } else {
      expect(result.definition.tags).toHaveLength(50);
      expect(result.path).toBe(path);
      if (sourceRevision === undefined) expect(result).not.toHaveProperty("sourceRevision");
      else expect(result.sourceRevision).toBe(sourceRevision);
      expect(result.definition.tags?.slice(count).map((t) => t.key)).toEqual([
        MARKER_TAGS.version,
        MARKER_TAGS.options,
        ...(sourceRevision === undefined ? [] : [MARKER_TAGS.sourceRevision]),
      ]);
    }
  });

  it("injects a definition that comes to exactly 64 KiB with the cache, and refuses one a byte larger, giving both sizes", () => {
    const padded = (length: number) => {
      const definition = make();
      const [first] = definition.containerDefinitions;
      if (first) first.environment = [{ name: "PADDING", value: "x".repeat(length) }];
      return definition;
    };
    const sizeOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
    const small = injected(inject(padded(1000)));
    const exact = 1000 + MAX_REQUEST_BYTES - sizeOf(small.definition);
    const fits = injected(inject(padded(exact)));
    expect(sizeOf(fits.definition)).toBe(MAX_REQUEST_BYTES);

    const over = padded(exact + 1);
    const result = inject(over);
    expect(result).toEqual({
      outcome: "refused",
      wasInjected: false,
      warnings: [],
      refusals: [
        {
          reason: REFUSAL_REASONS.DEFINITION_TOO_LARGE,
          message: `with the cache the definition would be ${MAX_REQUEST_BYTES + 1} bytes, over ECS's limit of ${MAX_REQUEST_BYTES} (it is ${sizeOf(over)} bytes without it)`,
        },
      ],
    });
  });
});

describe("a bridge injection's memory account", () => {
  it("counts each container's reservation, else its hard limit, adds nothing, and reads the task memory", () => {
    expect(injected(inject(bridgeApp())).memory).toEqual({ containers: 256 + 128, added: 0, task: 1024 });
    expect(injected(inject(bridgeApp({ memory: "2 GB" }))).memory.task).toBe(2048);
    const noTaskMemory = bridgeApp();
    delete noTaskMemory.memory;
    const { memory } = injected(inject(noTaskMemory));
    expect(memory).toEqual({ containers: 384, added: 0 });
    expect(memory).not.toHaveProperty("task");
  });
});
