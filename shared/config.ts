import { InvalidOptionError } from "./errors.ts";
import { optionsFromEnv, type PartialOptions } from "./options.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** A deployment setting is wrong; the message names the variable. Thrown at cold start. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly reason = "INVALID_CONFIG";
  readonly variable: string;
  constructor(variable: string, message: string, options?: ErrorOptions) {
    super(`${variable}: ${message}`, options);
    this.variable = variable;
  }
}

export interface TagMatch {
  key: string;
  value: string;
}

export function parseTagMatch(variable: string, raw: string): TagMatch {
  const m = /^([^=]+)=(.*)$/.exec(raw.trim());
  if (!m?.[1]) throw new ConfigError(variable, `expected key=value, got "${raw}"`);
  return { key: m[1].trim(), value: (m[2] ?? "").trim() };
}

export function readEnum<T extends string>(
  env: Env,
  variable: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(variable, `expected one of ${allowed.join(", ")}, got "${raw}"`);
  }
  return raw as T;
}

export function readInt(env: Env, variable: string, min: number, max: number, fallback: number): number {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(variable, `expected a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

export function readRequired(env: Env, variable: string): string {
  const raw = env[variable]?.trim();
  if (!raw) throw new ConfigError(variable, "is required");
  return raw;
}

export interface InjectorConfig {
  mode: "inject" | "audit";
  optIn: TagMatch;
  optOut: TagMatch;
  /** Engine options set for the whole deployment; per-family tags override them. */
  options: PartialOptions;
  /** DynamoDB table of the duplicate guard; required in inject mode. */
  idempotencyTable?: string;
  /** Role session names whose registrations are this injector's own. */
  selfSessionNames: string[];
}

/** The session name the injector uses when it assumes a member account's role. */
export const INJECTOR_SESSION_NAME = "dns-cache-injector";
/** The session name the health function uses when it assumes a member account's role. */
export const HEALTH_SESSION_NAME = "dns-cache-health";

export function loadInjectorConfig(env: Env): InjectorConfig {
  const mode = readEnum(env, "DNS_CACHE_MODE", ["inject", "audit"] as const, "inject");
  const optIn = parseTagMatch("DNS_CACHE_OPT_IN_TAG", env.DNS_CACHE_OPT_IN_TAG ?? "dns-cache=enabled");
  const optOut = parseTagMatch("DNS_CACHE_OPT_OUT_TAG", env.DNS_CACHE_OPT_OUT_TAG ?? "dns-cache=disabled");
  if (optIn.key === optOut.key && optIn.value === optOut.value) {
    throw new ConfigError("DNS_CACHE_OPT_OUT_TAG", "is the same tag as DNS_CACHE_OPT_IN_TAG");
  }
  let options: PartialOptions;
  try {
    options = optionsFromEnv(env);
  } catch (error) {
    if (error instanceof InvalidOptionError) {
      throw new ConfigError(
        error.source.replace(/^environment variable /, ""),
        error.message.replace(/^[^:]+: /, ""),
        { cause: error },
      );
    }
    throw error;
  }
  const config: InjectorConfig = {
    mode,
    optIn,
    optOut,
    options,
    selfSessionNames: [
      INJECTOR_SESSION_NAME,
      ...(env.AWS_LAMBDA_FUNCTION_NAME ? [env.AWS_LAMBDA_FUNCTION_NAME] : []),
    ],
  };
  if (mode === "inject") config.idempotencyTable = readRequired(env, "DNS_CACHE_IDEMPOTENCY_TABLE");
  return config;
}

/** Entries of a comma- or space-separated list, without empties. */
export function readList(env: Env, variable: string): string[] {
  return (env[variable] ?? "").split(/[\s,]+/).filter((entry) => entry !== "");
}

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
