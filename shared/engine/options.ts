import { createHash } from "node:crypto";
import { BlockList, isIP } from "node:net";
import { InvalidOptionError } from "./errors.ts";

/** Everything a user can tune. One table below drives CLI flags, environment variables and tags. */
export interface InjectOptions {
  corednsImage: string;
  initImage: string;
  /** Empty: forward to the task's own nameservers, read by the init script at start. */
  upstreams: string[];
  /** Keep the original nameservers after 127.0.0.1 in resolv.conf. */
  fallback: boolean;
  cacheSuccessCapacity: number;
  cacheSuccessTtl: number;
  cacheDenialCapacity: number;
  cacheDenialTtl: number;
  prefetch: boolean;
  /** CoreDNS serve_stale arguments ("1h immediate"), or null for off. */
  serveStale: string | null;
  /** A container health check that asks the cache a DNS question it answers itself. */
  healthCheck: boolean;
  /** What the app containers wait for: the cache's START (default) or HEALTHY (needs the health check). */
  waitFor: "start" | "healthy";
  /** "auto" picks a free port from a fixed list. */
  healthPort: number | "auto";
  /** null: no Prometheus endpoint. */
  metricsPort: number | null;
  memoryReservation: number;
  memoryLimit: number;
  resolverTimeout: number;
  resolverAttempts: number;
  /** Bridge mode: the node-local cache's link-local address, first in every container's dnsServers. */
  nodeCacheAddress: string;
}

export const TAG_PREFIX = "dns-cache:";

// Pinned, multi-arch, pulled from Amazon ECR Public (no anonymous pull limits).
export const DEFAULT_OPTIONS: Readonly<InjectOptions> = Object.freeze({
  corednsImage: "public.ecr.aws/eks-distro/coredns/coredns:v1.13.2-eks-1-36-1",
  initImage: "public.ecr.aws/docker/library/busybox:1.37.0-musl",
  upstreams: [],
  fallback: true,
  cacheSuccessCapacity: 9984,
  cacheSuccessTtl: 300,
  cacheDenialCapacity: 9984,
  cacheDenialTtl: 5,
  prefetch: true,
  serveStale: "1h verify",
  healthCheck: true,
  waitFor: "start",
  healthPort: "auto",
  metricsPort: null,
  memoryReservation: 32,
  memoryLimit: 128,
  resolverTimeout: 2,
  resolverAttempts: 2,
  nodeCacheAddress: "169.254.20.10",
});

type OptionKey = keyof InjectOptions;

export interface OptionSpec<K extends OptionKey = OptionKey> {
  readonly key: K;
  /** kebab-case; the tag is `dns-cache:<name>`, the flag `--<name>`, the variable `DNS_CACHE_<NAME>`. */
  readonly name: string;
  readonly help: string;
  readonly parse: (raw: string) => InjectOptions[K];
  // Method syntax: a spec for one option is usable where any spec is expected.
  format(value: InjectOptions[K]): string;
}

const ON = new Set(["on", "true", "yes", "enabled", "1"]);
const OFF = new Set(["off", "false", "no", "disabled", "0"]);

function parseBool(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (ON.has(v)) return true;
  if (OFF.has(v)) return false;
  throw new Error(`expected on or off, got "${raw}"`);
}

function intIn(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const v = raw.trim();
    if (!/^\d+$/.test(v)) throw new Error(`expected a whole number from ${min} to ${max}, got "${raw}"`);
    const n = Number(v);
    if (n < min || n > max) throw new Error(`expected a whole number from ${min} to ${max}, got ${n}`);
    return n;
  };
}

// Characters ECS allows in tag values, so an image can always be given by tag as well.
const IMAGE = /^[a-z0-9][a-z0-9._\-/:@]{0,254}$/i;

function parseImage(raw: string): string {
  const v = raw.trim();
  if (!IMAGE.test(v)) throw new Error(`"${raw}" is not an image reference`);
  return v;
}

const MAX_UPSTREAMS = 15; // the forward plugin's limit

