import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { REFUSAL_REASONS } from "#shared/engine/errors.ts";
import { type Injected, inject, serialize } from "#shared/engine/inject.ts";
import { strip } from "#shared/engine/strip.ts";
import { normalize } from "#shared/engine/task-definition.ts";
import { bridgeProblems, isBridgeInput, stripBridgeInput } from "./helpers/bridge-invariants.ts";
import {
  CACHE_NAME,
  containersOf,
  ECS_MAX_DEFINITION_BYTES,
  expectedBase,
  INIT_NAME,
  injectedProblems,
  isObject,
  type JsonObject,
  requestBytes,
  structuralProblems,
  tagsOf,
} from "./helpers/invariants.ts";

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "corpus");
const files = readdirSync(CORPUS)
  .filter((f) => f.endsWith(".json"))
  .sort();

/** The reason code every refuse-* file must be refused with (and the only one). */
const EXPECTED_REFUSALS: Record<string, string> = {
  "refuse-49-tags.json": REFUSAL_REASONS.TOO_MANY_TAGS,
  "refuse-bridge-ecs-anywhere.json": REFUSAL_REASONS.BRIDGE_NOT_EC2,
  "refuse-bridge-loopback-dns-server.json": REFUSAL_REASONS.DNS_SERVERS_LOOPBACK,
  "refuse-host-mode.json": REFUSAL_REASONS.NETWORK_MODE_NOT_AWSVPC,
  "refuse-none-mode.json": REFUSAL_REASONS.NETWORK_MODE_NOT_AWSVPC,
  "refuse-invalid-option-tag.json": REFUSAL_REASONS.INVALID_OPTION,
  "refuse-memory-exhausted.json": REFUSAL_REASONS.INSUFFICIENT_MEMORY,
  "refuse-name-conflict-dns-cache.json": REFUSAL_REASONS.NAME_CONFLICT,
  "refuse-nine-containers.json": REFUSAL_REASONS.TOO_MANY_CONTAINERS,
  "refuse-port-53-declared.json": REFUSAL_REASONS.PORT_CONFLICT,
  "refuse-port-range-covers-health-ports.json": REFUSAL_REASONS.PORT_CONFLICT,
  "refuse-windows-fargate.json": REFUSAL_REASONS.WINDOWS_PLATFORM,
  // A valid input (62 KB, under ECS's 64 KiB) whose injected output would be over the limit.
  "refuse-too-large-after-injection.json": REFUSAL_REASONS.DEFINITION_TOO_LARGE,
};

/** Inputs that were injected before: the invariants are checked against the input minus that injection. */
const REINJECTED = new Set([
  "ok-reinject-older-injector-version.json",
  "ok-bridge-reinjected-older-version.json",
]);

const KNOWN_REASONS = new Set<string>(Object.values(REFUSAL_REASONS));

function load(file: string): JsonObject {
  const value: unknown = JSON.parse(readFileSync(join(CORPUS, file), "utf8"));
  if (!isObject(value)) throw new Error(`${file} is not a JSON object`);
  return value;
}

function injected(file: string): Injected {
  const result = inject(load(file));
  if (result.outcome !== "injected") {
    throw new Error(
      `${file} was refused: ${result.refusals.map((r) => `${r.reason}: ${r.message}`).join("; ")}`,
    );
  }
  return result;
}

function describedRevision(input: JsonObject): number | undefined {
  const body = isObject(input.taskDefinition) ? input.taskDefinition : input;
  return typeof body.revision === "number" ? body.revision : undefined;
}

function inputTags(input: JsonObject): Array<{ key: string; value?: string }> {
  return isObject(input.taskDefinition) ? tagsOf({ tags: input.tags ?? null }) : tagsOf(input);
}

describe("corpus", () => {
  it("has a realistic number of files, each named ok-* or refuse-*", () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
    expect(files.length).toBeLessThanOrEqual(40);
    for (const f of files) expect(f, f).toMatch(/^(ok|refuse)-[a-z0-9-]+\.json$/);
  });

  it("has an expected reason for every refuse-* file", () => {
    const refuse = files.filter((f) => f.startsWith("refuse-"));
    const mapped = Object.keys(EXPECTED_REFUSALS);
    expect(refuse.sort()).toEqual(mapped.sort());
    for (const reason of Object.values(EXPECTED_REFUSALS)) expect(KNOWN_REASONS).toContain(reason);
  });
});

