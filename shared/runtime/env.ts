/** Reading a function's settings from its environment, once at cold start; errors name the variable. */
export type Env = Readonly<Record<string, string | undefined>>;

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

/** Entries of a comma- or space-separated list, without empties. */
export function readList(env: Env, variable: string): string[] {
  return (env[variable] ?? "").split(/[\s,]+/).filter((entry) => entry !== "");
}
