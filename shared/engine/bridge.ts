/**
 * The bridge strategy (EC2): no sidecar. Every container that has a network gets `dnsServers` = the node
 * cache's link-local address (a DAEMON service from infra/node-cache.yaml), then the VPC resolver when
 * fallback is on, then the servers it already had. What was there before is recorded in a docker label on
 * the container, so stripping restores it exactly and re-injecting gives the same bytes.
 */
import { isIP } from "node:net";
import { checkPlatform } from "./checks.ts";
import { REFUSAL_REASONS, type Refusal } from "./errors.ts";
import { BRIDGE_OPTION_NAMES, type InjectOptions, type OptionName } from "./options.ts";
import type { Container, TaskDefinitionInput } from "./task-definition.ts";

/** The VPC resolver at its link-local address (the same in every VPC; VPC+2 is the other way in). */
export const VPC_RESOLVER = "169.254.169.253";
/** glibc (MAXNS) and musl read at most this many nameserver lines; Docker writes them all. */
export const RESOLVER_MAX_NAMESERVERS = 3;
/** The docker label recording a container's fields before injection (JSON): the undo record. */
export const ORIGINAL_LABEL = "dns-cache.original";
/** The node cache daemon's CoreDNS replicas (infra/node-cache.yaml): how the health function finds them. */
export const NODE_CACHE_CONTAINERS: readonly string[] = ["dns-cache-node", "dns-cache-node-2"];

/** The record kept in ORIGINAL_LABEL: what was prepended, and the fields as they were. */
interface UndoRecord {
  added: string[];
  /** Absent: the container had no `dnsServers`. */
  dnsServers?: string[];
  /** true: the container had no `dockerLabels` (the label is the only one, and goes with it). */
  noLabels?: true;
}

/**
 * The network mode the task runs with: absent means bridge on EC2 and EXTERNAL (ECS's default), awsvpc is
 * required on Fargate (absent there is an error ECS reports, not bridge).
 */
export function effectiveNetworkMode(definition: TaskDefinitionInput): string | undefined {
  if (definition.networkMode !== undefined) return definition.networkMode;
  return definition.requiresCompatibilities?.includes("FARGATE") ? undefined : "bridge";
}

export function isBridge(definition: TaskDefinitionInput): boolean {
  return effectiveNetworkMode(definition) === "bridge";
}

function readRecord(container: Container): UndoRecord | undefined | "unreadable" {
  const raw = container.dockerLabels?.[ORIGINAL_LABEL];
  if (raw === undefined) return undefined;
  try {
    // Any JSON but an object with a string array `added` is someone else's (null.added throws, caught).
    const r = JSON.parse(raw) as UndoRecord;
    const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");
    if (!strings(r.added)) return "unreadable";
    if (r.dnsServers !== undefined && !strings(r.dnsServers)) return "unreadable";
    return r;
  } catch {
    return "unreadable";
  }
}

/** True when any container carries a readable undo record: the definition was bridge-injected. */
export function hasBridgeInjection(containers: ReadonlyArray<{ dockerLabels?: Record<string, string> }>) {
  return containers.some((c) => {
    const r = readRecord(c as Container);
    return r !== undefined && r !== "unreadable";
  });
}

/** `added` first, then the container's own servers without repeats (a server listed twice is asked twice). */
function merged(added: readonly string[], own: readonly string[] | undefined): string[] {
  return [...new Set([...added, ...(own ?? [])])];
}

/**
 * Undoes a bridge injection in place: each container with our record gets its `dnsServers` back. If the
 * servers were edited since (a hand-made copy), only our leading entries are removed. Returns refusals for
 * labels we cannot read (someone else's label under our name).
 */
export function stripBridge(containers: Container[]): { stripped: boolean; refusals: Refusal[] } {
  let stripped = false;
  const refusals: Refusal[] = [];
  for (const c of containers) {
    const record = readRecord(c);
    if (record === undefined) continue;
    if (record === "unreadable") {
      refusals.push({
        reason: REFUSAL_REASONS.NAME_CONFLICT,
        message: `container "${c.name}" has a docker label ${ORIGINAL_LABEL} that dns-cache did not write; remove or rename it`,
      });
      continue;
    }
    stripped = true;
    const current = Array.isArray(c.dnsServers) ? c.dnsServers : [];
    const untouched = JSON.stringify(current) === JSON.stringify(merged(record.added, record.dnsServers));
    let restored: string[] | undefined = record.dnsServers;
    if (!untouched) {
      const rest = [...current];
      // Past the end rest[0] is undefined, which `added` (strings only) never holds.
      while (record.added.includes(rest[0] as string)) rest.shift();
      restored = rest.length > 0 || record.dnsServers !== undefined ? rest : undefined;
    }
    if (restored === undefined) delete c.dnsServers;
    else c.dnsServers = restored;
    const labels = c.dockerLabels ?? {};
    delete labels[ORIGINAL_LABEL];
    if (record.noLabels && Object.keys(labels).length === 0) delete c.dockerLabels;
  }
  return { stripped, refusals };
}

