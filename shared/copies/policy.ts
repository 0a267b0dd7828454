import { InvalidOptionError } from "#shared/engine/errors.ts";
import { optionsFromEnv, type PartialOptions } from "#shared/engine/options.ts";
import { ConfigError, type Env, parseTagMatch, readEnum, type TagMatch } from "#shared/runtime/env.ts";

export interface CopySettings {
  /** DNS_CACHE_OPT_IN: `tag` (families carrying the opt-in tag) or `all` (every family not opted out). */
  scope: "tag" | "all";
  optIn: TagMatch;
  optOut: TagMatch;
  /** Engine options set for the whole deployment; per-family tags override them. */
  options: PartialOptions;
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
  return { scope: readEnum(env, "DNS_CACHE_OPT_IN", ["tag", "all"] as const, "tag"), optIn, optOut, options };
}
