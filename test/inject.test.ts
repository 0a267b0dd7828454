import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  CACHE_CONTAINER,
  HEALTH_PORT_CANDIDATES,
  INIT_CONTAINER,
  MARKER_TAGS,
  VOLUME,
} from "#shared/engine/constants.ts";
import { REFUSAL_REASONS } from "#shared/engine/errors.ts";
import { type Injected, type InjectResult, inject, serialize } from "#shared/engine/inject.ts";
import { normalize } from "#shared/engine/task-definition.ts";
import { VERSION } from "#shared/engine/version.ts";
import { fargateApp } from "./helpers/fixtures.ts";

function injected(result: InjectResult): Injected {
  if (result.outcome !== "injected") throw new Error(`refused: ${JSON.stringify(result.refusals)}`);
  return result;
}

function reasons(result: InjectResult): string[] {
  return result.outcome === "refused" ? result.refusals.map((r) => r.reason) : [];
}

const tag = (key: string, value: string) => ({ key, value });

describe("normalize", () => {
  const described = {
    taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:7",
    revision: 7,
    status: "ACTIVE",
    requiresAttributes: [{ name: "com.amazonaws.ecs.capability.logging-driver.awslogs" }],
    compatibilities: ["EC2", "FARGATE"],
    registeredAt: "2026-11-20T10:00:00.000Z",
    registeredBy: "arn:aws:sts::123456789012:assumed-role/deploy/ci",
    ...fargateApp({ tags: undefined }),
    someFutureField: { nested: [1, 2, 3] },
  };
  delete (described as Record<string, unknown>).tags;

  it("reads the three input forms into the same RegisterTaskDefinition input", () => {
    const tags = [tag("team", "payments")];
    const fromDescribeOutput = normalize({ taskDefinition: described, tags });
    const fromBare = normalize({ ...described, tags });
    const {
      taskDefinitionArn,
      revision,
      status,
      requiresAttributes,
      compatibilities,
      registeredAt,
      registeredBy,
      ...register
    } = described;
    const fromRegister = normalize({ ...register, tags });
    expect(fromDescribeOutput.definition).toEqual(fromRegister.definition);
    expect(fromBare.definition).toEqual(fromRegister.definition);
    expect(fromDescribeOutput.sourceRevision).toBe(7);
    expect(fromDescribeOutput.sourceArn).toBe(taskDefinitionArn);
    expect(fromRegister.sourceRevision).toBeUndefined();
  });

  it("drops only the read-only fields and keeps unknown ones", () => {
    const { definition } = normalize({ taskDefinition: described, tags: [] });
    for (const field of [
      "taskDefinitionArn",
      "revision",
      "status",
      "requiresAttributes",
      "compatibilities",
      "registeredAt",
      "registeredBy",
    ]) {
      expect(definition).not.toHaveProperty(field);
    }
    expect(definition.someFutureField).toEqual({ nested: [1, 2, 3] });
    expect(definition.requiresCompatibilities).toEqual(["FARGATE"]);
  });

  it("drops reserved aws: tags, which a request may not set, and says so", () => {
    const result = injected(
      inject({
        taskDefinition: described,
        tags: [tag("aws:cloudformation:stack-name", "s"), tag("team", "a")],
      }),
    );
    expect(result.definition.tags?.map((t) => t.key)).toEqual([
      "team",
      MARKER_TAGS.version,
      MARKER_TAGS.options,
      MARKER_TAGS.sourceRevision,
    ]);
    expect(result.warnings.join()).toMatch(/aws:cloudformation:stack-name dropped/);
  });

  it.each([
    [[], /got an array; a bare containerDefinitions array .* is accepted by the dns-cache CLI/],
    [{}, /no "containerDefinitions"/],
    ["text", /got a string/],
    [null, /got null/],
    [{ family: "x", containerDefinitions: [] }, /non-empty array/],
    [{ family: "x", containerDefinitions: [{ image: "i" }] }, /containerDefinitions\[0\] has no "name"/],
    [{ containerDefinitions: [{ name: "a" }] }, /no "family"/],
    [{ family: "x", containerDefinitions: [{ name: "a" }, { name: "a" }] }, /two containers are named "a"/],
    [{ taskDefinition: "x" }, /"taskDefinition" is a string/],
    [{ family: "x", containerDefinitions: [{ name: "a", image: "i" }], tags: "t" }, /tags must be an array/],
  ])("rejects %j as not a task definition", (input, message) => {
    expect(() => normalize(input)).toThrow(message);
  });
});

