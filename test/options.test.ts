/**
 * The options table (shared/engine/options.ts) as users meet it: the values each option accepts from a
 * flag, a variable or a tag, the exact message a bad value gets (naming where it came from), how the
 * layers merge, how `check` prints the values, and which options make a revision out of date.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { InvalidOptionError } from "#shared/engine/errors.ts";
import {
  DEFAULT_OPTIONS,
  describeOptions,
  mergeOptions,
  OPTION_SPECS,
  optionsDigest,
  optionsFromEnv,
  optionsFromTags,
  parseOptionValues,
} from "#shared/engine/options.ts";

/** What a flag value parses to (flags name their source as --name). */
const parsed = (name: string, raw: string) => parseOptionValues({ [name]: raw }, (n) => `--${n}`);

/** The message a bad flag value gets. */
function flagError(name: string, raw: string): string {
  try {
    parsed(name, raw);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ name: "InvalidOptionError", reason: "INVALID_OPTION" });
    return (error as Error).message;
  }
  throw new Error(`--${name} ${raw} was accepted`);
}

describe("values each option accepts", () => {
  it.each([
    ["fallback", "on", { fallback: true }],
    ["fallback", " Yes ", { fallback: true }],
    ["fallback", "enabled", { fallback: true }],
    ["fallback", "1", { fallback: true }],
    ["fallback", "TRUE", { fallback: true }],
    ["prefetch", "off", { prefetch: false }],
    ["prefetch", "No", { prefetch: false }],
    ["prefetch", "disabled", { prefetch: false }],
    ["prefetch", "0", { prefetch: false }],
    ["prefetch", "false", { prefetch: false }],
    ["cache-success", " 1024 ", { cacheSuccessCapacity: 1024 }],
    ["cache-success", "1000000", { cacheSuccessCapacity: 1_000_000 }],
    [
      "coredns-image",
      "  registry.example.com/coredns:1.12 ",
      { corednsImage: "registry.example.com/coredns:1.12" },
    ],
    ["upstream", "", { upstreams: [] }],
    ["upstream", " AUTO ", { upstreams: [] }],
    ["upstream", "10.0.0.2, 10.0.0.3 10.0.0.2", { upstreams: ["10.0.0.2", "10.0.0.3"] }],
    ["upstream", "fd00::53", { upstreams: ["fd00::53"] }],
    [
      "upstream",
      Array.from({ length: 15 }, (_, i) => `10.0.0.${i + 1}`).join(","),
      { upstreams: Array.from({ length: 15 }, (_, i) => `10.0.0.${i + 1}`) },
    ],
    ["serve-stale", "OFF", { serveStale: null }],
    ["serve-stale", "1h", { serveStale: "1h immediate" }],
    ["serve-stale", " 30M  Verify ", { serveStale: "30m verify" }],
    ["serve-stale", "1s", { serveStale: "1s immediate" }],
    ["serve-stale", "168h verify", { serveStale: "168h verify" }],
    ["serve-stale", "10080m", { serveStale: "10080m immediate" }],
    ["serve-stale", "604800s", { serveStale: "604800s immediate" }],
    ["wait-for", " HEALTHY ", { waitFor: "healthy" }],
    ["wait-for", "start", { waitFor: "start" }],
    ["health-port", " Auto ", { healthPort: "auto" }],
    ["health-port", "1024", { healthPort: 1024 }],
    ["metrics-port", " OFF ", { metricsPort: null }],
    ["metrics-port", "65535", { metricsPort: 65535 }],
    ["node-cache-address", " 169.254.20.10 ", { nodeCacheAddress: "169.254.20.10" }],
    ["node-cache-address", "169.254.1.0", { nodeCacheAddress: "169.254.1.0" }],
    ["node-cache-address", "169.254.168.255", { nodeCacheAddress: "169.254.168.255" }],
    ["node-cache-address", "169.254.176.0", { nodeCacheAddress: "169.254.176.0" }],
    ["node-cache-address", "169.254.254.255", { nodeCacheAddress: "169.254.254.255" }],
  ])("--%s %j", (name, raw, expected) => {
    expect(parsed(name, raw)).toEqual(expected);
  });

  it.each([
    ["fallback", "sometimes", '--fallback: expected on or off, got "sometimes"'],
    ["cache-success", "12", "--cache-success: expected a whole number from 1024 to 1000000, got 12"],
    [
      "cache-success",
      "1000001",
      "--cache-success: expected a whole number from 1024 to 1000000, got 1000001",
    ],
    ["cache-success", "1e4", '--cache-success: expected a whole number from 1024 to 1000000, got "1e4"'],
    ["cache-success", "-5", '--cache-success: expected a whole number from 1024 to 1000000, got "-5"'],
    ["resolver-attempts", "6", "--resolver-attempts: expected a whole number from 1 to 5, got 6"],
    ["coredns-image", "bad image", '--coredns-image: "bad image" is not an image reference'],
    ["init-image", "-busybox", '--init-image: "-busybox" is not an image reference'],
    ["init-image", "busybox:1.37!", '--init-image: "busybox:1.37!" is not an image reference'],
    [
      "upstream",
      Array.from({ length: 16 }, (_, i) => `10.0.0.${i + 1}`).join(" "),
      "--upstream: at most 15 upstreams, got 16",
    ],
    ["upstream", "fe80::1%eth0", '--upstream: "fe80::1%eth0" is not an IPv4 or IPv6 address'],
    [
      "upstream",
      "127.0.0.53",
      '--upstream: "127.0.0.53" is a loopback or unspecified address; the cache would query itself or nothing',
    ],
    [
      "upstream",
      "::",
      '--upstream: "::" is a loopback or unspecified address; the cache would query itself or nothing',
    ],
    [
      "upstream",
      "::ffff:0.0.0.0",
      '--upstream: "::ffff:0.0.0.0" is a loopback or unspecified address; the cache would query itself or nothing',
    ],
    [
      "serve-stale",
      "1d",
      '--serve-stale: expected off, or a duration such as 30m or 1h optionally followed by immediate or verify, got "1d"',
    ],
    [
      "serve-stale",
      "1h verify now",
      '--serve-stale: expected off, or a duration such as 30m or 1h optionally followed by immediate or verify, got "1h verify now"',
    ],
    ["serve-stale", "0s", '--serve-stale: expected a duration from 1s to 168h, got "0s"'],
    ["serve-stale", "169h", '--serve-stale: expected a duration from 1s to 168h, got "169h"'],
    ["serve-stale", "10081m", '--serve-stale: expected a duration from 1s to 168h, got "10081m"'],
    ["serve-stale", "604801s", '--serve-stale: expected a duration from 1s to 168h, got "604801s"'],
    ["wait-for", "ready", '--wait-for: expected start or healthy, got "ready"'],
    ["health-port", "1023", "--health-port: expected a whole number from 1024 to 65535, got 1023"],
    ["metrics-port", "65536", "--metrics-port: expected a whole number from 1024 to 65535, got 65536"],
    [
      "node-cache-address",
      "10.0.0.10",
      '--node-cache-address: expected an IPv4 link-local address (169.254.x.y), got "10.0.0.10"',
    ],
    [
      "node-cache-address",
      "fe80::10",
      '--node-cache-address: expected an IPv4 link-local address (169.254.x.y), got "fe80::10"',
    ],
  ])("--%s %j is refused: %s", (name, raw, message) => {
    expect(flagError(name, raw)).toBe(message);
  });

  it.each([
    "169.254.0.255",
    "169.254.169.253",
    "169.254.170.2",
    "169.254.171.255",
    "169.254.172.1",
    "169.254.175.255",
    "169.254.255.1",
  ])("--node-cache-address %s is in a range EC2 or ECS uses", (address) => {
    expect(flagError("node-cache-address", address)).toBe(
      `--node-cache-address: "${address}" is in a link-local range EC2 or ECS already uses (169.254.0.0/24, 169.254.169.0/24, 169.254.170.0/23, 169.254.172.0/22, 169.254.255.0/24)`,
    );
  });

  it("a bad value keeps the parser's error as its cause and names its source", () => {
    try {
      parseOptionValues({ memory: "8" }, (n) => `flag --${n}`);
      throw new Error("accepted");
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).source).toBe("flag --memory");
      expect(((error as Error).cause as Error).message).toBe(
        "expected a whole number from 16 to 4096, got 8",
      );
    }
  });
});

