/**
 * The bridge path, where a container's own dnsServers decide what is refused and what is kept: every
 * spelling of a loopback resolver is refused (the node cache put before it would bypass it), and
 * addresses that only look like one are wired as usual.
 */
import { describe, expect, it } from "vitest";
import { hasBridgeInjection, ORIGINAL_LABEL, VPC_RESOLVER } from "#shared/engine/bridge.ts";
import { REFUSAL_REASONS } from "#shared/engine/errors.ts";
import { type Injected, type InjectResult, inject } from "#shared/engine/inject.ts";
import { strip } from "#shared/engine/strip.ts";
import type { TaskDefinitionInput } from "#shared/engine/task-definition.ts";
import { bridgeApp } from "./helpers/fixtures.ts";

const NODE_CACHE = "169.254.20.10";

describe("a container's own loopback resolver", () => {
  it.each([
    "127.0.0.11",
    " 127.0.0.53 ",
    "::1",
    "::",
    "0.0.0.0",
    "::ffff:127.0.0.1",
    "::FFFF:127.0.0.1",
    "0:0:0:0:0:0:0:1",
  ])("refuses %j with DNS_SERVERS_LOOPBACK, naming the container and the server", (server) => {
    const r = inject(bridgeApp([{ dnsServers: ["10.0.0.2"] }, { dnsServers: ["10.0.0.2", server] }]));
    expect(r.outcome).toBe("refused");
    if (r.outcome !== "refused") return;
    expect(r.refusals).toEqual([
      {
        reason: REFUSAL_REASONS.DNS_SERVERS_LOOPBACK,
        message: `container "c1" sends DNS to ${server}, a resolver inside its own network namespace; the node cache put before it would bypass it: remove the loopback server or leave this family out`,
      },
    ]);
  });

  it.each(["10.127.0.1", "1.0.0.0", "fd00::1", "::10", "::ffff:10.0.0.2", "0:0:0:0:0:0:0:10"])(
    "wires %s, which is not loopback, after the node cache",
    (server) => {
      const r = inject(bridgeApp([{ dnsServers: [server] }]));
      if (r.outcome !== "injected") throw new Error(JSON.stringify(r.refusals));
      expect(r.definition.containerDefinitions[0]?.dnsServers).toEqual([NODE_CACHE, VPC_RESOLVER, server]);
    },
  );
});

describe("warnings a bridge injection gives", () => {
  it("names the container's own resolvers, which the cache does not forward to, and the servers past the third", () => {
    const r = inject(
      bridgeApp([
        { dnsServers: ["10.0.0.2", VPC_RESOLVER] },
        { dnsServers: [NODE_CACHE, "10.0.0.2", "10.0.1.2"] },
        { dnsServers: [NODE_CACHE] },
      ]),
    );
    if (r.outcome !== "injected") throw new Error(JSON.stringify(r.refusals));
    const own = (name: string, servers: string) =>
      `container "${name}" had its own dnsServers (${servers}); they are kept after the node cache, but the cache forwards to its own upstream (the VPC resolver unless the daemon's Upstream parameter says otherwise), and a name only they know gets NXDOMAIN there, which resolvers do not retry elsewhere: forward such zones with Route 53 Resolver rules or the daemon's Upstream`;
    expect(r.warnings).toEqual([
      own("c0", "10.0.0.2"),
      own("c1", "10.0.0.2, 10.0.1.2"),
      `container "c1" now has 4 dnsServers; glibc and musl read only the first 3, so 10.0.1.2 will not be asked (they stay in the definition)`,
    ]);
    expect(r.bridge?.containers).toEqual([
      { name: "c0", dnsServers: [NODE_CACHE, VPC_RESOLVER, "10.0.0.2"] },
      { name: "c1", dnsServers: [NODE_CACHE, VPC_RESOLVER, "10.0.0.2", "10.0.1.2"] },
      { name: "c2", dnsServers: [NODE_CACHE, VPC_RESOLVER] },
    ]);
  });

  it("counts only addresses as the container's own resolvers, and lists every server past the third", () => {
    const r = inject(bridgeApp([{ dnsServers: [" 10.0.0.3", "resolver.corp", "10.0.2.2"] }]));
    if (r.outcome !== "injected") throw new Error(JSON.stringify(r.refusals));
    expect(r.warnings).toEqual([
      expect.stringMatching(
        /^container "c0" had its own dnsServers \( 10\.0\.0\.3, 10\.0\.2\.2\); they are kept/,
      ),
      `container "c0" now has 5 dnsServers; glibc and musl read only the first 3, so resolver.corp, 10.0.2.2 will not be asked (they stay in the definition)`,
    ]);
  });

  it("warns about option tags only: flags, deployment settings and the bridge's own options say nothing", () => {
    const tags = [
      { key: "dns-cache", value: "enabled" },
      { key: "dns-cache:fallback", value: "off" },
      { key: "dns-cache:prefetch", value: "off" },
    ];
    const r = inject(bridgeApp([{}], { tags }), {
      explicit: { memoryReservation: 64 },
      deployment: { cacheSuccessTtl: 60 },
    });
    if (r.outcome !== "injected") throw new Error(JSON.stringify(r.refusals));
    expect(r.warnings).toEqual([
      "tag dns-cache:prefetch has no effect in bridge mode: the node cache is configured by the parameters of infra/node-cache.yaml",
    ]);
    expect(r.bridge).toEqual({
      nodeCacheAddress: NODE_CACHE,
      fallback: false,
      containers: [{ name: "c0", dnsServers: [NODE_CACHE] }],
    });
  });
});

