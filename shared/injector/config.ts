import { INJECTOR_SESSION_NAME } from "#shared/aws/clients.ts";
import { type PullThrough, readCopySettings } from "#shared/copies/policy.ts";
import type { PartialOptions } from "#shared/engine/options.ts";
import { type Env, readEnum, readRequired, type TagMatch } from "#shared/runtime/env.ts";

export interface InjectorConfig {
  mode: "inject" | "audit";
  /** `tag`: families carrying the opt-in tag; `all`: every family unless it carries the opt-out tag. */
  scope: "tag" | "all";
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

export function loadInjectorConfig(env: Env): InjectorConfig {
  const mode = readEnum(env, "DNS_CACHE_MODE", ["inject", "audit"] as const, "inject");
  const config: InjectorConfig = {
    mode,
    ...readCopySettings(env),
    selfSessionNames: [
      INJECTOR_SESSION_NAME,
      ...(env.AWS_LAMBDA_FUNCTION_NAME ? [env.AWS_LAMBDA_FUNCTION_NAME] : []),
    ],
  };
  if (mode === "inject") config.idempotencyTable = readRequired(env, "DNS_CACHE_IDEMPOTENCY_TABLE");
  return config;
}
