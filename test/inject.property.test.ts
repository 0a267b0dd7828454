import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { REFUSAL_REASONS } from "#shared/engine/errors.ts";
import { type InjectContext, type InjectResult, inject, serialize } from "#shared/engine/inject.ts";
import type { PartialOptions } from "#shared/engine/options.ts";
import { bridgeProblems, isBridgeInput } from "./helpers/bridge-invariants.ts";
import {
  declaredPortSpans,
  expectedBase,
  injectedProblems,
  isObject,
  type JsonObject,
  OUR_NAMES,
  taskMemoryMiB,
} from "./helpers/invariants.ts";

// Runs per property (PROPERTY_RUNS overrides it for longer searches); the file runs in a few seconds.
const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 600);

/** Members of RegisterTaskDefinitionRequest and TaskDefinition in the ECS API model, plus wrapper keys. */
const KNOWN_TOP_LEVEL = [
  "family",
  "taskRoleArn",
  "executionRoleArn",
  "networkMode",
  "containerDefinitions",
  "volumes",
  "placementConstraints",
  "requiresCompatibilities",
  "cpu",
  "memory",
  "tags",
  "pidMode",
  "ipcMode",
  "proxyConfiguration",
  "inferenceAccelerators",
  "ephemeralStorage",
  "runtimePlatform",
  "enableFaultInjection",
  "taskDefinitionArn",
  "revision",
  "status",
  "requiresAttributes",
  "compatibilities",
  "registeredAt",
  "deregisteredAt",
  "registeredBy",
  "taskDefinition",
];
/** Members of ContainerDefinition in the ECS API model. */
const KNOWN_CONTAINER = [
  "name",
  "image",
  "repositoryCredentials",
  "cpu",
  "memory",
  "memoryReservation",
  "links",
  "portMappings",
  "essential",
  "restartPolicy",
  "entryPoint",
  "command",
  "environment",
  "environmentFiles",
  "mountPoints",
  "volumesFrom",
  "linuxParameters",
  "secrets",
  "dependsOn",
  "startTimeout",
  "stopTimeout",
  "versionConsistency",
  "hostname",
  "user",
  "workingDirectory",
  "disableNetworking",
  "privileged",
  "readonlyRootFilesystem",
  "dnsServers",
  "dnsSearchDomains",
  "extraHosts",
  "dockerSecurityOptions",
  "interactive",
  "pseudoTerminal",
  "dockerLabels",
  "ulimits",
  "logConfiguration",
  "healthCheck",
  "systemControls",
  "resourceRequirements",
  "firelensConfiguration",
  "credentialSpecs",
];

const KNOWN_REASONS = new Set<string>(Object.values(REFUSAL_REASONS));
const HEALTH_CANDIDATES = [18053, 18054, 18055, 18056, 18057, 18058, 18059, 18060];

const FARGATE_SIZES: Array<[number, number]> = [
  [256, 512],
  [256, 1024],
  [256, 2048],
  ...[1024, 2048, 3072, 4096].map((m): [number, number] => [512, m]),
  ...[2048, 3072, 4096, 6144, 8192].map((m): [number, number] => [1024, m]),
  ...[4096, 8192, 16384].map((m): [number, number] => [2048, m]),
  ...[8192, 16384, 30720].map((m): [number, number] => [4096, m]),
];

// ---------------------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------------------

const unknownKey = (known: readonly string[]) =>
  fc.stringMatching(/^[a-z][A-Za-z0-9]{2,15}$/).filter((k) => !known.includes(k));

const extraFields = (known: readonly string[]) =>
  fc.dictionary(unknownKey(known), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2, noNullPrototype: true });

const containerName = fc
  .stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,20}$/)
  .filter((n) => !OUR_NAMES.includes(n));

const port = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom(80, 443, 3000, 8080, 8181, 9153, 18053, 18054, 18060) },
  { weight: 40, arbitrary: fc.integer({ min: 1, max: 65535 }) },
  { weight: 1, arbitrary: fc.constant(53) },
);

