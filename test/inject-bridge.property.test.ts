import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { REFUSAL_REASONS } from "#shared/engine/errors.ts";
import { type InjectResult, inject, serialize } from "#shared/engine/inject.ts";
import type { PartialOptions } from "#shared/engine/options.ts";
import { strip } from "#shared/engine/strip.ts";
import { normalize } from "#shared/engine/task-definition.ts";
import { bridgeProblems, UNDO_LABEL, VPC_RESOLVER } from "./helpers/bridge-invariants.ts";
import { expectedBase, type JsonObject } from "./helpers/invariants.ts";

const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 400);

// Servers real definitions carry: corporate resolvers, the VPC resolver, the node cache itself (done by
// hand before), repeats, IPv6. Loopback is refused and covered by its own property.
const server = fc.oneof(
  fc.constantFrom("10.0.0.2", "10.40.0.10", VPC_RESOLVER, "169.254.20.10", "172.17.0.1", "fd00:ec2::253"),
  fc.ipV4().filter((ip) => !ip.startsWith("127.") && ip !== "0.0.0.0"),
);

const container = fc.record(
  {
    image: fc.constantFrom("nginx:1.27", "111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:7"),
    memoryReservation: fc.integer({ min: 16, max: 1024 }),
    essential: fc.boolean(),
    dnsServers: fc.array(server, { maxLength: 4 }),
    dnsSearchDomains: fc.array(fc.constantFrom("corp.example.internal", "svc.local"), { maxLength: 2 }),
    dockerLabels: fc.dictionary(fc.stringMatching(/^[a-z][a-z.]{0,12}$/), fc.string({ maxLength: 8 }), {
      maxKeys: 3,
      noNullPrototype: true,
    }),
    disableNetworking: fc.constant(true),
    links: fc.array(fc.constantFrom("redis", "statsd:metrics"), { maxLength: 2 }),
    extraHosts: fc.constant([{ hostname: "ledger.internal", ipAddress: "10.40.12.7" }]),
  },
  { requiredKeys: ["image", "memoryReservation"] },
);

const bridgeDefinition = fc
  .record({
    family: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,30}$/),
    explicit: fc.boolean(),
    compat: fc.constantFrom(undefined, ["EC2"]),
    containers: fc.array(container, { minLength: 1, maxLength: 10 }),
    tags: fc.constantFrom(
      undefined,
      [{ key: "dns-cache", value: "enabled" }],
      [
        { key: "dns-cache", value: "enabled" },
        { key: "dns-cache:fallback", value: "off" },
      ],
      [{ key: "dns-cache:node-cache-address", value: "169.254.53.53" }],
    ),
    revision: fc.option(fc.integer({ min: 1, max: 9999 }), { nil: undefined }),
  })
  .map(({ family, explicit, compat, containers, tags, revision }) => {
    // The first container always has a network: a task with none is refused (NETWORK_DISABLED).
    const containerDefinitions = containers.map((c, i) => {
      const { disableNetworking, ...rest } = c;
      const networked = i === 0 ? rest : c;
      return { name: `c${i}`, ...networked, essential: i === 0 || c.essential };
    });
    const body: JsonObject = JSON.parse(
      JSON.stringify({
        family,
        ...(explicit ? { networkMode: "bridge" } : {}),
        ...(compat ? { requiresCompatibilities: compat } : {}),
        containerDefinitions,
        ...(tags ? { tags } : {}),
      }),
    );
    if (revision === undefined) return body;
    const { tags: t, ...rest } = body;
    return {
      taskDefinition: { ...rest, revision, status: "ACTIVE" },
      ...(t ? { tags: t } : {}),
    } as JsonObject;
  });

const layers: fc.Arbitrary<PartialOptions> = fc.record(
  {
    fallback: fc.boolean(),
    nodeCacheAddress: fc.constantFrom("169.254.20.10", "169.254.20.11", "169.254.100.53"),
  },
  { requiredKeys: [] },
);

function injected(result: InjectResult) {
  if (result.outcome !== "injected")
    throw new Error(`refused: ${result.refusals.map((r) => `${r.reason}: ${r.message}`).join("; ")}`);
  return result;
}