// Addresses the cache must never forward to: itself (a loop) or nowhere.
const NOT_AN_UPSTREAM = new BlockList();
NOT_AN_UPSTREAM.addSubnet("127.0.0.0", 8, "ipv4");
NOT_AN_UPSTREAM.addAddress("0.0.0.0", "ipv4");
NOT_AN_UPSTREAM.addAddress("::1", "ipv6");
NOT_AN_UPSTREAM.addAddress("::", "ipv6");
NOT_AN_UPSTREAM.addSubnet("::ffff:127.0.0.0", 104, "ipv6");
NOT_AN_UPSTREAM.addAddress("::ffff:0.0.0.0", "ipv6");

function parseUpstreams(raw: string): string[] {
  const v = raw.trim();
  if (v === "" || v.toLowerCase() === "auto") return [];
  const list = [...new Set(v.split(/[\s,]+/))];
  if (list.length > MAX_UPSTREAMS) throw new Error(`at most ${MAX_UPSTREAMS} upstreams, got ${list.length}`);
  for (const ip of list) {
    // A zone index (fe80::1%eth0) names an interface of this host, not of the task.
    const family = ip.includes("%") ? 0 : isIP(ip);
    if (family === 0) throw new Error(`"${ip}" is not an IPv4 or IPv6 address`);
    if (NOT_AN_UPSTREAM.check(ip, family === 4 ? "ipv4" : "ipv6")) {
      throw new Error(
        `"${ip}" is a loopback or unspecified address; the cache would query itself or nothing`,
      );
    }
  }
  return list;
}

// Link-local IPv4 minus what EC2 and ECS already use there: 169.254.169.0/24 (VPC resolver, IMDS, time
// sync), 169.254.170.0/23 (task credentials and metadata endpoints) and 169.254.172.0/22 (awsvpc tasks'
// metadata bridge on EC2); RFC 3927 also reserves the first and last /24.
const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet("169.254.0.0", 16, "ipv4");
const TAKEN_LINK_LOCAL = new BlockList();
for (const [net, prefix] of [
  ["169.254.0.0", 24],
  ["169.254.255.0", 24],
  ["169.254.169.0", 24],
  ["169.254.170.0", 23],
  ["169.254.172.0", 22],
] as const)
  TAKEN_LINK_LOCAL.addSubnet(net, prefix, "ipv4");

function parseNodeCacheAddress(raw: string): string {
  const v = raw.trim();
  if (isIP(v) !== 4 || !LINK_LOCAL.check(v, "ipv4")) {
    throw new Error(`expected an IPv4 link-local address (169.254.x.y), got "${raw}"`);
  }
  if (TAKEN_LINK_LOCAL.check(v, "ipv4")) {
    throw new Error(
      `"${v}" is in a link-local range EC2 or ECS already uses (169.254.0.0/24, 169.254.169.0/24, 169.254.170.0/23, 169.254.172.0/22, 169.254.255.0/24)`,
    );
  }
  return v;
}

const DURATION = /^(\d+)(s|m|h)$/;

/** "off", or a duration and CoreDNS's refresh mode: "1h" (immediate), "1h verify". */
function parseServeStale(raw: string): string | null {
  const v = raw.trim().toLowerCase();
  if (OFF.has(v)) return null;
  const [duration = "", mode = "immediate", ...rest] = v.split(/\s+/);
  const m = DURATION.exec(duration);
  if (!m || rest.length > 0 || !["immediate", "verify"].includes(mode)) {
    throw new Error(
      `expected off, or a duration such as 30m or 1h optionally followed by immediate or verify, got "${raw}"`,
    );
  }
  const seconds = Number(m[1]) * (m[2] === "h" ? 3600 : m[2] === "m" ? 60 : 1);
  if (seconds < 1 || seconds > 7 * 86400)
    throw new Error(`expected a duration from 1s to 168h, got "${raw}"`);
  return `${duration} ${mode}`;
}

const port = intIn(1024, 65535);

function parseWaitFor(raw: string): "start" | "healthy" {
  const v = raw.trim().toLowerCase();
  if (v === "start" || v === "healthy") return v;
  throw new Error(`expected start or healthy, got "${raw}"`);
}

function parseHealthPort(raw: string): number | "auto" {
  return raw.trim().toLowerCase() === "auto" ? "auto" : port(raw);
}

function parseMetricsPort(raw: string): number | null {
  return OFF.has(raw.trim().toLowerCase()) ? null : port(raw);
}

