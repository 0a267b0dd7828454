import type { Target } from "#shared/aws/clients.ts";
import { InvalidOptionError } from "#shared/engine/errors.ts";
import { optionsFromEnv, type PartialOptions } from "#shared/engine/options.ts";
import { ecrRegistry, type ImageMirror } from "#shared/engine/sidecars.ts";
import { ConfigError, type Env, parseTagMatch, readEnum, type TagMatch } from "#shared/runtime/env.ts";
import type { CopyPolicy } from "./copies.ts";

export interface CopySettings {
  /** DNS_CACHE_OPT_IN: `tag` (families carrying the opt-in tag) or `all` (every family not opted out). */
  scope: "tag" | "all";
  optIn: TagMatch;
  optOut: TagMatch;
  /** Engine options set for the whole deployment; per-family tags override them. */
  options: PartialOptions;
  /** Write ECR Public images through the pull-through cache rule with this prefix. */
  pullThrough?: PullThrough;
}

/** The settings that decide what a copy is, the same for the injector and the enforcer. */
export function readCopySettings(env: Env): CopySettings {
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
  const pullThrough = loadPullThrough(env);
  return {
    scope: readEnum(env, "DNS_CACHE_OPT_IN", ["tag", "all"] as const, "tag"),
    optIn,
    optOut,
    options,
    ...(pullThrough ? { pullThrough } : {}),
  };
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

function loadPullThrough(env: Env): PullThrough | undefined {
  const prefix = env.DNS_CACHE_ECR_PULL_THROUGH_PREFIX?.trim();
  if (!prefix) return undefined;
  // ECR's rule for a repository prefix: 2–30 characters, lower-case name components separated by /.
  if (!/^(?=.{2,30}$)[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(prefix)) {
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

/**
 * The pull-through cache of the task definition's own account and region, where the stack created the
 * rule; none elsewhere (a member account has no rule, and an image its tasks cannot pull stops them).
 * The injector and the enforcer must agree on it, or their copies of one source would differ.
 */
export function imageMirrorFor(
  pullThrough: PullThrough | undefined,
  target: Target,
): ImageMirror | undefined {
  if (!pullThrough) return undefined;
  if (pullThrough.onlyAccount !== undefined && pullThrough.onlyAccount !== target.account) return undefined;
  if (pullThrough.onlyRegion !== undefined && pullThrough.onlyRegion !== target.region) return undefined;
  return { registry: ecrRegistry(target.account, target.region), prefix: pullThrough.prefix };
}

/** The copy policy of one deployment in one account and region: the same for the injector and the enforcer. */
export function copyPolicyFor(settings: CopySettings, write: boolean, target: Target): CopyPolicy {
  const imageMirror = imageMirrorFor(settings.pullThrough, target);
  return {
    scope: settings.scope,
    optIn: settings.optIn,
    optOut: settings.optOut,
    options: settings.options,
    write,
    ...(imageMirror ? { imageMirror } : {}),
  };
}
