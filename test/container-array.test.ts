/**
 * A bare containerDefinitions array (Terraform's container_definitions) through the engine
 * (shared/engine/container-array.ts): the notes about what the task definition around it must provide,
 * with the memory figure it needs, and no notes when the array is refused.
 */
import { describe, expect, it } from "vitest";
import { injectContainerArray } from "#shared/engine/container-array.ts";
import { InvalidInputError, REFUSAL_REASONS } from "#shared/engine/errors.ts";

const web = { name: "web", image: "nginx:1.27", memoryReservation: 256, memory: 1024 };
const worker = { name: "worker", image: "busybox:1.37", memoryReservation: 64 };

describe("a bare containerDefinitions array", () => {
  it("says what the task definition must add, with the memory its hard limits and reservations need", () => {
    const { result, notes } = injectContainerArray([web, worker]);
    expect(result.outcome).toBe("injected");
    expect(result.warnings).toEqual([]);
    expect(notes).toEqual([
      'add the volume the dns-cache containers share to the task definition: volume { name = "dns-cache" } in Terraform\'s aws_ecs_task_definition ("volumes": [{"name": "dns-cache"}] in JSON)',
      'the task definition must use network_mode = "awsvpc" (every Fargate task does): the containers must share one network namespace and resolv.conf',
      // web's hard limit (1024) is above the reservations plus dns-cache's (320 + 40).
      "task memory is not in a containerDefinitions array, so the memory check was skipped: the containers reserve 320 MiB and dns-cache adds 40 MiB, so the task's memory must be at least 1024 MiB",
      "options come from flags only: a containerDefinitions array carries no dns-cache:* tags",
    ]);
  });

  it("asks for the reservations plus dns-cache's when no hard limit is above them", () => {
    const { notes } = injectContainerArray([{ ...worker, memoryReservation: 512 }]);
    expect(notes[2]).toBe(
      "task memory is not in a containerDefinitions array, so the memory check was skipped: the containers reserve 512 MiB and dns-cache adds 40 MiB, so the task's memory must be at least 552 MiB",
    );
  });

  it("names a bad container by its index alone (the array is the input)", () => {
    expect(() => injectContainerArray([worker, "web"])).toThrow(
      /^\[1\] is a string \("web"\), expected an object$/,
    );
  });

  it("is up to date only when injecting it changes nothing", () => {
    const first = injectContainerArray([worker]).result;
    if (first.outcome !== "injected") throw new Error("refused");
    expect(first.upToDate).toBe(false);
    const again = injectContainerArray(first.definition.containerDefinitions).result;
    expect(again.outcome === "injected" && again.upToDate).toBe(true);
  });

  it("a refused array gets its refusals and no notes", () => {
    const { result, notes } = injectContainerArray([{ ...worker, portMappings: [{ containerPort: 53 }] }]);
    expect(result.outcome === "refused" && result.refusals.map((r) => r.reason)).toEqual([
      REFUSAL_REASONS.PORT_CONFLICT,
    ]);
    expect(notes).toEqual([]);
  });

  it("an empty array, or containers ECS would refuse, are input errors", () => {
    expect(() => injectContainerArray([])).toThrow(
      new InvalidInputError(
        "an empty array: give a task definition, or a non-empty containerDefinitions array (Terraform's container_definitions)",
      ),
    );
    const deep = JSON.parse(`${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`);
    expect(() => injectContainerArray([{ ...worker, linuxParameters: deep }])).toThrow(
      "the input nests deeper than 100 levels",
    );
    expect(() => injectContainerArray([worker, { ...worker }])).toThrow('two containers are named "worker"');
    expect(() => injectContainerArray([{ ...worker, memory: "64" }])).toThrow(
      "[0].memory must be a number (MiB), not a string: write 64 without quotes",
    );
  });
});
