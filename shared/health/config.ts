import {
  ConfigError,
  type Env,
  parseTagMatch,
  readEnum,
  readInt,
  readList,
  type TagMatch,
} from "#shared/runtime/env.ts";

const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const CLUSTER_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/;
const EVENT_BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;
const EVENT_BUS_ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[/.\-_A-Za-z0-9]{1,256}$/;

export interface HealthConfig {
  /** Event bus (name or ARN) the alerts are put on. */
  alertBus: string;
  /** Whether scheduled events run a sweep (off: they are ignored). */
  sweep: boolean;
  /** Clusters (names or ARNs) the sweep scans; empty: every cluster of the account and region. */
  clusters: string[];
  /** ECS calls in flight at once during a sweep. */
  sweepConcurrency: number;
  /** The tag that opts a task family in (as the injector's): drift is judged by it. */
  optIn: TagMatch;
}

/** The health function's settings, validated at cold start. */
export function loadHealthConfig(env: Env): HealthConfig {
  const alertBus = env.DNS_CACHE_ALERT_BUS?.trim() || "default";
  if (!EVENT_BUS_NAME.test(alertBus) && !EVENT_BUS_ARN.test(alertBus)) {
    throw new ConfigError("DNS_CACHE_ALERT_BUS", `expected an event bus name or ARN, got "${alertBus}"`);
  }
  const clusters = [...new Set(readList(env, "DNS_CACHE_CLUSTERS"))];
  for (const cluster of clusters) {
    if (!CLUSTER_NAME.test(cluster) && !CLUSTER_ARN.test(cluster)) {
      throw new ConfigError("DNS_CACHE_CLUSTERS", `expected cluster names or ARNs, got "${cluster}"`);
    }
  }
  return {
    alertBus,
    sweep: readEnum(env, "DNS_CACHE_SWEEP", ["on", "off"] as const, "on") === "on",
    clusters,
    sweepConcurrency: readInt(env, "DNS_CACHE_SWEEP_CONCURRENCY", 1, 20, 4),
    optIn: parseTagMatch("DNS_CACHE_OPT_IN_TAG", env.DNS_CACHE_OPT_IN_TAG ?? "dns-cache=enabled"),
  };
}
