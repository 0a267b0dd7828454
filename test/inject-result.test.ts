/**
 * What inject() reports besides the definition, on both paths: invalid option tags refused with their
 * reason, and a refusal that still says whether the input had been injected and which tags were dropped
 * (the injector logs both; the CLI prints the warnings).
 */
import { describe, expect, it } from "vitest";
import { REFUSAL_REASONS } from "#shared/engine/errors.ts";
import { type Injected, type InjectResult, inject } from "#shared/engine/inject.ts";
import type { TaskDefinitionInput } from "#shared/engine/task-definition.ts";
import { fargateApp } from "./helpers/fixtures.ts";

function bridgeApp(overrides: Partial<TaskDefinitionInput> = {}): TaskDefinitionInput {
  return {
    family: "web",
    networkMode: "bridge",
    requiresCompatibilities: ["EC2"],
    containerDefinitions: [{ name: "web", image: "nginx:1.27", essential: true, memoryReservation: 256 }],
    tags: [{ key: "dns-cache", value: "enabled" }],
    ...overrides,
  };
}

function injected(result: InjectResult): Injected {
  if (result.outcome !== "injected") throw new Error(`refused: ${JSON.stringify(result.refusals)}`);
  return result;
}

const DROPPED =
  'tag aws:cloudformation:stack-name dropped: keys beginning with "aws:" are reserved and cannot be set in a request';

/** A described revision, as the injector reads it, with a reserved tag ECS returns but refuses. */
function described(definition: TaskDefinitionInput) {
  const { tags, ...rest } = definition;
  return {
    taskDefinition: { ...rest, revision: 3, status: "ACTIVE" },
    tags: [...(tags ?? []), { key: "aws:cloudformation:stack-name", value: "web" }],
  };
}

describe.each([
  ["awsvpc", fargateApp],
  ["bridge", bridgeApp],
] as const)("the %s path", (_, make) => {
  it("refuses an invalid option tag with INVALID_OPTION, naming the tag and its value", () => {
    const tags = [
      { key: "dns-cache", value: "enabled" },
      { key: "dns-cache:fallback", value: "sometimes" },
    ];
    const r = inject(make({ tags }));
    expect(r.outcome).toBe("refused");
    if (r.outcome !== "refused") return;
    expect(r.refusals.map((x) => x.reason)).toEqual([REFUSAL_REASONS.INVALID_OPTION]);
    expect(r.refusals[0]?.message).toMatch(/dns-cache:fallback.*sometimes/);
  });

  it("says, when it refuses, that the input had been injected and which reserved tags it dropped", () => {
    const first = injected(inject(make()));
    const bad = structuredClone(first.definition);
    bad.tags = [...(bad.tags ?? []), { key: "dns-cache:fallback", value: "sometimes" }];
    const r = inject(described(bad));
    expect(r).toMatchObject({ outcome: "refused", wasInjected: true, warnings: [DROPPED] });
    const invalid = [
      { key: "dns-cache", value: "enabled" },
      { key: "dns-cache:fallback", value: "sometimes" },
    ];
    const fresh = inject(described(make({ tags: invalid })));
    expect(fresh).toMatchObject({ outcome: "refused", wasInjected: false, warnings: [DROPPED] });
  });

  it("warns about the dropped tag when it injects, and records the described revision", () => {
    const r = injected(inject(described(make())));
    expect(r.warnings).toEqual([DROPPED]);
    expect(r.sourceRevision).toBe(3);
    expect(r.wasInjected).toBe(false);
    expect(r.upToDate).toBe(false);
    const again = injected(inject(r.definition));
    expect(again).toMatchObject({ wasInjected: true, upToDate: true, sourceRevision: 3, warnings: [] });
  });
});