function injected(result: InjectResult): Injected {
  if (result.outcome !== "injected") throw new Error(`refused: ${JSON.stringify(result.refusals)}`);
  return result;
}

describe("the undo record (docker label dns-cache.original)", () => {
  it.each([
    ["not JSON", "hand-written"],
    ["JSON null", "null"],
    ["a number", "5"],
    ["a string", '"169.254.20.10"'],
    ["an array", '["169.254.20.10"]'],
    ["an object without added", '{"dnsServers":["10.0.0.2"]}'],
    ["added that is not a list", '{"added":"169.254.20.10"}'],
    ["added holding a number", '{"added":["169.254.20.10",53]}'],
    ["dnsServers that is not a list", '{"added":["169.254.20.10"],"dnsServers":"10.0.0.2"}'],
    ["dnsServers holding a number", '{"added":["169.254.20.10"],"dnsServers":["10.0.0.2",53]}'],
  ])("is refused as someone else's label when it holds %s", (_, label) => {
    const r = inject(bridgeApp([{}, { dockerLabels: { [ORIGINAL_LABEL]: label, team: "a" } }]));
    expect(r).toMatchObject({
      outcome: "refused",
      refusals: [
        {
          reason: REFUSAL_REASONS.NAME_CONFLICT,
          message: `container "c1" has a docker label ${ORIGINAL_LABEL} that dns-cache did not write; remove or rename it`,
        },
      ],
    });
  });

  it("is read as ours when it is a record without dnsServers (the container had none)", () => {
    const label = JSON.stringify({ added: [NODE_CACHE] });
    const definition = bridgeApp([{ dnsServers: [NODE_CACHE], dockerLabels: { [ORIGINAL_LABEL]: label } }]);
    const stripped = strip(definition);
    expect(stripped.wasInjected).toBe(true);
    expect(stripped.refusals).toEqual([]);
    expect(stripped.definition.containerDefinitions[0]).not.toHaveProperty("dnsServers");
  });

  it.each([
    {
      name: "a container without servers, after the fallback was removed by hand",
      own: undefined,
      edited: [NODE_CACHE],
      restored: undefined,
    },
    {
      name: "a container with servers, after they were all removed by hand",
      own: ["10.0.0.2"],
      edited: [NODE_CACHE, VPC_RESOLVER],
      restored: [],
    },
    {
      name: "a container with servers, after one was added by hand",
      own: ["10.0.0.2"],
      edited: [NODE_CACHE, VPC_RESOLVER, "10.0.0.2", "10.0.0.3"],
      restored: ["10.0.0.2", "10.0.0.3"],
    },
    {
      name: "a container with servers, after its dnsServers were deleted by hand",
      own: ["10.0.0.2"],
      edited: undefined,
      restored: [],
    },
    {
      name: "a container without servers, after one was put first by hand",
      own: undefined,
      edited: ["10.0.0.3", NODE_CACHE, VPC_RESOLVER],
      restored: ["10.0.0.3", NODE_CACHE, VPC_RESOLVER],
    },
  ])("strips only its own leading servers from $name", ({ own, edited, restored }) => {
    const out = injected(inject(bridgeApp([own === undefined ? {} : { dnsServers: own }]))).definition;
    const [c] = out.containerDefinitions;
    if (c && edited === undefined) delete c.dnsServers;
    else if (c) c.dnsServers = edited;
    const back = strip(out).definition.containerDefinitions[0];
    if (restored === undefined) expect(back).not.toHaveProperty("dnsServers");
    else expect(back?.dnsServers).toEqual(restored);
  });

  it("removes only its own label, and the labels map only when it had added it and nothing else is left", () => {
    const out = injected(
      inject(bridgeApp([{}, { dockerLabels: { team: "a" } }, {}, { dnsServers: ["10.0.0.2"] }])),
    ).definition;
    const [, , edited] = out.containerDefinitions;
    if (edited?.dockerLabels) edited.dockerLabels.owner = "added after injection";
    const back = strip(out).definition.containerDefinitions;
    expect(back.map((c) => [c.name, c.dockerLabels])).toEqual([
      ["c0", undefined],
      ["c1", { team: "a" }],
      ["c2", { owner: "added after injection" }],
      ["c3", undefined],
    ]);
    expect(back[0]).not.toHaveProperty("dockerLabels");
    expect(back.map((c) => c.dnsServers)).toEqual([undefined, undefined, undefined, ["10.0.0.2"]]);
  });
});