describe("inject", () => {
  it("writes the names other tools and older copies rely on, and the package's version", () => {
    // Literal on purpose: a copy made by an earlier version is recognised (and stripped) by these names.
    const out = injected(inject(fargateApp())).definition;
    expect(out.volumes).toEqual([{ name: "dns-cache" }]);
    const cache = out.containerDefinitions.find((c) => c.name === "dns-cache");
    expect(cache?.mountPoints).toEqual([
      { sourceVolume: "dns-cache", containerPath: "/dns-cache", readOnly: true },
    ]);
    expect(cache?.dockerLabels?.["dns-cache.component"]).toBe("cache");
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(out.tags).toContainEqual({ key: "dns-cache:version", value: pkg.version });
  });

  it("adds the volume, the init and cache containers, and the dependencies, and changes nothing else", () => {
    const source = fargateApp();
    const result = injected(inject(source));
    const out = result.definition;
    expect(out.containerDefinitions.map((c) => c.name)).toEqual(["app", INIT_CONTAINER, CACHE_CONTAINER]);
    expect(out.volumes).toEqual([{ name: VOLUME }]);
    const [app, init, cache] = out.containerDefinitions;
    const { dependsOn, ...appRest } = app ?? { name: "" };
    expect(appRest).toEqual(source.containerDefinitions[0]);
    expect(dependsOn).toEqual([
      { containerName: INIT_CONTAINER, condition: "SUCCESS" },
      { containerName: CACHE_CONTAINER, condition: "START" },
    ]);
    expect(init?.essential).toBe(false);
    expect(init?.entryPoint).toEqual(["sh", "-c"]);
    expect(init?.command?.[0]).toContain("nameserver 127.0.0.1");
    expect(cache?.essential).toBe(false);
    expect(cache?.restartPolicy).toEqual({ enabled: true, restartAttemptPeriod: 60 });
    // A real DNS question for a name the Corefile answers itself, through the copied static busybox.
    expect(cache?.healthCheck).toEqual({
      command: [
        "CMD",
        "/dns-cache/busybox",
        "nslookup",
        "-type=a",
        "-timeout=2",
        "-retry=2",
        "probe.dns-cache.invalid",
        "127.0.0.1",
      ],
      interval: 5,
      timeout: 3,
      retries: 3,
      startPeriod: 10,
    });
    expect(cache?.entryPoint).toEqual(["/dns-cache/busybox", "sh", "/dns-cache/supervise"]);
    expect(cache?.command).toBeUndefined();
    expect(init?.command?.[0]).toContain(`  health 127.0.0.1:${HEALTH_PORT_CANDIDATES[0]}\n`);
    expect(cache?.dependsOn).toEqual([{ containerName: INIT_CONTAINER, condition: "SUCCESS" }]);
    expect(cache?.mountPoints).toEqual([
      { sourceVolume: VOLUME, containerPath: "/dns-cache", readOnly: true },
    ]);
    // The sidecars log where the app logs.
    expect(cache?.logConfiguration).toEqual(source.containerDefinitions[0]?.logConfiguration);
    for (const key of ["family", "networkMode", "requiresCompatibilities", "cpu", "memory"] as const) {
      expect(out[key]).toEqual(source[key]);
    }
    expect(out.tags).toEqual([
      tag("dns-cache", "enabled"),
      tag(MARKER_TAGS.version, VERSION),
      { key: MARKER_TAGS.options, value: expect.stringMatching(/^[0-9a-f]{16}$/) },
    ]);
  });

  it("does not mutate its input", () => {
    const source = fargateApp();
    const copy = structuredClone(source);
    inject(source);
    expect(source).toEqual(copy);
  });

  it("is idempotent byte for byte, and reports an injected definition as up to date", () => {
    const first = injected(inject(fargateApp()));
    const second = injected(inject(JSON.parse(serialize(first.definition))));
    expect(serialize(second.definition)).toBe(serialize(first.definition));
    expect(first.upToDate).toBe(false);
    expect(second.upToDate).toBe(true);
    expect(second.wasInjected).toBe(true);
  });

  it("re-injects a definition injected with other options or by another version, without duplicates", () => {
    const withFallback = injected(inject(fargateApp()));
    const noFallback = injected(inject(withFallback.definition, { explicit: { fallback: false } }));
    expect(noFallback.upToDate).toBe(false);
    expect(noFallback.definition.containerDefinitions.map((c) => c.name)).toEqual([
      "app",
      INIT_CONTAINER,
      CACHE_CONTAINER,
    ]);
    expect(noFallback.definition.containerDefinitions[0]?.dependsOn).toHaveLength(2);
    expect(noFallback.definition.volumes).toHaveLength(1);
    expect(serialize(injected(inject(noFallback.definition)).definition)).toBe(
      serialize(withFallback.definition),
    );

    const old = structuredClone(withFallback.definition);
    for (const c of old.containerDefinitions)
      if (c.dockerLabels?.["dns-cache.version"]) c.dockerLabels["dns-cache.version"] = "0.0.1";
    for (const t of old.tags ?? []) if (t.key === MARKER_TAGS.version) t.value = "0.0.1";
    const upgraded = injected(inject(old));
    expect(upgraded.upToDate).toBe(false);
    expect(serialize(upgraded.definition)).toBe(serialize(withFallback.definition));
  });

  it("recognises its containers by their labels even when the marker tags were lost", () => {
    const first = injected(inject(fargateApp()));
    const untagged = { ...first.definition, tags: [] };
    const again = injected(inject(untagged));
    expect(again.wasInjected).toBe(true);
    expect(again.definition.containerDefinitions.filter((c) => c.name === CACHE_CONTAINER)).toHaveLength(1);
  });

  it("records the source revision, keeping the original one through re-injection", () => {
    const described = { taskDefinition: { ...fargateApp({ tags: undefined }), revision: 5 }, tags: [] };
    const first = injected(inject(described));
    expect(first.definition.tags).toContainEqual(tag(MARKER_TAGS.sourceRevision, "5"));
    const reDescribed = {
      taskDefinition: { ...first.definition, revision: 6, tags: undefined },
      tags: first.definition.tags,
    };
    const second = injected(inject(reDescribed));
    expect(second.sourceRevision).toBe(5);
    expect(injected(inject(fargateApp(), { sourceRevision: 9 })).definition.tags).toContainEqual(
      tag(MARKER_TAGS.sourceRevision, "9"),
    );
  });

  it("waits for HEALTHY only when asked to, and refuses that without a health check", () => {
    const out = injected(inject(fargateApp({ tags: [tag("dns-cache:wait-for", "healthy")] }))).definition;
    expect(out.containerDefinitions[0]?.dependsOn).toEqual([
      { containerName: INIT_CONTAINER, condition: "SUCCESS" },
      { containerName: CACHE_CONTAINER, condition: "HEALTHY" },
    ]);
    const contradiction = inject(
      fargateApp({ tags: [tag("dns-cache:wait-for", "healthy"), tag("dns-cache:health-check", "off")] }),
    );
    expect(reasons(contradiction)).toEqual([REFUSAL_REASONS.INVALID_OPTION]);
    expect(contradiction.outcome === "refused" && contradiction.refusals[0]?.message).toMatch(
      /wait-for healthy needs health-check on/,
    );
    expect(reasons(inject(fargateApp({ tags: [tag("dns-cache:wait-for", "ready")] })))).toEqual([
      REFUSAL_REASONS.INVALID_OPTION,
    ]);
  });

  it("waits for START and adds no health check when health checks are off; the supervisor stays", () => {
    const out = injected(inject(fargateApp({ tags: [tag("dns-cache:health-check", "off")] }))).definition;
    const cache = out.containerDefinitions.find((c) => c.name === CACHE_CONTAINER);
    expect(cache?.healthCheck).toBeUndefined();
    expect(out.containerDefinitions[0]?.dependsOn).toContainEqual({
      containerName: CACHE_CONTAINER,
      condition: "START",
    });
    const script = out.containerDefinitions.find((c) => c.name === INIT_CONTAINER)?.command?.[0] ?? "";
    expect(script).not.toContain("health 127.0.0.1");
    // The supervisor keeps a silent cache restarted whether or not ECS checks its health.
    expect(script).toContain("busybox.new");
    expect(cache?.entryPoint).toEqual(["/dns-cache/busybox", "sh", "/dns-cache/supervise"]);
  });

  it("only copies awslogs log configurations, never secrets or a FireLens router", () => {
    const firelens = fargateApp();
    const [app] = firelens.containerDefinitions;
    if (app)
      app.logConfiguration = {
        logDriver: "awsfirelens",
        options: { Name: "datadog" },
        secretOptions: [{ name: "apikey", valueFrom: "arn:secret" }],
      };
    const out = injected(inject(firelens)).definition;
    expect(
      out.containerDefinitions.find((c) => c.name === CACHE_CONTAINER)?.logConfiguration,
    ).toBeUndefined();
  });
});

