/**
 * Removing an earlier injection (shared/engine/strip.ts): what is removed, what of the user's is kept, the
 * marker tags read back, and the exact NAME_CONFLICT refusals.
 */
import { describe, expect, it } from "vitest";
import { CACHE_CONTAINER, INIT_CONTAINER, MARKER_TAGS, VOLUME } from "#shared/engine/constants.ts";
import { REFUSAL_REASONS } from "#shared/engine/errors.ts";
import { inject } from "#shared/engine/inject.ts";
import { strip } from "#shared/engine/strip.ts";
import type { TaskDefinitionInput } from "#shared/engine/task-definition.ts";

const plain = (): TaskDefinitionInput => ({
  family: "app",
  networkMode: "awsvpc",
  requiresCompatibilities: ["FARGATE"],
  cpu: "256",
  memory: "1024",
  containerDefinitions: [
    { name: "app", image: "nginx:1.27", dependsOn: [{ containerName: "db", condition: "HEALTHY" }] },
    { name: "db", image: "postgres:17", essential: false },
  ],
  volumes: [{ name: "data" }],
  tags: [{ key: "team", value: "payments" }],
});

function injectedDefinition(context = {}): TaskDefinitionInput {
  const result = inject(plain(), context);
  if (result.outcome !== "injected") throw new Error("refused");
  return result.definition;
}

describe("strip", () => {
  it("gives back the definition before injection: our containers, volume, dependencies and tags gone", () => {
    const stripped = strip(injectedDefinition({ sourceRevision: 12 }));
    const { containerDefinitions, ...rest } = stripped.definition;
    const before = plain();
    expect(rest).toEqual({ ...before, containerDefinitions: undefined });
    // Only the dependencies on our containers go: the user's own stay (db's list is left empty).
    expect(containerDefinitions.map((c) => [c.name, c.dependsOn])).toEqual([
      ["app", [{ containerName: "db", condition: "HEALTHY" }]],
      ["db", []],
    ]);
    expect(stripped).toMatchObject({ wasInjected: true, markerRevision: 12, refusals: [] });
    expect(stripped.markerVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(stripped.markerDigest).toMatch(/^[0-9a-f]{16}$/);
  });

  it("a plain definition comes back as it was, not injected and with no markers", () => {
    expect(strip(plain())).toStrictEqual({ definition: plain(), wasInjected: false, refusals: [] });
  });

  it.each(["12a", "v12", "", "-1"])(
    "a source-revision marker %j that is not a number is not read",
    (value) => {
      const definition = injectedDefinition();
      definition.tags = [...(definition.tags ?? []), { key: MARKER_TAGS.sourceRevision, value }];
      expect(strip(definition).markerRevision).toBeUndefined();
    },
  );

  it("a user's container carrying our label under its own name is not an injection", () => {
    const definition = plain();
    definition.containerDefinitions.push({
      name: "proxy",
      image: "envoy:1",
      dockerLabels: { "dns-cache.component": "cache" },
    });
    expect(strip(definition).wasInjected).toBe(false);
  });

  it("refuses a user's container named like ours, naming it, and removes nothing", () => {
    const definition = plain();
    definition.tags = [...(definition.tags ?? []), { key: MARKER_TAGS.version, value: "0.0.9" }];
    definition.containerDefinitions.push({ name: INIT_CONTAINER, image: "busybox:1.37" });
    const stripped = strip(definition);
    expect(stripped.refusals).toEqual([
      {
        reason: REFUSAL_REASONS.NAME_CONFLICT,
        message: `a container is already named "${INIT_CONTAINER}", a name dns-cache needs for its own container; rename it`,
      },
    ]);
    expect(stripped.definition.containerDefinitions.map((c) => c.name)).toEqual([
      "app",
      "db",
      INIT_CONTAINER,
    ]);
  });

  it("refuses a user's volume named like ours, but not our own volume in an injected definition", () => {
    const definition = plain();
    definition.volumes = [{ name: VOLUME }];
    expect(strip(definition).refusals).toEqual([
      {
        reason: REFUSAL_REASONS.NAME_CONFLICT,
        message: `a volume is already named "${VOLUME}", a name dns-cache needs for its own volume; rename it`,
      },
    ]);
    const injected = injectedDefinition();
    expect(injected.volumes).toContainEqual({ name: VOLUME });
    expect(strip(injected).refusals).toEqual([]);
  });

  it("a revision carrying only our version tag (its containers removed by hand) counts as injected", () => {
    const definition = { ...plain(), tags: [{ key: MARKER_TAGS.version, value: "0.1.0" }] };
    const stripped = strip(definition);
    expect(stripped.wasInjected).toBe(true);
    expect(stripped.definition.tags).toEqual([]);
  });

  it("a bridge injection whose tags were lost is recognised by its undo records, and undone", () => {
    const bridgeApp: TaskDefinitionInput = {
      family: "app",
      networkMode: "bridge",
      requiresCompatibilities: ["EC2"],
      containerDefinitions: [{ name: "app", image: "nginx:1.27", memory: 256 }],
    };
    const result = inject(bridgeApp);
    if (result.outcome !== "injected") throw new Error("refused");
    expect(result.path).toBe("bridge");
    const stripped = strip({ ...result.definition, tags: [] });
    expect(stripped.wasInjected).toBe(true);
    expect(stripped.definition.containerDefinitions).toEqual(bridgeApp.containerDefinitions);
  });

  it("an injection whose marker tags were lost is still recognised by our containers' labels", () => {
    const definition = { ...injectedDefinition(), tags: [] };
    const stripped = strip(definition);
    expect(stripped.wasInjected).toBe(true);
    expect(stripped.definition.containerDefinitions.map((c) => c.name)).toEqual(["app", "db"]);
    expect(stripped.definition.containerDefinitions.some((c) => c.name === CACHE_CONTAINER)).toBe(false);
  });
});