describe.each(files.filter((f) => f.startsWith("ok-")))("%s", (file) => {
  const input = load(file);
  const sidecarBase = expectedBase(input, { stripInjection: REINJECTED.has(file) });
  const base =
    REINJECTED.has(file) && isBridgeInput(sidecarBase) ? stripBridgeInput(sidecarBase) : sidecarBase;

  it("is injected, keeping every original field and adding only the cache", () => {
    const result = injected(file);
    const output = result.definition as unknown as JsonObject;
    if (isBridgeInput(base)) {
      expect(result.path).toBe("bridge");
      expect(bridgeProblems(base, output)).toEqual([]);
    } else expect(injectedProblems(base, output)).toEqual([]);
  });

  it("is idempotent: injecting the output gives the same bytes", () => {
    const first = serialize(injected(file).definition);
    const again = inject(JSON.parse(first));
    expect(again.outcome).toBe("injected");
    if (again.outcome !== "injected") return;
    expect(again.upToDate).toBe(true);
    expect(again.wasInjected).toBe(true);
    expect(serialize(again.definition)).toBe(first);
  });

  it("fits ECS's limits: 64 KiB, 10 containers, 50 tags", () => {
    const output = injected(file).definition as unknown as JsonObject;
    expect(requestBytes(output)).toBeLessThanOrEqual(ECS_MAX_DEFINITION_BYTES);
    expect(containersOf(output).length).toBeLessThanOrEqual(10);
    expect(structuralProblems(output)).toEqual([]);
    expect(tagsOf(output).length).toBeLessThanOrEqual(50);
  });

  it("drops reserved aws: tags with a warning and records the source revision", () => {
    const result = injected(file);
    for (const t of inputTags(input).filter((t) => /^aws:/i.test(t.key))) {
      expect(result.warnings.some((w) => w.includes(t.key))).toBe(true);
    }
    const tags = tagsOf(result.definition as unknown as JsonObject);
    const marker = tags.find((t) => t.key === "dns-cache:source-revision")?.value;
    const markerIn = inputTags(input).find((t) => t.key === "dns-cache:source-revision")?.value;
    const revision = markerIn !== undefined ? Number(markerIn) : describedRevision(input);
    expect(marker).toBe(revision === undefined ? undefined : String(revision));
    expect(result.sourceRevision).toBe(revision);
  });
});

describe.each(files.filter((f) => f.startsWith("refuse-")))("%s", (file) => {
  const input = load(file);

  it("is refused with the expected reason code and a message", () => {
    const expected = EXPECTED_REFUSALS[file];
    const result = inject(input);
    if (result.outcome === "injected") {
      const bytes = requestBytes(result.definition);
      expect.fail(
        `${file} was injected, expected a refusal (${expected}); the output is ${bytes} bytes as JSON (ECS accepts at most ${ECS_MAX_DEFINITION_BYTES})`,
      );
    }
    expect(result.refusals.map((r) => r.reason)).toEqual([expected]);
    for (const r of result.refusals) {
      expect(KNOWN_REASONS).toContain(r.reason);
      expect(r.message.trim()).not.toBe("");
    }
  });
});

