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