const onOff = (v: boolean) => (v ? "on" : "off");
const str = (v: unknown) => String(v);

function spec<K extends OptionKey>(s: OptionSpec<K>): OptionSpec<K> {
  return s;
}

export const OPTION_SPECS = [
  spec({
    key: "corednsImage",
    name: "coredns-image",
    help: "CoreDNS image for the cache container",
    parse: parseImage,
    format: str,
  }),
  spec({
    key: "initImage",
    name: "init-image",
    help: "busybox image (a static -musl tag) for the init container",
    parse: parseImage,
    format: str,
  }),
  spec({
    key: "upstreams",
    name: "upstream",
    help: "resolvers the cache forwards to, space-separated; auto = the task's own nameservers",
    parse: parseUpstreams,
    format: (v) => (v.length === 0 ? "auto" : v.join(" ")),
  }),
  spec({
    key: "fallback",
    name: "fallback",
    help: "keep the original nameservers after the cache in resolv.conf (on|off)",
    parse: parseBool,
    format: onOff,
  }),
  spec({
    key: "cacheSuccessCapacity",
    name: "cache-success",
    help: "capacity of the answer cache, entries",
    parse: intIn(1024, 1_000_000),
    format: str,
  }),
  spec({
    key: "cacheSuccessTtl",
    name: "cache-success-ttl",
    help: "longest time an answer is cached, seconds",
    parse: intIn(1, 86400),
    format: str,
  }),
  spec({
    key: "cacheDenialCapacity",
    name: "cache-denial",
    help: "capacity of the NXDOMAIN/NODATA cache, entries",
    parse: intIn(1024, 1_000_000),
    format: str,
  }),
  spec({
    key: "cacheDenialTtl",
    name: "cache-denial-ttl",
    help: "longest time a negative answer is cached, seconds",
    parse: intIn(1, 3600),
    format: str,
  }),
  spec({
    key: "prefetch",
    name: "prefetch",
    help: "refresh popular names before they expire (on|off)",
    parse: parseBool,
    format: onOff,
  }),
  spec({
    key: "serveStale",
    name: "serve-stale",
    help: "answer from expired entries for this long; verify: only when the upstream fails to answer, immediate: at once, refreshing behind the answer (off|1h verify|30m immediate…)",
    parse: parseServeStale,
    format: (v) => v ?? "off",
  }),
  spec({
    key: "healthCheck",
    name: "health-check",
    help: "container health check that asks the cache a DNS question it answers itself (on|off)",
    parse: parseBool,
    format: onOff,
  }),
  spec({
    key: "waitFor",
    name: "wait-for",
    help: "what app containers wait for: the cache's START, or HEALTHY (about 5 s more per task start; needs health-check on)",
    parse: parseWaitFor,
    format: str,
  }),
  spec({
    key: "healthPort",
    name: "health-port",
    help: "127.0.0.1 port of CoreDNS's health endpoint (auto|1024-65535)",
    parse: parseHealthPort,
    format: str,
  }),
  spec({
    key: "metricsPort",
    name: "metrics-port",
    help: "127.0.0.1 port for Prometheus metrics (off|1024-65535)",
    parse: parseMetricsPort,
    format: (v) => (v === null ? "off" : String(v)),
  }),
  spec({
    key: "memoryReservation",
    name: "memory",
    help: "memory reserved for the cache container, MiB",
    parse: intIn(16, 4096),
    format: str,
  }),
  spec({
    key: "memoryLimit",
    name: "memory-limit",
    help: "hard memory limit of the cache container, MiB",
    parse: intIn(16, 16384),
    format: str,
  }),
  spec({
    key: "resolverTimeout",
    name: "resolver-timeout",
    help: "resolv.conf timeout option, seconds",
    parse: intIn(1, 30),
    format: str,
  }),
  spec({
    key: "resolverAttempts",
    name: "resolver-attempts",
    help: "resolv.conf attempts option",
    parse: intIn(1, 5),
    format: str,
  }),
  spec({
    key: "nodeCacheAddress",
    name: "node-cache-address",
    help: "bridge mode: link-local address of the node cache daemon (infra/node-cache.yaml), first in dnsServers",
    parse: parseNodeCacheAddress,
    format: str,
  }),
] as const satisfies readonly OptionSpec[];