const portMapping = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({ containerPort: port, protocol: fc.constantFrom("tcp", "udp"), sameHostPort: fc.boolean() })
      .map(({ containerPort, protocol, sameHostPort }) =>
        sameHostPort ? { containerPort, hostPort: containerPort, protocol } : { containerPort, protocol },
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 65000 }), fc.integer({ min: 1, max: 3000 }))
      .map(([from, length]) => ({
        containerPortRange: `${from}-${Math.min(65535, from + length)}`,
        protocol: "udp",
      })),
  },
);

const healthCheck = fc.record({
  command: fc.constantFrom(
    ["CMD-SHELL", "curl -fs http://localhost/health || exit 1"],
    ["CMD", "/bin/check"],
  ),
  interval: fc.integer({ min: 5, max: 300 }),
  timeout: fc.integer({ min: 2, max: 60 }),
  retries: fc.integer({ min: 1, max: 10 }),
  startPeriod: fc.integer({ min: 0, max: 300 }),
});

const logConfiguration = fc.constantFrom(
  {
    logDriver: "awslogs",
    options: { "awslogs-group": "/ecs/app", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs" },
  },
  { logDriver: "awsfirelens", options: { Name: "cloudwatch_logs", region: "us-east-1" } },
  { logDriver: "splunk", options: { "splunk-url": "https://splunk.example.com:8088" } },
);

const memoryWanted = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.integer({ min: 6, max: 512 }) },
  { weight: 1, arbitrary: fc.integer({ min: 512, max: 8192 }) },
);
const reservationWanted = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.integer({ min: 4, max: 256 }) },
  { weight: 1, arbitrary: fc.integer({ min: 256, max: 8192 }) },
);

const containerSpec = fc.record({
  image: fc.constantFrom("nginx:1.27", "111122223333.dkr.ecr.us-east-1.amazonaws.com/app:v1", "busybox:1.36"),
  essential: fc.constantFrom(true, true, false, undefined),
  portMappings: fc.option(fc.array(portMapping, { maxLength: 3 }), { nil: undefined }),
  healthCheck: fc.option(healthCheck, { nil: undefined }),
  logConfiguration: fc.option(logConfiguration, { nil: undefined }),
  memory: memoryWanted,
  memoryReservation: reservationWanted,
  deps: fc.array(fc.record({ target: fc.nat(), condition: fc.nat() }), { maxLength: 3 }),
  emptyDependsOn: fc.boolean(),
  extra: extraFields(KNOWN_CONTAINER),
});

type Platform = {
  networkMode?: string;
  requiresCompatibilities: string[];
  cpu?: string;
  memory?: string;
  runtimePlatform?: { operatingSystemFamily: string; cpuArchitecture?: string };
};

function memoryText(mib: number, style: number): string {
  if (mib % 1024 !== 0) return String(mib);
  return [String(mib), `${mib / 1024} GB`, `${mib / 1024}GB`, `${mib / 1024} gb`][style % 4] ?? String(mib);
}

