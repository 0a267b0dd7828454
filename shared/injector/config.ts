import { INJECTOR_SESSION_NAME } from "#shared/aws/clients.ts";
import { InvalidOptionError } from "#shared/engine/errors.ts";
import { optionsFromEnv, type PartialOptions } from "#shared/engine/options.ts";
import {
  ConfigError,
  type Env,
  parseTagMatch,
  readEnum,
  readRequired,
  type TagMatch,
} from "#shared/runtime/env.ts";

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
  /** Write ECR Public images through the pull-through cache rule with this prefix. */
  pullThrough?: PullThrough;
}

export interface PullThrough {
  /** The rule's repository prefix (DNS_CACHE_ECR_PULL_THROUGH_PREFIX). */
  prefix: string;
  /**
   * Only this account has the rule (organisation mode: the central account, where the stack created
   * it); undefined: every target (single-account mode has one).
   */
  onlyAccount?: string;
  /** ... and only this region (the stack's). */
  onlyRegion?: string;
}

// ECR's rule for a repository prefix: 2–30 characters, lower-case name components separated by /.
const ECR_PREFIX = /^(?=.{2,30}$)[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

function loadPullThrough(env: Env): PullThrough | undefined {
  const prefix = env.DNS_CACHE_ECR_PULL_THROUGH_PREFIX?.trim();
  if (!prefix) return undefined;
  if (!ECR_PREFIX.test(prefix)) {
    throw new ConfigError(
      "DNS_CACHE_ECR_PULL_THROUGH_PREFIX",
      `"${prefix}" is not an ECR repository prefix (2-30 characters: a-z, 0-9, and . _ - / between them)`,
    );
  }
  const central = env.DNS_CACHE_CENTRAL_ACCOUNT?.trim();
  const region = env.AWS_REGION?.trim();
  if (!env.DNS_CACHE_MEMBER_ROLE_NAME?.trim() || !central) return { prefix };
  return { prefix, onlyAccount: central, ...(region ? { onlyRegion: region } : {}) };
}

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
  const pullThrough = loadPullThrough(env);
  if (pullThrough) config.pullThrough = pullThrough;
  if (mode === "inject") config.idempotencyTable = readRequired(env, "DNS_CACHE_IDEMPOTENCY_TABLE");
  return config;
}
