import { describe, expect, it } from "vitest";
import { runCli } from "#shared/cli/cli.ts";
import { ORIGINAL_LABEL, VPC_RESOLVER } from "#shared/engine/bridge.ts";
import { MARKER_TAGS } from "#shared/engine/constants.ts";
import { InvalidOptionError, REFUSAL_REASONS } from "#shared/engine/errors.ts";
import { type Injected, type InjectResult, inject, serialize } from "#shared/engine/inject.ts";
import { DEFAULT_OPTIONS, mergeOptions, optionsDigest, parseOptionValues } from "#shared/engine/options.ts";
import { strip } from "#shared/engine/strip.ts";
import { bridgeApp } from "./helpers/fixtures.ts";

function injected(result: InjectResult): Injected {
  if (result.outcome !== "injected") throw new Error(`refused: ${JSON.stringify(result.refusals)}`);
  return result;
}

const reasons = (r: InjectResult) => (r.outcome === "refused" ? r.refusals.map((x) => x.reason) : []);
const servers = (r: InjectResult, i = 0) => injected(r).definition.containerDefinitions[i]?.dnsServers;

describe("bridge injection", () => {
  it("puts the node cache then the VPC resolver first, keeps the container's own servers, adds no container", () => {
    const r = injected(inject(bridgeApp([{ dnsServers: ["10.0.0.2"] }, {}])));
    expect(r.path).toBe("bridge");
    expect(servers(r)).toEqual(["169.254.20.10", VPC_RESOLVER, "10.0.0.2"]);
    expect(servers(r, 1)).toEqual(["169.254.20.10", VPC_RESOLVER]);
    expect(r.definition.containerDefinitions.map((c) => c.name)).toEqual(["c0", "c1"]);
    expect(r.definition.volumes).toBeUndefined();
    expect(r.healthPort).toBeNull();
    expect(r.memory.added).toBe(0);
    expect(r.definition.tags?.map((t) => t.key)).toEqual([
      "dns-cache",
      MARKER_TAGS.version,
      MARKER_TAGS.options,
    ]);
  });

  it("does not repeat a server the container already lists", () => {
    const r = inject(bridgeApp([{ dnsServers: [VPC_RESOLVER, "169.254.20.10", "10.0.0.2"] }]));
    expect(servers(r)).toEqual(["169.254.20.10", VPC_RESOLVER, "10.0.0.2"]);
    expect(serialize(strip(injected(r).definition).definition)).toContain(
      `"dnsServers": [\n        "${VPC_RESOLVER}",\n        "169.254.20.10",\n        "10.0.0.2"\n      ]`,
    );
  });

  it("with fallback off, the node cache alone comes first; the option and the address come from tags", () => {
    const tags = [
      { key: "dns-cache", value: "enabled" },
      { key: "dns-cache:fallback", value: "off" },
      { key: "dns-cache:node-cache-address", value: "169.254.53.53" },
    ];
    const r = injected(inject(bridgeApp([{ dnsServers: ["10.0.0.2"] }], { tags })));
    expect(servers(r)).toEqual(["169.254.53.53", "10.0.0.2"]);
    expect(r.optionSources["node-cache-address"]).toBe("tag");
  });

  it("warns when a container ends up with more nameservers than glibc and musl read", () => {
    const r = injected(inject(bridgeApp([{ dnsServers: ["10.0.0.2", "10.0.1.2"] }])));
    expect(servers(r)).toHaveLength(4);
    expect(r.warnings.join("\n")).toMatch(/read only the first 3, so 10\.0\.1\.2 will not be asked/);
  });

  it("warns that sidecar-only option tags do nothing here", () => {
    const tags = [
      { key: "dns-cache", value: "enabled" },
      { key: "dns-cache:memory", value: "64" },
    ];
    const r = injected(inject(bridgeApp([{}], { tags })));
    expect(r.warnings.join("\n")).toMatch(/dns-cache:memory has no effect in bridge mode/);
  });

  it("leaves containers without a network untouched, and refuses a task where none has one", () => {
    const r = injected(inject(bridgeApp([{}, { disableNetworking: true, essential: false }])));
    expect(r.definition.containerDefinitions[1]).not.toHaveProperty("dnsServers");
    expect(r.definition.containerDefinitions[1]).not.toHaveProperty("dockerLabels");
    expect(reasons(inject(bridgeApp([{ disableNetworking: true }])))).toEqual([
      REFUSAL_REASONS.NETWORK_DISABLED,
    ]);
  });

  it("keeps links, extraHosts and dnsSearchDomains: Docker writes /etc/hosts for links, dnsServers does not touch it", () => {
    const c = {
      links: ["db:database"],
      extraHosts: [{ hostname: "ledger", ipAddress: "10.1.2.3" }],
      dnsSearchDomains: ["corp.internal"],
    };
    const out = injected(inject(bridgeApp([c, {}]))).definition.containerDefinitions[0];
    expect(out).toMatchObject(c);
  });

  it("refuses loopback servers, Fargate, ECS Anywhere and Windows with their own reasons", () => {
    expect(reasons(inject(bridgeApp([{ dnsServers: ["127.0.0.11"] }])))).toEqual([
      REFUSAL_REASONS.DNS_SERVERS_LOOPBACK,
    ]);
    expect(reasons(inject(bridgeApp([{ dnsServers: ["::1"] }])))).toEqual([
      REFUSAL_REASONS.DNS_SERVERS_LOOPBACK,
    ]);
    // A loopback server on a container without a network matters to nobody.
    expect(inject(bridgeApp([{}, { disableNetworking: true, dnsServers: ["127.0.0.1"] }])).outcome).toBe(
      "injected",
    );
    expect(reasons(inject(bridgeApp([{}], { requiresCompatibilities: ["FARGATE"] })))).toEqual([
      REFUSAL_REASONS.NETWORK_MODE_NOT_AWSVPC,
    ]);
    expect(reasons(inject(bridgeApp([{}], { requiresCompatibilities: ["EC2", "EXTERNAL"] })))).toEqual([
      REFUSAL_REASONS.BRIDGE_NOT_EC2,
    ]);
    const windows = bridgeApp([{}], {
      runtimePlatform: { operatingSystemFamily: "WINDOWS_SERVER_2022_CORE" },
    });
    expect(reasons(inject(windows))).toEqual([REFUSAL_REASONS.WINDOWS_PLATFORM]);
    const windowsImage = bridgeApp([{ image: "mcr.microsoft.com/windows/servercore/iis:latest" }]);
    expect(reasons(inject(windowsImage))).toEqual([REFUSAL_REASONS.WINDOWS_PLATFORM]);
  });

  it("refuses a label under our name that it did not write, rather than misreading it", () => {
    const r = inject(bridgeApp([{ dockerLabels: { [ORIGINAL_LABEL]: "hand-written" } }]));
    expect(reasons(r)).toEqual([REFUSAL_REASONS.NAME_CONFLICT]);
  });

  it("after a hand edit of an injected copy, strips only its own leading servers", () => {
    const out = injected(inject(bridgeApp([{ dnsServers: ["10.0.0.2"] }]))).definition;
    const [c] = out.containerDefinitions;
    if (c) c.dnsServers = ["169.254.20.10", VPC_RESOLVER, "10.9.9.9"];
    expect(strip(out).definition.containerDefinitions[0]?.dnsServers).toEqual(["10.9.9.9"]);
  });

  it("an awsvpc definition keeps its options digest: the bridge-only option does not count there", () => {
    const withAddress = mergeOptions({ nodeCacheAddress: "169.254.99.1" });
    expect(optionsDigest(withAddress)).toBe(optionsDigest(mergeOptions()));
    expect(optionsDigest(withAddress, "bridge")).not.toBe(optionsDigest(mergeOptions(), "bridge"));
    // Sidecar-only options never make a bridge revision out of date.
    expect(optionsDigest(mergeOptions({ memoryReservation: 99 }), "bridge")).toBe(
      optionsDigest(mergeOptions(), "bridge"),
    );
  });
});