const platform: fc.Arbitrary<Platform> = fc.oneof(
  {
    weight: 14,
    arbitrary: fc
      .record({
        size: fc.constantFrom(...FARGATE_SIZES),
        style: fc.nat(),
        arch: fc.constantFrom(undefined, "X86_64", "ARM64"),
      })
      .map(
        ({ size: [cpu, memory], style, arch }): Platform => ({
          networkMode: "awsvpc",
          requiresCompatibilities: ["FARGATE"],
          cpu: String(cpu),
          memory: memoryText(memory, style),
          ...(arch ? { runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: arch } } : {}),
        }),
      ),
  },
  {
    weight: 3,
    arbitrary: fc.constant<Platform>({ networkMode: "awsvpc", requiresCompatibilities: ["EC2"] }),
  },
  {
    weight: 1,
    arbitrary: fc.constant<Platform>({
      networkMode: "awsvpc",
      requiresCompatibilities: ["EC2"],
      cpu: "1024",
      memory: "3072",
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom("bridge", "host", "none", undefined).map(
      (networkMode): Platform => ({
        ...(networkMode ? { networkMode } : {}),
        requiresCompatibilities: ["EC2"],
      }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constant<Platform>({
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      cpu: "1024",
      memory: "2048",
      runtimePlatform: { operatingSystemFamily: "WINDOWS_SERVER_2022_CORE", cpuArchitecture: "X86_64" },
    }),
  },
);

const plainTagKey = fc
  .stringMatching(/^[A-Za-z][A-Za-z0-9_.:/=+@-]{0,30}$/)
  .filter((k) => !/^aws:/i.test(k) && !k.startsWith("dns-cache:"));
const awsTagKey = fc.constantFrom(
  "aws:cloudformation:stack-name",
  "aws:cloudformation:logical-id",
  "aws:cloudformation:stack-id",
  "aws:ecs:serviceName",
  "AWS:Owner",
);
const tag = fc.record({
  key: fc.oneof({ weight: 6, arbitrary: plainTagKey }, { weight: 1, arbitrary: awsTagKey }),
  value: fc.stringMatching(/^[A-Za-z0-9 _.:/=+@-]{0,40}$/),
});
const tagList = fc.oneof(
  { weight: 8, arbitrary: fc.uniqueArray(tag, { maxLength: 6, selector: (t) => t.key }) },
  { weight: 1, arbitrary: fc.uniqueArray(tag, { minLength: 44, maxLength: 53, selector: (t) => t.key }) },
);
/** Valid dns-cache option tags, each of which changes what the oracle expects. */
const OPTION_TAGS = [
  { key: "dns-cache:fallback", value: "off" },
  { key: "dns-cache:memory", value: "48" },
  { key: "dns-cache:health-check", value: "off" },
  { key: "dns-cache:serve-stale", value: "30m" },
  { key: "dns-cache:upstream", value: "10.0.0.2 10.0.1.2" },
];
const optionTags = fc.oneof(
  { weight: 5, arbitrary: fc.constant([]) },
  { weight: 1, arbitrary: fc.subarray(OPTION_TAGS) },
);

interface Generated {
  /** What inject() receives: a request, or a DescribeTaskDefinition output. */
  input: JsonObject;
  described: boolean;
}

const definition: fc.Arbitrary<Generated> = fc
  .record({
    family: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$/),
    platform,
    names: fc.uniqueArray(containerName, { minLength: 1, maxLength: 8 }),
    specs: fc.array(containerSpec, { minLength: 8, maxLength: 8 }),
    tags: fc.option(tagList, { nil: undefined }),
    optionTags,
    extra: extraFields(KNOWN_TOP_LEVEL),
    described: fc.oneof(
      { weight: 2, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 100_000 }) },
    ),
  })
  .map(({ family, platform, names, specs, tags, optionTags, extra, described }) => {
    const taskMemory = taskMemoryMiB(platform.memory);
    const containers: JsonObject[] = names.map((name, i) => {
      // biome-ignore lint/style/noNonNullAssertion: specs has 8 entries, names at most 8
      const s = specs[i]!;
      let memory = s.memory;
      let reservation = s.memoryReservation;
      if (taskMemory !== undefined && memory !== undefined) memory = Math.min(memory, taskMemory);
      if (reservation !== undefined) reservation = Math.min(reservation, memory ?? taskMemory ?? reservation);
      // Without task memory (EC2), ECS needs one of the two on every container.
      if (taskMemory === undefined && memory === undefined && reservation === undefined) reservation = 128;
      return {
        name,
        image: s.image,
        ...(s.essential === undefined ? {} : { essential: s.essential }),
        ...(memory === undefined ? {} : { memory }),
        ...(reservation === undefined ? {} : { memoryReservation: reservation }),
        ...(s.portMappings ? { portMappings: s.portMappings } : {}),
        ...(s.healthCheck ? { healthCheck: s.healthCheck } : {}),
        ...(s.logConfiguration ? { logConfiguration: s.logConfiguration } : {}),
        ...s.extra,
      } as unknown as JsonObject;
    });
    if (!containers.some((c) => c.essential !== false)) containers[0] = { ...containers[0], essential: true };
    // Acyclic by construction (only earlier containers), and valid for ECS: HEALTHY needs a healthCheck on
    // the target, SUCCESS and COMPLETE a non-essential target.
    containers.forEach((c, i) => {
      // biome-ignore lint/style/noNonNullAssertion: as above
      const s = specs[i]!;
      const deps: JsonObject[] = [];
      if (i > 0) {
        for (const d of s.deps) {
          // biome-ignore lint/style/noNonNullAssertion: index taken modulo i
          const target = containers[d.target % i]!;
          const valid = [
            "START",
            ...(target.healthCheck ? ["HEALTHY"] : []),
            ...(target.essential === false ? ["SUCCESS", "COMPLETE"] : []),
          ];
          if (deps.some((x) => x.containerName === target.name)) continue;
          deps.push({
            containerName: target.name ?? null,
            condition: valid[d.condition % valid.length] ?? "START",
          });
        }
      }
      if (deps.length > 0 || s.emptyDependsOn) c.dependsOn = deps;
    });
    const allTags =
      tags === undefined && optionTags.length === 0 ? undefined : [...(tags ?? []), ...optionTags];
    const request: JsonObject = {
      family,
      ...platform,
      containerDefinitions: containers,
      ...extra,
      ...(allTags ? { tags: allTags } : {}),
    } as JsonObject;
    // Parsed JSON, as every real input is (no -0, no null prototypes, no undefined).
    const plain = JSON.parse(JSON.stringify(request)) as JsonObject;
    if (described === undefined) return { input: plain, described: false };
    const { tags: describedTags, ...body } = plain;
    return {
      input: {
        taskDefinition: {
          taskDefinitionArn: `arn:aws:ecs:us-east-1:111122223333:task-definition/${family}:${described}`,
          ...body,
          revision: described,
          status: "ACTIVE",
          compatibilities: ["EC2", "FARGATE"],
          requiresAttributes: [{ name: "ecs.capability.task-eni" }],
          registeredAt: "2025-11-20T10:00:00.000Z",
          registeredBy: "arn:aws:iam::111122223333:user/deployer",
        },
        ...(describedTags === undefined ? {} : { tags: describedTags }),
      },
      described: true,
    };
  });