const reparse = (value: unknown) => JSON.parse(serialize(value as Parameters<typeof serialize>[0]));

describe("inject() on generated bridge definitions", () => {
  it("keeps every field and only prepends the node cache (and the VPC resolver) to dnsServers", () => {
    fc.assert(
      fc.property(bridgeDefinition, layers, (input, explicit) => {
        const result = injected(inject(input, { explicit }));
        expect(result.path).toBe("bridge");
        const { nodeCacheAddress: address, fallback } = result.options;
        expect(
          bridgeProblems(expectedBase(input), result.definition as unknown as JsonObject, {
            address,
            fallback,
          }),
        ).toEqual([]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("is idempotent: injecting its own output gives the same bytes and says so", () => {
    fc.assert(
      fc.property(bridgeDefinition, layers, (input, explicit) => {
        const first = injected(inject(input, { explicit }));
        const again = injected(inject(reparse(first.definition), { explicit }));
        expect(again.upToDate).toBe(true);
        expect(serialize(again.definition)).toBe(serialize(first.definition));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("stripping restores the original definition byte for byte (dnsServers and labels included)", () => {
    fc.assert(
      fc.property(bridgeDefinition, layers, (input, explicit) => {
        const original = strip(normalize(input).definition).definition;
        const output = injected(inject(input, { explicit })).definition;
        const stripped = strip(reparse(output));
        expect(stripped.wasInjected).toBe(true);
        // The one thing a strip cannot tell apart: no tags and an empty list (the same request to ECS).
        if (original.tags === undefined && stripped.definition.tags?.length === 0)
          delete stripped.definition.tags;
        expect(serialize(stripped.definition)).toBe(serialize(original));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("re-injecting with other options replaces the earlier injection instead of stacking on it", () => {
    fc.assert(
      fc.property(bridgeDefinition, layers, layers, (input, a, b) => {
        const viaA = injected(inject(input, { explicit: a }));
        const redone = injected(inject(reparse(viaA.definition), { explicit: b }));
        const direct = injected(inject(input, { explicit: b }));
        expect(serialize(redone.definition)).toBe(serialize(direct.definition));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("refuses a loopback dnsServers entry on any networked container, naming it", () => {
    fc.assert(
      fc.property(
        bridgeDefinition,
        fc.constantFrom("127.0.0.1", "127.0.0.53", "::1", "0.0.0.0"),
        (input, loopback) => {
          const body = (input.taskDefinition ?? input) as JsonObject;
          const [first] = body.containerDefinitions as JsonObject[];
          if (!first) return;
          delete first.disableNetworking;
          first.dnsServers = ["10.0.0.2", loopback];
          const result = inject(input);
          expect(result.outcome).toBe("refused");
          if (result.outcome !== "refused") return;
          const r = result.refusals.find((x) => x.reason === REFUSAL_REASONS.DNS_SERVERS_LOOPBACK);
          expect(r?.message).toContain(loopback);
          expect(r?.message).toContain(String(first.name));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("generates a useful mix: own servers, network-less containers, more than 3 servers", () => {
    const sample = fc.sample(bridgeDefinition, { numRuns: 300, seed: 7 });
    const containers = sample.flatMap(
      (d) => ((d.taskDefinition ?? d) as JsonObject).containerDefinitions as JsonObject[],
    );
    expect(
      containers.filter((c) => Array.isArray(c.dnsServers) && c.dnsServers.length > 0).length,
    ).toBeGreaterThan(50);
    expect(containers.filter((c) => c.disableNetworking === true).length).toBeGreaterThan(50);
    const outputs = sample.map((d) => inject(d)).filter((r) => r.outcome === "injected");
    expect(outputs.length).toBeGreaterThan(250);
    expect(outputs.some((r) => r.warnings.some((w) => w.includes("read only the first 3")))).toBe(true);
    expect(
      outputs.some((r) =>
        r.definition.containerDefinitions.some((c) => typeof c.dockerLabels?.[UNDO_LABEL] === "string"),
      ),
    ).toBe(true);
  });
});
