/** How AWS errors the SDK could not retry away are reported: a retryable error with a reason code. */
/** Worth retrying later (the event is redelivered, and dead-lettered in the end). */
export class RetryableError extends Error {
  override readonly name = "RetryableError";
  readonly reason: string;
  constructor(reason: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/** What the SDK could not retry away: retry later, with a reason code for the logs and metrics. */
export function classify(error: unknown): Error {
  if (error instanceof RetryableError) return error;
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? "Error";
  const status = e.$metadata?.httpStatusCode;
  const reason = /Throttl|TooManyRequests|RequestLimitExceeded/i.test(name)
    ? "THROTTLED"
    : /AccessDenied|UnauthorizedOperation|ExpiredToken|InvalidClientTokenId/i.test(name)
      ? "ACCESS_DENIED"
      : status !== undefined && status >= 500
        ? "ECS_UNAVAILABLE"
        : /Timeout|ECONN|EPIPE|socket|network/i.test(`${name} ${e.message ?? ""}`)
          ? "NETWORK"
          : "ECS_ERROR";
  return new RetryableError(reason, `${name}: ${e.message ?? "no message"}`, { cause: error });
}