describe("where options come from", () => {
  it("environment variables: DNS_CACHE_<NAME>, empty ones unset, a bad one named", () => {
    expect(
      optionsFromEnv({
        DNS_CACHE_NODE_CACHE_ADDRESS: "169.254.20.11",
        DNS_CACHE_PREFETCH: "",
        PREFETCH: "off",
      }),
    ).toEqual({ nodeCacheAddress: "169.254.20.11" });
    expect(() => optionsFromEnv({ DNS_CACHE_CACHE_DENIAL_TTL: "7200" })).toThrow(
      "environment variable DNS_CACHE_CACHE_DENIAL_TTL: expected a whole number from 1 to 3600, got 7200",
    );
  });

  it("tags: dns-cache:<name>, other and reserved keys ignored, every bad one reported", () => {
    const { options, errors } = optionsFromTags(
      [
        { key: "dns-cache:prefetch", value: "off" },
        { key: "team", value: "dns" },
        { key: "dns-cache:version" },
        { key: "dns-cache:fallback" },
        { key: "dns-cache:upsteam", value: "10.0.0.2" },
      ],
      new Set(["dns-cache:version"]),
    );
    expect(options).toEqual({ prefetch: false });
    expect(errors).toEqual([
      'tag dns-cache:fallback: expected on or off, got ""',
      `tag dns-cache:upsteam is not a dns-cache option (known: ${OPTION_SPECS.map((s) => `dns-cache:${s.name}`).join(", ")})`,
    ]);
  });

  it("later layers win, an undefined value overrides nothing, and the defaults are never shared", () => {
    const merged = mergeOptions(
      { prefetch: false, fallback: false },
      { prefetch: undefined, fallback: true },
    );
    expect(merged).toEqual({ ...DEFAULT_OPTIONS, prefetch: false, fallback: true });
    merged.upstreams.push("10.0.0.2");
    expect(DEFAULT_OPTIONS.upstreams).toEqual([]);
  });
});

