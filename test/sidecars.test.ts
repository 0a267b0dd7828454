/**
 * The two containers the sidecar path adds, field by field as ECS receives them, where their logs go, and
 * how the user's containers wait for them.
 */
import { describe, expect, it } from "vitest";
import { CACHE_CONTAINER, INIT_CONTAINER, VOLUME } from "#shared/engine/constants.ts";
import { type Injected, type InjectResult, inject } from "#shared/engine/inject.ts";
import type { Container } from "#shared/engine/task-definition.ts";
import { VERSION } from "#shared/engine/version.ts";
import { fargateApp } from "./helpers/fixtures.ts";

function injected(result: InjectResult): Injected {
  if (result.outcome !== "injected") throw new Error(`refused: ${JSON.stringify(result.refusals)}`);
  return result;
}

const ours = (r: Injected, name: string): Container | undefined =>
  r.definition.containerDefinitions.find((c) => c.name === name);

const awslogs = (group: string) => ({
  logDriver: "awslogs" as const,
  options: { "awslogs-group": group, "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "ecs" },
});

describe("the containers dns-cache adds", () => {
  it("are exactly these: images, users, memory, mounts, labels and logs as the options and the task say", () => {
    const r = injected(
      inject(fargateApp({ memory: "2048", cpu: "512" }), {
        explicit: {
          corednsImage: "registry.example/coredns:1.13.2",
          initImage: "registry.example/busybox:1.37.0",
          memoryReservation: 48,
          memoryLimit: 256,
        },
      }),
    );
    const logConfiguration = fargateApp().containerDefinitions[0]?.logConfiguration;
    expect(ours(r, INIT_CONTAINER)).toEqual({
      name: INIT_CONTAINER,
      image: "registry.example/busybox:1.37.0",
      essential: false,
      user: "0",
      entryPoint: ["sh", "-c"],
      command: [expect.stringContaining("nameserver 127.0.0.1")],
      memoryReservation: 8,
      mountPoints: [{ sourceVolume: VOLUME, containerPath: "/dns-cache", readOnly: false }],
      dockerLabels: { "dns-cache.component": "init", "dns-cache.version": VERSION },
      logConfiguration,
    });
    const { healthCheck, ...cache } = ours(r, CACHE_CONTAINER) ?? { name: "" };
    expect(healthCheck?.command?.[1]).toBe("/dns-cache/busybox");
    expect(cache).toEqual({
      name: CACHE_CONTAINER,
      image: "registry.example/coredns:1.13.2",
      essential: false,
      entryPoint: ["/dns-cache/busybox", "sh", "/dns-cache/supervise"],
      memoryReservation: 48,
      memory: 256,
      readonlyRootFilesystem: true,
      mountPoints: [{ sourceVolume: VOLUME, containerPath: "/dns-cache", readOnly: true }],
      dependsOn: [{ containerName: INIT_CONTAINER, condition: "SUCCESS" }],
      restartPolicy: { enabled: true, restartAttemptPeriod: 60 },
      dockerLabels: { "dns-cache.component": "cache", "dns-cache.version": VERSION },
      logConfiguration,
    });
    expect(r.memory).toEqual({ task: 2048, containers: 0, added: 48 + 8 });
  });

  it("caps the cache's hard limit at the task memory only when the task has one", () => {
    const ec2 = { cpu: undefined, requiresCompatibilities: ["EC2" as const] };
    const limit = (memory: string | undefined) =>
      ours(injected(inject(fargateApp({ ...ec2, memory }))), CACHE_CONTAINER)?.memory;
    expect(limit(undefined)).toBe(128);
    expect(limit("100")).toBe(100);
    expect(limit("4096")).toBe(128);
  });

  it("log where the first essential container logs with awslogs, in a copy of its options", () => {
    const definition = fargateApp();
    const [app] = definition.containerDefinitions;
    if (app) app.logConfiguration = awslogs("/ecs/app");
    definition.containerDefinitions.unshift(
      { name: "agent", image: "agent:1", essential: false, logConfiguration: awslogs("/ecs/agent") },
      { name: "proxy", image: "proxy:1", logConfiguration: { logDriver: "json-file" } },
    );
    const r = injected(inject(definition));
    for (const name of [INIT_CONTAINER, CACHE_CONTAINER])
      expect(ours(r, name)?.logConfiguration, name).toEqual(awslogs("/ecs/app"));
    // Not the app's own object: a later edit of one must not change the other.
    expect(ours(r, CACHE_CONTAINER)?.logConfiguration?.options).not.toBe(
      r.definition.containerDefinitions.find((c) => c.name === "app")?.logConfiguration?.options,
    );
  });

  it("treat a container without `essential` as essential, as ECS does", () => {
    const definition = fargateApp();
    definition.containerDefinitions.unshift({
      name: "first",
      image: "first:1",
      logConfiguration: awslogs("/ecs/first"),
    });
    const r = injected(inject(definition));
    expect(ours(r, CACHE_CONTAINER)?.logConfiguration).toEqual(awslogs("/ecs/first"));
  });

  it("make every user container wait for them after its own dependencies", () => {
    const definition = fargateApp();
    definition.containerDefinitions.push({ name: "db", image: "db:1", essential: false });
    const [app] = definition.containerDefinitions;
    if (app) app.dependsOn = [{ containerName: "db", condition: "START" }];
    const r = injected(inject(definition));
    const wait = [
      { containerName: INIT_CONTAINER, condition: "SUCCESS" },
      { containerName: CACHE_CONTAINER, condition: "START" },
    ];
    expect(r.definition.containerDefinitions.map((c) => [c.name, c.dependsOn])).toEqual([
      ["app", [{ containerName: "db", condition: "START" }, ...wait]],
      ["db", wait],
      [INIT_CONTAINER, undefined],
      [CACHE_CONTAINER, [{ containerName: INIT_CONTAINER, condition: "SUCCESS" }]],
    ]);
  });
});