describe("specific corpus expectations", () => {
  it("ok-option-tags: dns-cache:* tags configure the cache", () => {
    const result = injected("ok-option-tags.json");
    expect(result.options.fallback).toBe(false);
    expect(result.options.memoryReservation).toBe(96);
    expect(result.options.upstreams).toEqual(["10.20.0.2", "10.20.1.2"]);
    expect(result.options.metricsPort).toBe(19153);
    expect(result.optionSources.memory).toBe("tag");
    const cache = containersOf(result.definition as unknown as JsonObject).find((c) => c.name === CACHE_NAME);
    expect(cache?.memoryReservation).toBe(96);
    expect(cache?.memory).toBe(256);
  });

  it("ok-port-range-turn-server: the health port skips a declared port range", () => {
    const result = injected("ok-port-range-turn-server.json");
    // 18050-18055 is declared: the first free candidate is 18056.
    expect(result.healthPort).toBe(18056);
  });

  it("ok-memory-string-1-gb-exact-fit: '1 GB' is 1024 MiB and the cache fits exactly", () => {
    const result = injected("ok-memory-string-1-gb-exact-fit.json");
    expect(result.memory.task).toBe(1024);
    expect(result.memory.containers + result.memory.added).toBe(1024);
  });

  it("ok-memory-string-2-gb-lowercase: '2 gb' is 2048 MiB", () => {
    expect(injected("ok-memory-string-2-gb-lowercase.json").memory.task).toBe(2048);
  });

  it("ok-future-unknown-field: fields unknown to ECS's current model pass through untouched", () => {
    const output = injected("ok-future-unknown-field.json").definition as unknown as JsonObject;
    expect(output.taskStartupTimeout).toEqual({ seconds: 600, onTimeout: "STOP_TASK" });
    expect(containersOf(output)[0]?.startupProbe).toEqual({
      command: ["CMD", "/app/ready"],
      periodSeconds: 5,
      failureThreshold: 30,
    });
  });

  it("ok-reinject-older-injector-version: old sidecars are replaced, not duplicated", () => {
    const input = load("ok-reinject-older-injector-version.json");
    const oldImages = containersOf(input.taskDefinition as JsonObject)
      .filter((c) => c.name === CACHE_NAME || c.name === INIT_NAME)
      .map((c) => c.image);
    const result = injected("ok-reinject-older-injector-version.json");
    expect(result.wasInjected).toBe(true);
    expect(result.upToDate).toBe(false);
    const text = serialize(result.definition);
    for (const image of oldImages) expect(text).not.toContain(String(image));
    expect(text).not.toContain('"0.0.9"');
    expect(result.sourceRevision).toBe(57);
  });

  it("ok-describe-47-tags-plus-cloudformation-tags: aws: tags do not count towards the 50", () => {
    const result = injected("ok-describe-47-tags-plus-cloudformation-tags.json");
    expect(tagsOf(result.definition as unknown as JsonObject)).toHaveLength(50);
  });

  it("ok-eight-containers: 8 + 2 is exactly ECS's limit", () => {
    expect(
      containersOf(injected("ok-eight-containers.json").definition as unknown as JsonObject),
    ).toHaveLength(10);
  });

  it("ok-firelens-fluentbit: our containers log with the log router's awslogs, never through FireLens", () => {
    const output = injected("ok-firelens-fluentbit.json").definition as unknown as JsonObject;
    for (const c of containersOf(output).filter((c) => c.name === CACHE_NAME || c.name === INIT_NAME)) {
      expect((c.logConfiguration as JsonObject | undefined)?.logDriver).toBe("awslogs");
    }
  });
});

describe("bridge corpus expectations", () => {
  const bridgeFiles = files.filter((f) => f.startsWith("ok-bridge-"));

  it("has several real-world-like bridge definitions", () => {
    expect(bridgeFiles.length).toBeGreaterThanOrEqual(3);
  });

  it.each(bridgeFiles)("%s: stripping the injection gives back the input exactly", (file) => {
    // The input minus any earlier injection (none for most files): what the user registered.
    const original = strip(normalize(load(file)).definition).definition;
    const stripped = strip(injected(file).definition);
    expect(stripped.wasInjected).toBe(true);
    expect(stripped.refusals).toEqual([]);
    expect(serialize(stripped.definition)).toBe(serialize(original));
  });

  it("ok-bridge-described-custom-dns: own servers kept after the cache, a network-less container untouched", () => {
    const result = injected("ok-bridge-described-custom-dns.json");
    const [billing, statsd, compactor] = containersOf(result.definition as unknown as JsonObject);
    expect(billing?.dnsServers).toEqual(["169.254.20.10", "169.254.169.253", "10.40.0.10"]);
    expect(billing?.dnsSearchDomains).toEqual(["corp.example.internal"]);
    expect(billing?.links).toEqual(["statsd:metrics"]);
    expect(statsd?.dnsServers).toEqual(["169.254.20.10", "169.254.169.253"]);
    expect(compactor?.dnsServers).toBeUndefined();
    expect(compactor?.dockerLabels).toBeUndefined();
    expect(result.warnings.some((w) => w.includes("10.40.0.10") && w.includes("NXDOMAIN"))).toBe(true);
    expect(result.sourceRevision).toBe(231);
  });

  it("ok-bridge-reinjected-older-version: an older bridge injection is replaced, not stacked", () => {
    const result = injected("ok-bridge-reinjected-older-version.json");
    expect(result.wasInjected).toBe(true);
    expect(result.upToDate).toBe(false);
    const [app] = containersOf(result.definition as unknown as JsonObject);
    expect(app?.dnsServers).toEqual(["169.254.20.10", "169.254.169.253", "10.0.0.2"]);
  });
});
