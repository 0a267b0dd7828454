import type { Context, SQSEvent } from "aws-lambda";

/** The function's own account and region, from its ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME). */
export function homeOf(
  context: Pick<Context, "invokedFunctionArn">,
): { account: string; region: string } | undefined {
  const [, , , region, account] = context.invokedFunctionArn.split(":");
  return region && account ? { account, region } : undefined;
}

export function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as { Records?: unknown } | null)?.Records;
  return (
    Array.isArray(records) &&
    records.length > 0 &&
    (records[0] as { eventSource?: unknown })?.eventSource === "aws:sqs"
  );
}

/** A record left untouched because the invocation's remaining time could not fit it. */
export class TimeBudgetError extends Error {
  override readonly name = "TimeBudgetError";
  readonly reason = "TIME_BUDGET";
}

/**
 * Admits SQS records one by one while the remaining time fits a record's worst case; the others are
 * left untouched, to be reported as batch item failures (SQS redelivers just them). The first record
 * is always taken, so a function configured too short still makes progress.
 */
export function recordBudget(
  context: Pick<Context, "getRemainingTimeInMillis">,
  worstCasePerRecordMs: number,
): () => boolean {
  let taken = 0;
  return () => {
    if (taken > 0 && context.getRemainingTimeInMillis() < worstCasePerRecordMs) return false;
    taken += 1;
    return true;
  };
}