export type OptionName = (typeof OPTION_SPECS)[number]["name"];

export function tagKeyOf(spec: OptionSpec): string {
  return `${TAG_PREFIX}${spec.name}`;
}

export function envNameOf(spec: OptionSpec): string {
  return `DNS_CACHE_${spec.name.replaceAll("-", "_").toUpperCase()}`;
}

function parseWith(spec: OptionSpec, raw: string, source: string): unknown {
  try {
    return spec.parse(raw);
  } catch (error) {
    throw new InvalidOptionError(source, (error as Error).message, { cause: error });
  }
}

export type PartialOptions = Partial<InjectOptions>;

/** Parses raw strings keyed by option name (flags); unknown names are errors. */
export function parseOptionValues(
  raw: Readonly<Record<string, string | undefined>>,
  sourceOf: (name: string) => string,
): PartialOptions {
  const out: Record<string, unknown> = {};
  for (const s of OPTION_SPECS) {
    const value = raw[s.name];
    if (value !== undefined) out[s.key] = parseWith(s, value, sourceOf(s.name));
  }
  return out as PartialOptions;
}

/** Reads `DNS_CACHE_*` option variables; an invalid value names its variable. */
export function optionsFromEnv(env: Readonly<Record<string, string | undefined>>): PartialOptions {
  const out: Record<string, unknown> = {};
  for (const s of OPTION_SPECS) {
    const name = envNameOf(s);
    const value = env[name];
    if (value !== undefined && value !== "") out[s.key] = parseWith(s, value, `environment variable ${name}`);
  }
  return out as PartialOptions;
}

/** Options set by `dns-cache:<name>` tags. Returns the parsed options and one message per bad tag. */
export function optionsFromTags(
  tags: ReadonlyArray<{ key?: string; value?: string }>,
  reservedKeys: ReadonlySet<string>,
): { options: PartialOptions; errors: string[] } {
  const out: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const { key, value } of tags) {
    if (!key?.startsWith(TAG_PREFIX) || reservedKeys.has(key)) continue;
    const s = OPTION_SPECS.find((o) => tagKeyOf(o) === key);
    if (!s) {
      errors.push(
        `tag ${key} is not a dns-cache option (known: ${OPTION_SPECS.map((o) => tagKeyOf(o)).join(", ")})`,
      );
      continue;
    }
    try {
      out[s.key] = s.parse(value ?? "");
    } catch (error) {
      errors.push(`tag ${key}: ${(error as Error).message}`);
    }
  }
  return { options: out as PartialOptions, errors };
}

/** Later layers win: defaults < deployment (env) < tags < explicit (flags). */
export function mergeOptions(...layers: PartialOptions[]): InjectOptions {
  const merged: InjectOptions = { ...DEFAULT_OPTIONS, upstreams: [...DEFAULT_OPTIONS.upstreams] };
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (v !== undefined) (merged as unknown as Record<string, unknown>)[k] = v;
    }
  }
  return merged;
}

export function describeOptions(options: InjectOptions): Array<{ name: string; value: string }> {
  return OPTION_SPECS.map((s) => ({
    name: s.name,
    value: (s.format as (v: unknown) => string)(options[s.key]),
  }));
}

/** Options that only change a bridge injection, and the only ones that do (the daemon has its own settings). */
export const BRIDGE_OPTION_NAMES: ReadonlySet<OptionName> = new Set(["node-cache-address", "fallback"]);
const BRIDGE_ONLY: ReadonlySet<OptionName> = new Set(["node-cache-address"]);

/**
 * Short, stable digest of the options that shape the output, recorded on injected revisions. Each path
 * digests only its own options, so a bridge-only option never makes an awsvpc revision out of date.
 */
export function optionsDigest(options: InjectOptions, path: "awsvpc" | "bridge" = "awsvpc"): string {
  const relevant = describeOptions(options).filter(({ name }) =>
    path === "bridge" ? BRIDGE_OPTION_NAMES.has(name as OptionName) : !BRIDGE_ONLY.has(name as OptionName),
  );
  const canonical = JSON.stringify(path === "bridge" ? { path, options: relevant } : relevant);
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}
