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
  DEFINITION_TOO_LARGE: "DEFINITION_TOO_LARGE",
  /** Bridge mode: a container's dnsServers holds a loopback address (a resolver inside the container). */
  DNS_SERVERS_LOOPBACK: "DNS_SERVERS_LOOPBACK",
  /** Bridge mode: the definition may run outside EC2 (EXTERNAL…), where no node cache runs. */
  BRIDGE_NOT_EC2: "BRIDGE_NOT_EC2",
  /** Bridge mode: no container has a network (all set disableNetworking). */
  NETWORK_DISABLED: "NETWORK_DISABLED",
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
  readonly source: string;
  constructor(source: string, message: string, options?: ErrorOptions) {
    super(`${source}: ${message}`, options);
    this.source = source;
  }
}