describe("options", () => {
  it("takes flags over tags over deployment settings over defaults, and says where each came from", () => {
    const source = fargateApp({
      tags: [tag("dns-cache:upstream", "10.0.0.2"), tag("dns-cache:memory", "48")],
    });
    const result = injected(
      inject(source, {
        deployment: { upstreams: ["1.1.1.1"], prefetch: false, memoryReservation: 64 },
        explicit: { memoryReservation: 40 },
      }),
    );
    expect(result.options.upstreams).toEqual(["10.0.0.2"]);
    expect(result.options.prefetch).toBe(false);
    expect(result.options.memoryReservation).toBe(40);
    expect(result.optionSources).toMatchObject({
      upstream: "tag",
      prefetch: "deployment",
      memory: "flag",
      fallback: "default",
    });
    const script =
      result.definition.containerDefinitions.find((c) => c.name === INIT_CONTAINER)?.command?.[0] ?? "";
    expect(script).toContain("fixed_upstreams='10.0.0.2'");
  });

  it.each([
    ["dns-cache:fallback", "maybe", /expected on or off/],
    ["dns-cache:upstream", "127.0.0.1", /loopback/],
    ["dns-cache:upstream", "not-an-ip", /not an IPv4 or IPv6/],
    ["dns-cache:upstream", "10.0.0.300", /not an IPv4 or IPv6/],
    ["dns-cache:upstream", "10.0.0.2 ::ffff:127.0.0.1", /loopback or unspecified/],
    ["dns-cache:upstream", "0.0.0.0", /loopback or unspecified/],
    ["dns-cache:upstream", "0:0:0:0:0:0:0:1", /loopback or unspecified/],
    ["dns-cache:health-port", "80", /1024 to 65535/],
    ["dns-cache:cache-success", "12", /1024 to 1000000/],
    ["dns-cache:serve-stale", "forever", /duration/],
    ["dns-cache:serve-stale", "1h sometimes", /immediate or verify/],
    ["dns-cache:coredns-image", "bad image", /not an image reference/],
    ["dns-cache:upsteam", "10.0.0.2", /not a dns-cache option/],
  ])("refuses an invalid tag %s=%s with INVALID_OPTION", (key, value, message) => {
    const result = inject(fargateApp({ tags: [tag(key, value)] }));
    expect(reasons(result)).toEqual([REFUSAL_REASONS.INVALID_OPTION]);
    expect(result.outcome === "refused" && result.refusals[0]?.message).toMatch(message);
    expect(result.outcome === "refused" && result.refusals[0]?.message).toContain(key);
  });

  it("renders serve_stale with its refresh mode", () => {
    const script = (tags: Array<{ key: string; value: string }>) =>
      injected(inject(fargateApp({ tags }))).definition.containerDefinitions.find(
        (c) => c.name === INIT_CONTAINER,
      )?.command?.[0];
    // verify by default: expired entries only when the upstream fails, never instead of asking it.
    expect(script([])).toContain("serve_stale 1h verify");
    expect(script([tag("dns-cache:serve-stale", "1h immediate")])).toContain("serve_stale 1h immediate");
    expect(script([tag("dns-cache:serve-stale", "30m verify")])).toContain("serve_stale 30m verify");
    expect(script([tag("dns-cache:serve-stale", "off")])).not.toContain("serve_stale");
  });

  it("refuses contradictory options", () => {
    expect(reasons(inject(fargateApp(), { explicit: { memoryReservation: 64, memoryLimit: 64 } }))).toEqual([
      REFUSAL_REASONS.INVALID_OPTION,
    ]);
    expect(reasons(inject(fargateApp(), { explicit: { healthPort: 19000, metricsPort: 19000 } }))).toEqual([
      REFUSAL_REASONS.INVALID_OPTION,
    ]);
  });
});