describe("refusals on the bridge path", () => {
  it.each([
    [
      ["FARGATE"],
      REFUSAL_REASONS.NETWORK_MODE_NOT_AWSVPC,
      "network mode is bridge but the definition requires FARGATE, which runs awsvpc only",
    ],
    [
      ["EC2", "EXTERNAL", "MANAGED_INSTANCES"],
      REFUSAL_REASONS.BRIDGE_NOT_EC2,
      "the definition may run on EXTERNAL, MANAGED_INSTANCES; the node cache daemon (infra/node-cache.yaml) runs only on EC2 container instances, and where its address is absent every lookup waits for a timeout: require EC2 only",
    ],
  ])("requiresCompatibilities %j: %s, saying why", (compat, reason, message) => {
    const r = inject(
      bridgeApp([{}], { requiresCompatibilities: compat as TaskDefinitionInput["requiresCompatibilities"] }),
    );
    expect(r).toMatchObject({ outcome: "refused", refusals: [{ reason, message }] });
  });

  it("refuses a task where no container has a network, saying there is nothing to cache", () => {
    const r = inject(bridgeApp([{ disableNetworking: true }, { disableNetworking: true }]));
    expect(r).toMatchObject({
      outcome: "refused",
      refusals: [
        {
          reason: REFUSAL_REASONS.NETWORK_DISABLED,
          message: "every container sets disableNetworking: there is no lookup to cache",
        },
      ],
    });
  });
});

describe("an injected revision, as the health function recognises it", () => {
  it("is bridge-injected when a container carries a readable undo record, not a foreign label", () => {
    const out = injected(inject(bridgeApp([{}]))).definition.containerDefinitions;
    expect(hasBridgeInjection(out)).toBe(true);
    expect(hasBridgeInjection(bridgeApp([{}, { dockerLabels: { team: "a" } }]).containerDefinitions)).toBe(
      false,
    );
    expect(hasBridgeInjection([{ dockerLabels: { [ORIGINAL_LABEL]: "hand-written" } }])).toBe(false);
  });

  it("stays up to date when only sidecar options change, and not when a bridge option does", () => {
    const first = injected(inject(bridgeApp([{ dnsServers: ["10.0.0.2"] }])));
    const sidecarOnly = injected(
      inject(first.definition, { explicit: { memoryReservation: 99, prefetch: false } }),
    );
    expect(sidecarOnly.upToDate).toBe(true);
    expect(sidecarOnly.definition).toEqual(first.definition);
    const noFallback = injected(inject(first.definition, { explicit: { fallback: false } }));
    expect(noFallback.upToDate).toBe(false);
    expect(noFallback.definition.containerDefinitions[0]?.dnsServers).toEqual([NODE_CACHE, "10.0.0.2"]);
  });
});