describe("node-cache-address option", () => {
  const parse = (v: string) => parseOptionValues({ "node-cache-address": v }, () => "--node-cache-address");

  it("defaults to the NodeLocal DNSCache convention", () => {
    expect(DEFAULT_OPTIONS.nodeCacheAddress).toBe("169.254.20.10");
  });

  it.each(["169.254.20.10", " 169.254.1.53 ", "169.254.254.254"])("accepts %s", (v) => {
    expect(parse(v).nodeCacheAddress).toBe(v.trim());
  });

  it.each([
    ["10.0.0.10", /link-local/],
    ["127.0.0.1", /link-local/],
    ["169.254.169.253", /already uses/],
    ["169.254.169.254", /already uses/],
    ["169.254.170.2", /already uses/],
    ["169.254.172.1", /already uses/],
    ["169.254.0.5", /already uses/],
    ["fe80::10", /IPv4 link-local/],
    ["dns", /IPv4 link-local/],
  ])("refuses %s", (v, message) => {
    expect(() => parse(v)).toThrow(InvalidOptionError);
    expect(() => parse(v)).toThrow(message);
  });
});

describe("dns-cache check on a bridge definition", () => {
  async function check(definition: unknown, format = "text") {
    let out = "";
    const code = await runCli(["check", "-", "--format", format], {
      readStdin: async () => JSON.stringify(definition),
      stdinIsTerminal: false,
      stdout: (t) => {
        out += t;
      },
      stderr: () => undefined,
    });
    return { code, out };
  }

  it("explains the dnsServers and the prerequisite daemon, with its deploy command", async () => {
    const { code, out } = await check(bridgeApp([{ dnsServers: ["10.0.0.2"] }, { disableNetworking: true }]));
    expect(code).toBe(0);
    expect(out).toMatch(/bridge mode \(EC2\): no sidecar/);
    expect(out).toContain("~ container c0: dnsServers 169.254.20.10, 169.254.169.253, 10.0.0.2");
    expect(out).toContain("= container c1: unchanged (disableNetworking)");
    expect(out).toMatch(/aws cloudformation deploy --template-file infra\/node-cache\.yaml/);
    expect(out).not.toMatch(/coredns-image/);
  });

  it("says the path in JSON", async () => {
    const body = JSON.parse((await check(bridgeApp(), "json")).out);
    expect(body.path).toBe("bridge");
    expect(body.bridge.containers).toEqual([{ name: "c0", dnsServers: ["169.254.20.10", VPC_RESOLVER] }]);
  });
});