describe("refusals", () => {
  it("refuses host and none, saying why; bridge and an absent mode on EC2 take the node cache path", () => {
    const host = inject(fargateApp({ networkMode: "host", requiresCompatibilities: ["EC2"] }));
    expect(reasons(host)).toEqual([REFUSAL_REASONS.NETWORK_MODE_NOT_AWSVPC]);
    expect(host.outcome === "refused" && host.refusals[0]?.message).toMatch(/instance's network stack/);
    const none = inject(fargateApp({ networkMode: "none", requiresCompatibilities: ["EC2"] }));
    expect(none.outcome === "refused" && none.refusals[0]?.message).toMatch(/no network/);
    expect(
      injected(inject(fargateApp({ networkMode: "bridge", requiresCompatibilities: ["EC2"] }))).path,
    ).toBe("bridge");
    const absent = fargateApp({ requiresCompatibilities: ["EC2"] });
    delete absent.networkMode;
    expect(injected(inject(absent)).path).toBe("bridge");
  });

  it("refuses Windows images on EC2 where runtimePlatform is optional", () => {
    const ec2 = fargateApp({ requiresCompatibilities: ["EC2"] });
    const [app] = ec2.containerDefinitions;
    if (app) app.image = "mcr.microsoft.com/windows/servercore:ltsc2022";
    expect(reasons(inject(ec2))).toEqual([REFUSAL_REASONS.WINDOWS_PLATFORM]);
  });

  it("refuses Windows", () => {
    expect(
      reasons(inject(fargateApp({ runtimePlatform: { operatingSystemFamily: "WINDOWS_SERVER_2022_CORE" } }))),
    ).toEqual([REFUSAL_REASONS.WINDOWS_PLATFORM]);
  });

  it("refuses a user container or volume that uses one of its names", () => {
    const named = fargateApp();
    named.containerDefinitions.push({ name: CACHE_CONTAINER, image: "my/dns", essential: false });
    expect(reasons(inject(named))).toEqual([REFUSAL_REASONS.NAME_CONFLICT]);
    expect(reasons(inject(fargateApp({ volumes: [{ name: VOLUME }] })))).toEqual([
      REFUSAL_REASONS.NAME_CONFLICT,
    ]);
  });

  it("never removes a user's container named like ours, even next to stray marker tags", () => {
    const named = fargateApp({ tags: [tag(MARKER_TAGS.version, "0.0.9")] });
    named.containerDefinitions.push({ name: CACHE_CONTAINER, image: "my/dns", essential: false });
    expect(reasons(inject(named))).toEqual([REFUSAL_REASONS.NAME_CONFLICT]);
  });

  it("refuses when two more containers would pass the limit of 10", () => {
    const many = fargateApp({ memory: "4096", cpu: "1024" });
    for (let i = 1; i < 9; i++)
      many.containerDefinitions.push({ name: `side${i}`, image: "i", essential: false });
    expect(reasons(inject(many))).toEqual([REFUSAL_REASONS.TOO_MANY_CONTAINERS]);
    many.containerDefinitions.pop();
    expect(inject(many).outcome).toBe("injected");
  });

  it.each([["512"], [512], ["0.5 GB"], ["0.5gb"]])(
    "refuses when task memory %j is fully reserved, and says what would fit",
    (memory) => {
      const full = fargateApp({ memory: memory as string });
      const [app] = full.containerDefinitions;
      if (app) app.memoryReservation = 500;
      const result = inject(full);
      expect(reasons(result)).toEqual([REFUSAL_REASONS.INSUFFICIENT_MEMORY]);
      expect(result.outcome === "refused" && result.refusals[0]?.message).toMatch(
        /lower container "app"'s memoryReservation from 500 to 472 MiB, or raise the task memory to 1024 MiB/,
      );
    },
  );

  it("fits into what is left, counting memory when there is no reservation, and caps its hard limit at task memory", () => {
    const tight = fargateApp({ memory: "1 GB" });
    const [app] = tight.containerDefinitions;
    if (app) app.memory = 1024 - 40;
    const out = injected(inject(tight));
    expect(out.memory).toEqual({ task: 1024, containers: 984, added: 40 });
    if (app) app.memory = 1024 - 39;
    expect(reasons(inject(tight))).toEqual([REFUSAL_REASONS.INSUFFICIENT_MEMORY]);
    const small = injected(
      inject(fargateApp({ memory: "64", cpu: undefined, requiresCompatibilities: ["EC2"] })),
    );
    expect(small.definition.containerDefinitions.find((c) => c.name === CACHE_CONTAINER)?.memory).toBe(64);
  });

  it("refuses port 53, and an explicit health or metrics port a container declares", () => {
    const dns = fargateApp();
    dns.containerDefinitions[0]?.portMappings?.push({ containerPort: 53, protocol: "udp" });
    expect(reasons(inject(dns))).toEqual([REFUSAL_REASONS.PORT_CONFLICT]);
    const ranged = fargateApp();
    ranged.containerDefinitions[0]?.portMappings?.push({ containerPortRange: "19000-19100" });
    expect(reasons(inject(ranged, { explicit: { healthPort: 19050 } }))).toEqual([
      REFUSAL_REASONS.PORT_CONFLICT,
    ]);
    expect(reasons(inject(ranged, { explicit: { metricsPort: 19100 } }))).toEqual([
      REFUSAL_REASONS.PORT_CONFLICT,
    ]);
  });

  it("moves the automatic health port off ports the app declares", () => {
    const busy = fargateApp();
    busy.containerDefinitions[0]?.portMappings?.push({ containerPort: 18053 }, { containerPort: 18054 });
    expect(injected(inject(busy)).healthPort).toBe(18055);
    const all = fargateApp();
    all.containerDefinitions[0]?.portMappings?.push({ containerPortRange: "18000-18999" });
    expect(reasons(inject(all))).toEqual([REFUSAL_REASONS.PORT_CONFLICT]);
  });

  it("refuses when its marker tags would pass the limit of 50 tags", () => {
    const tags = Array.from({ length: 48 }, (_, i) => tag(`t${i}`, "v"));
    expect(reasons(inject(fargateApp({ tags: [...tags, tag("t48", "v")] })))).toEqual([
      REFUSAL_REASONS.TOO_MANY_TAGS,
    ]);
    expect(inject(fargateApp({ tags })).outcome).toBe("injected");
  });

  it("reports every reason at once", () => {
    const bad = fargateApp({
      networkMode: "bridge",
      runtimePlatform: { operatingSystemFamily: "WINDOWS_SERVER_2019_FULL" },
    });
    expect(reasons(inject(bad)).sort()).toEqual([
      REFUSAL_REASONS.NETWORK_MODE_NOT_AWSVPC,
      REFUSAL_REASONS.WINDOWS_PLATFORM,
    ]);
  });

  it("never writes a marker tag twice, even when a stray one was copied into a plain definition", () => {
    const stray = fargateApp({ tags: [tag(MARKER_TAGS.sourceRevision, "7"), tag(MARKER_TAGS.options, "x")] });
    const out = injected(inject(stray, { sourceRevision: 9 })).definition;
    const keys = (out.tags ?? []).map((t) => t.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(out.tags).toContainEqual(tag(MARKER_TAGS.sourceRevision, "9"));
  });

  it("says Fargate needs awsvpc when networkMode is missing there", () => {
    const fargate = fargateApp();
    delete fargate.networkMode;
    const result = inject(fargate);
    expect(result.outcome === "refused" && result.refusals[0]?.message).toMatch(
      /not set; Fargate requires awsvpc/,
    );
  });

  it("refuses when the sidecars would push the definition over ECS's 64 KiB", () => {
    const big = fargateApp();
    const [app] = big.containerDefinitions;
    if (app)
      app.environment = Array.from({ length: 600 }, (_, i) => ({ name: `VAR_${i}`, value: "x".repeat(90) }));
    const result = inject(big);
    expect(reasons(result)).toEqual([REFUSAL_REASONS.DEFINITION_TOO_LARGE]);
  });

  it("throws a clear input error for task memory ECS would not accept", () => {
    expect(() => inject(fargateApp({ memory: "lots" }))).toThrow(
      /^memory must be a size ECS accepts .*got a string \("lots"\)/,
    );
  });
});
