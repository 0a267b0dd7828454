import { ENFORCER_SESSION_NAME } from "#shared/aws/clients.ts";
import { type CopySettings, readCopySettings } from "#shared/copies/policy.ts";
import { type Env, readEnum, readInt, readRequired } from "#shared/runtime/env.ts";
import { readSweepPlan, type SweepPlan } from "#shared/runtime/targets.ts";

export interface EnforcerConfig extends CopySettings {
  /** `audit` (the default): every decision logged and counted, nothing written. */
  mode: "enforce" | "audit";
  /** DynamoDB table of the duplicate guard (shared with the injector) and of the enforcer's memory. */
  table?: string;
  /** Skip services whose CloudFormation stack is in the middle of an operation. */
  checkStacks: boolean;
  /** EventBridge bus for the REVERTED_BY_OWNER alert. */
  alertBus: string;
  /** UpdateService calls at once (a shared, throttled budget of the account). */
  updateConcurrency: number;
  /** Services of one cluster moved in one sweep, at most (one re-read of ten). */
  movesPerCluster: number;
  /** Clusters described at once in a sweep. */
  clusterConcurrency: number;
  /** Accounts swept at once in organisation mode. */
  accountConcurrency: number;
  /** What the sweep covers (organisation mode): accounts and regions. */
  sweep: SweepPlan;
  /** Role session names whose calls are the enforcer's or the injector's own. */
  selfSessionNames: string[];
}

export function loadEnforcerConfig(env: Env): EnforcerConfig {
  const mode = readEnum(env, "DNS_CACHE_MODE", ["enforce", "audit"] as const, "audit");
  const config: EnforcerConfig = {
    mode,
    ...readCopySettings(env),
    checkStacks: readEnum(env, "DNS_CACHE_CHECK_STACKS", ["on", "off"] as const, "on") === "on",
    alertBus: env.DNS_CACHE_ALERT_BUS?.trim() || "default",
    updateConcurrency: readInt(env, "DNS_CACHE_UPDATE_CONCURRENCY", 1, 20, 4),
    movesPerCluster: readInt(env, "DNS_CACHE_MOVES_PER_CLUSTER", 1, 10, 10),
    clusterConcurrency: readInt(env, "DNS_CACHE_CLUSTER_CONCURRENCY", 1, 20, 4),
    accountConcurrency: readInt(env, "DNS_CACHE_ACCOUNT_CONCURRENCY", 1, 20, 4),
    sweep: readSweepPlan(env),
    selfSessionNames: [
      ENFORCER_SESSION_NAME,
      ...(env.AWS_LAMBDA_FUNCTION_NAME ? [env.AWS_LAMBDA_FUNCTION_NAME] : []),
    ],
  };
  if (mode === "enforce") config.table = readRequired(env, "DNS_CACHE_IDEMPOTENCY_TABLE");
  else if (env.DNS_CACHE_IDEMPOTENCY_TABLE?.trim()) config.table = env.DNS_CACHE_IDEMPOTENCY_TABLE.trim();
  return config;
}
