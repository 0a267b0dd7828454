/**
 * The bridge path, where a container's own dnsServers decide what is refused and what is kept: every
 * spelling of a loopback resolver is refused (the node cache put before it would bypass it), and
 * addresses that only look like one are wired as usual.
 */
import { describe, expect, it } from "vitest";
import { VPC_RESOLVER } from "#shared/engine/bridge.ts";
import { REFUSAL_REASONS } from "#shared/engine/errors.ts";
import { inject } from "#shared/engine/inject.ts";
import type { Container, TaskDefinitionInput } from "#shared/engine/task-definition.ts";

function bridgeApp(containers: Partial<Container>[], overrides: Partial<TaskDefinitionInput> = {}) {
  return {
    family: "web",
    networkMode: "bridge",
    requiresCompatibilities: ["EC2"],
    containerDefinitions: containers.map((c, i) => ({
      name: `c${i}`,
      image: "nginx:1.27",
      memoryReservation: 128,
      essential: i === 0,
      ...c,
    })),
    tags: [{ key: "dns-cache", value: "enabled" }],
    ...overrides,
  } as TaskDefinitionInput;
}

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