const partialOptions: fc.Arbitrary<PartialOptions> = fc.record(
  {
    corednsImage: fc.constantFrom(
      "coredns/coredns:1.12.0",
      "public.ecr.aws/eks-distro/coredns/coredns:v1.11.4-eks-1-33-7",
    ),
    initImage: fc.constantFrom("busybox:1.36.1-musl", "public.ecr.aws/docker/library/busybox:1.37.0-musl"),
    upstreams: fc.array(
      fc.ipV4().filter((ip) => !ip.startsWith("127.")),
      { maxLength: 3 },
    ),
    fallback: fc.boolean(),
    cacheSuccessCapacity: fc.integer({ min: 1024, max: 1_000_000 }),
    cacheSuccessTtl: fc.integer({ min: 1, max: 86400 }),
    cacheDenialCapacity: fc.integer({ min: 1024, max: 1_000_000 }),
    cacheDenialTtl: fc.integer({ min: 1, max: 3600 }),
    prefetch: fc.boolean(),
    serveStale: fc.constantFrom(null, "30s", "30m", "1h", "168h", "1h verify", "1h immediate"),
    healthCheck: fc.boolean(),
    healthPort: fc.oneof(fc.constant("auto" as const), fc.integer({ min: 1024, max: 65535 })),
    metricsPort: fc.oneof(fc.constant(null), fc.integer({ min: 1024, max: 65535 })),
    memoryReservation: fc.integer({ min: 16, max: 512 }),
    memoryLimit: fc.integer({ min: 16, max: 2048 }),
    resolverTimeout: fc.integer({ min: 1, max: 30 }),
    resolverAttempts: fc.integer({ min: 1, max: 5 }),
    nodeCacheAddress: fc.constantFrom("169.254.20.10", "169.254.53.53", "169.254.1.1"),
  },
  { requiredKeys: [] },
);

// ---------------------------------------------------------------------------------------------------------
// Oracle: the refusals the design calls for, computed from the input alone (default options plus tags)
// ---------------------------------------------------------------------------------------------------------

function bodyOf(input: JsonObject): JsonObject {
  return isObject(input.taskDefinition) ? input.taskDefinition : input;
}

