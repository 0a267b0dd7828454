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
  if (mode === "inject") config.idempotencyTable = readRequired(env, "DNS_CACHE_IDEMPOTENCY_TABLE");
  return config;
}