/** A resolver inside the container's own network namespace (loopback, or the unspecified address). */
function isLoopback(server: string): boolean {
  return /^(127\.|0\.0\.0\.0$|::1$|::$|::ffff:127\.|0:0:0:0:0:0:0:1$)/i.test(server.trim());
}

/** Why the definition cannot use the node cache: platform, compatibilities, networks, loopback servers. */
export function checkBridge(definition: TaskDefinitionInput): Refusal[] {
  const refusals: Refusal[] = [];
  const compat = definition.requiresCompatibilities ?? [];
  if (compat.includes("FARGATE")) {
    refusals.push({
      reason: REFUSAL_REASONS.NETWORK_MODE_NOT_AWSVPC,
      message: "network mode is bridge but the definition requires FARGATE, which runs awsvpc only",
    });
  }
  const elsewhere = compat.filter((c) => c !== "EC2" && c !== "FARGATE");
  if (elsewhere.length > 0) {
    refusals.push({
      reason: REFUSAL_REASONS.BRIDGE_NOT_EC2,
      message: `the definition may run on ${elsewhere.join(", ")}; the node cache daemon (infra/node-cache.yaml) runs only on EC2 container instances, and where its address is absent every lookup waits for a timeout: require EC2 only`,
    });
  }
  // The Windows rules are the sidecar path's; only their verdict is wanted here.
  refusals.push(...checkPlatform(definition).filter((r) => r.reason === REFUSAL_REASONS.WINDOWS_PLATFORM));
  const networked = definition.containerDefinitions.filter((c) => c.disableNetworking !== true);
  if (networked.length === 0) {
    refusals.push({
      reason: REFUSAL_REASONS.NETWORK_DISABLED,
      message: "every container sets disableNetworking: there is no lookup to cache",
    });
  }
  for (const c of networked) {
    const loopback = c.dnsServers?.find(isLoopback);
    if (loopback !== undefined) {
      refusals.push({
        reason: REFUSAL_REASONS.DNS_SERVERS_LOOPBACK,
        message: `container "${c.name}" sends DNS to ${loopback}, a resolver inside its own network namespace; the node cache put before it would bypass it: remove the loopback server or leave this family out`,
      });
    }
  }
  return refusals;
}

export interface BridgeContainerPlan {
  name: string;
  dnsServers: string[];
}

/** Adds the node cache (and the VPC resolver) in front of each networked container's servers, in place. */
export function wireNodeCache(
  containers: Container[],
  options: InjectOptions,
): { plan: BridgeContainerPlan[]; warnings: string[] } {
  const added = options.fallback ? [options.nodeCacheAddress, VPC_RESOLVER] : [options.nodeCacheAddress];
  const plan: BridgeContainerPlan[] = [];
  const warnings: string[] = [];
  for (const c of containers) {
    if (c.disableNetworking === true) continue;
    const own = Array.isArray(c.dnsServers) ? c.dnsServers : undefined;
    const record: UndoRecord = { added };
    if (own !== undefined) record.dnsServers = [...own];
    if (c.dockerLabels === undefined) record.noLabels = true;
    const servers = merged(added, own);
    c.dnsServers = servers;
    c.dockerLabels = { ...(c.dockerLabels ?? {}), [ORIGINAL_LABEL]: JSON.stringify(record) };
    plan.push({ name: c.name, dnsServers: servers });
    warnings.push(...serverWarnings(c.name, own, servers, added));
  }
  return { plan, warnings };
}

function serverWarnings(
  name: string,
  own: readonly string[] | undefined,
  servers: string[],
  added: string[],
): string[] {
  const warnings: string[] = [];
  const custom = own?.filter((s) => !added.includes(s) && isIP(s.trim()) !== 0) ?? [];
  if (custom.length > 0) {
    warnings.push(
      `container "${name}" had its own dnsServers (${custom.join(", ")}); they are kept after the node cache, but the cache forwards to its own upstream (the VPC resolver unless the daemon's Upstream parameter says otherwise), and a name only they know gets NXDOMAIN there, which resolvers do not retry elsewhere: forward such zones with Route 53 Resolver rules or the daemon's Upstream`,
    );
  }
  const unused = servers.slice(RESOLVER_MAX_NAMESERVERS);
  if (unused.length > 0) {
    warnings.push(
      `container "${name}" now has ${servers.length} dnsServers; glibc and musl read only the first ${RESOLVER_MAX_NAMESERVERS}, so ${unused.join(", ")} will not be asked (they stay in the definition)`,
    );
  }
  return warnings;
}

/** Options the definition sets (tags) that a bridge injection does not use: the daemon has its own. */
export function ignoredOptionWarnings(sources: Record<OptionName, string>): string[] {
  return (Object.entries(sources) as Array<[OptionName, string]>)
    .filter(([name, source]) => source === "tag" && !BRIDGE_OPTION_NAMES.has(name))
    .map(
      ([name]) =>
        `tag dns-cache:${name} has no effect in bridge mode: the node cache is configured by the parameters of infra/node-cache.yaml`,
    );
}