function expectedRefusals(generated: Generated): string[] {
  const base = expectedBase(generated.input);
  const body = bodyOf(generated.input);
  const tags = (Array.isArray(base.tags) ? base.tags : []) as unknown as Array<{
    key: string;
    value: string;
  }>;
  const tagOption = (key: string) => tags.find((t) => t.key === `dns-cache:${key}`)?.value;
  const healthCheck = tagOption("health-check") !== "off";
  const memoryReservation = Number(tagOption("memory") ?? 32);
  const containers = (base.containerDefinitions ?? []) as JsonObject[];
  const reasons = new Set<string>();
  const markers = typeof body.revision === "number" ? 3 : 2;

  // Bridge (explicit, or unset off Fargate): the node cache path adds no container, port or memory.
  if (isBridgeInput(base)) {
    if (tags.length + markers > 50) reasons.add(REFUSAL_REASONS.TOO_MANY_TAGS);
    return [...reasons];
  }
  if (base.networkMode !== "awsvpc") reasons.add(REFUSAL_REASONS.NETWORK_MODE_NOT_AWSVPC);
  const os = (base.runtimePlatform as JsonObject | undefined)?.operatingSystemFamily;
  if (typeof os === "string" && os.startsWith("WINDOWS")) reasons.add(REFUSAL_REASONS.WINDOWS_PLATFORM);
  if (containers.length > 8) reasons.add(REFUSAL_REASONS.TOO_MANY_CONTAINERS);

  const spans = declaredPortSpans(containers);
  const declared = (p: number) => spans.some((s) => p >= s.from && p <= s.to);
  if (declared(53)) reasons.add(REFUSAL_REASONS.PORT_CONFLICT);
  if (healthCheck && HEALTH_CANDIDATES.every(declared)) reasons.add(REFUSAL_REASONS.PORT_CONFLICT);

  const taskMemory = taskMemoryMiB(base.memory);
  const reserved = containers.reduce((sum, c) => sum + Number(c.memoryReservation ?? c.memory ?? 0), 0);
  if (taskMemory !== undefined && reserved + 8 + memoryReservation > taskMemory)
    reasons.add(REFUSAL_REASONS.INSUFFICIENT_MEMORY);

  if (tags.length + markers > 50) reasons.add(REFUSAL_REASONS.TOO_MANY_TAGS);
  return [...reasons].sort();
}

function reasonsOf(result: InjectResult): string[] {
  return result.outcome === "refused" ? [...new Set(result.refusals.map((r) => r.reason))].sort() : [];
}

function describeResult(result: InjectResult): string {
  return result.outcome === "refused"
    ? `refused: ${result.refusals.map((r) => `${r.reason}: ${r.message}`).join("; ")}`
    : "injected";
}

function reinject(definition: unknown, context: InjectContext = {}): InjectResult {
  return inject(JSON.parse(serialize(definition as Parameters<typeof serialize>[0])), context);
}

// ---------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------