describe("how options are shown and recorded", () => {
  it("describes every option as its flag would be written", () => {
    const options = mergeOptions({
      upstreams: ["10.0.0.2", "10.0.0.3"],
      serveStale: null,
      metricsPort: 9153,
    });
    expect(Object.fromEntries(describeOptions(options).map(({ name, value }) => [name, value]))).toEqual({
      "coredns-image": DEFAULT_OPTIONS.corednsImage,
      "init-image": DEFAULT_OPTIONS.initImage,
      upstream: "10.0.0.2 10.0.0.3",
      fallback: "on",
      "cache-success": "9984",
      "cache-success-ttl": "300",
      "cache-denial": "9984",
      "cache-denial-ttl": "5",
      prefetch: "on",
      "serve-stale": "off",
      "health-check": "on",
      "wait-for": "start",
      "health-port": "auto",
      "metrics-port": "9153",
      memory: "32",
      "memory-limit": "128",
      "resolver-timeout": "2",
      "resolver-attempts": "2",
      "node-cache-address": "169.254.20.10",
    });
    const defaults = Object.fromEntries(
      describeOptions(mergeOptions()).map(({ name, value }) => [name, value]),
    );
    expect(defaults).toMatchObject({ upstream: "auto", "serve-stale": "1h verify", "metrics-port": "off" });
    expect(describeOptions(mergeOptions({ fallback: false })).find((o) => o.name === "fallback")?.value).toBe(
      "off",
    );
  });

  it("each path's digest changes with its own options only, and the two paths never share one", () => {
    const base = mergeOptions();
    const digest = optionsDigest(base);
    expect(digest).toMatch(/^[0-9a-f]{16}$/);
    expect(optionsDigest(mergeOptions({ prefetch: false }))).not.toBe(digest);
    expect(optionsDigest(mergeOptions({ fallback: false }))).not.toBe(digest);
    expect(optionsDigest(mergeOptions({ nodeCacheAddress: "169.254.20.11" }))).toBe(digest);
    const bridge = optionsDigest(base, "bridge");
    expect(bridge).not.toBe(digest);
    expect(optionsDigest(mergeOptions({ fallback: false }), "bridge")).not.toBe(bridge);
    expect(optionsDigest(mergeOptions({ prefetch: false }), "bridge")).toBe(bridge);
  });

  it("the recorded digest keeps its format, so revisions injected earlier stay up to date", () => {
    const sha = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);
    const options = mergeOptions();
    const awsvpc = describeOptions(options).filter(({ name }) => name !== "node-cache-address");
    expect(optionsDigest(options)).toBe(sha(JSON.stringify(awsvpc)));
    const bridge = [
      { name: "fallback", value: "on" },
      { name: "node-cache-address", value: "169.254.20.10" },
    ];
    expect(optionsDigest(options, "bridge")).toBe(sha(JSON.stringify({ path: "bridge", options: bridge })));
  });
});
