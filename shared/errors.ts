/** Stable reason codes for definitions the engine will not inject. Never rename one: users alert on them. */
export const REFUSAL_REASONS = {
  NETWORK_MODE_NOT_AWSVPC: "NETWORK_MODE_NOT_AWSVPC",
  WINDOWS_PLATFORM: "WINDOWS_PLATFORM",
  NAME_CONFLICT: "NAME_CONFLICT",
  TOO_MANY_CONTAINERS: "TOO_MANY_CONTAINERS",
  TOO_MANY_TAGS: "TOO_MANY_TAGS",
  INSUFFICIENT_MEMORY: "INSUFFICIENT_MEMORY",
  PORT_CONFLICT: "PORT_CONFLICT",
  INVALID_OPTION: "INVALID_OPTION",
} as const;

export type RefusalReason = (typeof REFUSAL_REASONS)[keyof typeof REFUSAL_REASONS];

export interface Refusal {
  readonly reason: RefusalReason;
  readonly message: string;
}

/** The input is not something the engine can read at all (exit 1 in the CLI). */
export class InvalidInputError extends Error {
  override readonly name = "InvalidInputError";
  readonly reason = "INVALID_INPUT";
}

/** An option value (flag, environment variable or tag) failed validation. */
export class InvalidOptionError extends Error {
  override readonly name = "InvalidOptionError";
  readonly reason = REFUSAL_REASONS.INVALID_OPTION;
  constructor(
    readonly source: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${source}: ${message}`, options);
  }
}

/** The definition is valid but cannot safely carry the cache; carries every reason found. */
export class RefusedError extends Error {
  override readonly name = "RefusedError";
  constructor(
    readonly refusals: readonly Refusal[],
    options?: ErrorOptions,
  ) {
    super(refusals.map((r) => `${r.reason}: ${r.message}`).join("; "), options);
  }
  get reason(): RefusalReason {
    // The first refusal names the outcome; the others are reported alongside.
    return this.refusals[0]?.reason ?? REFUSAL_REASONS.INVALID_OPTION;
  }
}