describe("inject() on generated task definitions", () => {
  it("never throws; refuses exactly when the design says so, with known codes and messages", () => {
    fc.assert(
      fc.property(definition, (generated) => {
        const result = inject(generated.input);
        expect(["injected", "refused"]).toContain(result.outcome);
        if (result.outcome === "refused") {
          expect(result.refusals.length).toBeGreaterThan(0);
          for (const r of result.refusals) {
            expect(KNOWN_REASONS).toContain(r.reason);
            expect(r.message.trim()).not.toBe("");
          }
        }
        expect(reasonsOf(result), describeResult(result)).toEqual(expectedRefusals(generated));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("when it injects, every invariant holds", () => {
    fc.assert(
      fc.property(definition, (generated) => {
        const result = inject(generated.input);
        if (result.outcome !== "injected") return;
        const base = expectedBase(generated.input);
        const output = result.definition as unknown as JsonObject;
        const fallback = !(base.tags as JsonObject[] | undefined)?.some(
          (t) => t.key === "dns-cache:fallback" && t.value === "off",
        );
        const problems =
          result.path === "bridge"
            ? bridgeProblems(base, output, { fallback })
            : injectedProblems(base, output);
        expect(problems).toEqual([]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("is idempotent: injecting its own output gives the same bytes", () => {
    fc.assert(
      fc.property(definition, (generated) => {
        const first = inject(generated.input);
        if (first.outcome !== "injected") return;
        const bytes = serialize(first.definition);
        const again = reinject(first.definition);
        expect(again.outcome, describeResult(again)).toBe("injected");
        if (again.outcome !== "injected") return;
        expect(again.upToDate).toBe(true);
        expect(serialize(again.definition)).toBe(bytes);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("re-injecting with the defaults undoes any option layers: same as injecting the defaults directly", () => {
    fc.assert(
      fc.property(definition, partialOptions, partialOptions, (generated, deployment, explicit) => {
        const layered = inject(generated.input, { deployment, explicit });
        if (layered.outcome !== "injected") return;
        const base = expectedBase(generated.input);
        const output = layered.definition as unknown as JsonObject;
        expect(
          layered.path === "bridge"
            ? bridgeProblems(base, output, {
                address: layered.options.nodeCacheAddress,
                fallback: layered.options.fallback,
              })
            : injectedProblems(base, output),
        ).toEqual([]);
        // With the same layers, re-injecting is a no-op.
        const same = reinject(layered.definition, { deployment, explicit });
        expect(same.outcome === "injected" && serialize(same.definition)).toBe(serialize(layered.definition));
        const redone = reinject(layered.definition);
        const direct = inject(generated.input);
        expect(redone.outcome, `${describeResult(redone)} / direct ${describeResult(direct)}`).toBe(
          direct.outcome,
        );
        if (direct.outcome === "injected" && redone.outcome === "injected") {
          expect(serialize(redone.definition)).toBe(serialize(direct.definition));
        } else {
          expect(reasonsOf(redone)).toEqual(reasonsOf(direct));
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("start order: apps wait only for init SUCCESS and cache START, HEALTHY only when wait-for healthy", () => {
    // Nothing the cache does (bad image, Corefile it cannot load, crash loop, silence) can then hold an
    // app for longer than the init script takes.
    const waitFor = fc.constantFrom(undefined, "start" as const, "healthy" as const);
    fc.assert(
      fc.property(definition, partialOptions, waitFor, (generated, deployment, wait) => {
        const explicit: PartialOptions = wait === undefined ? {} : { waitFor: wait };
        const result = inject(generated.input, { deployment, explicit });
        // The bridge path adds no containers: apps there depend on nothing of ours.
        if (result.outcome !== "injected" || result.path !== "awsvpc") return;
        const containers = result.definition.containerDefinitions;
        const ours = new Set(["dns-cache", "dns-cache-init"]);
        const healthy = result.options.waitFor === "healthy";
        expect(healthy).toBe(wait === "healthy");
        const cache = containers.find((c) => c.name === "dns-cache");
        const init = containers.find((c) => c.name === "dns-cache-init");
        for (const c of containers.filter((c) => !ours.has(c.name ?? ""))) {
          const onOurs = (c.dependsOn ?? []).filter((d) => ours.has(d.containerName ?? ""));
          expect(onOurs).toEqual([
            { containerName: "dns-cache-init", condition: "SUCCESS" },
            { containerName: "dns-cache", condition: healthy ? "HEALTHY" : "START" },
          ]);
        }
        // The init container waits for nothing; the cache only for the init script.
        expect(init?.dependsOn).toBeUndefined();
        expect(cache?.dependsOn).toEqual([{ containerName: "dns-cache-init", condition: "SUCCESS" }]);
        if (healthy) expect(cache?.healthCheck).toBeDefined();
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("generates a useful mix: mostly injected, every refusal kind it can produce seen", () => {
    const sample = fc.sample(definition, { numRuns: 400, seed: 42 });
    const outcomes = sample.map((g) => inject(g.input));
    const injected = outcomes.filter((r) => r.outcome === "injected").length;
    expect(injected).toBeGreaterThan(sample.length * 0.3);
    const seen = new Set(outcomes.flatMap(reasonsOf));
    for (const reason of [
      REFUSAL_REASONS.NETWORK_MODE_NOT_AWSVPC,
      REFUSAL_REASONS.WINDOWS_PLATFORM,
      REFUSAL_REASONS.INSUFFICIENT_MEMORY,
      REFUSAL_REASONS.PORT_CONFLICT,
      REFUSAL_REASONS.TOO_MANY_TAGS,
    ]) {
      expect(seen).toContain(reason);
    }
  });
});
