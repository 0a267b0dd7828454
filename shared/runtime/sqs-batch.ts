/** SQS batches with partial-batch responses, within the invocation's time (apart from lambda.ts: only the functions that take SQS batches load Powertools Batch). */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { recordBudget, TimeBudgetError } from "./lambda.ts";

/**
 * Handles the records one at a time (a polite consumer of ECS's shared budgets), each started only while
 * the remaining time fits its worst case. Records that fail or were not started are batch item failures:
 * SQS redelivers just them. `deferred` counts the ones not started.
 */
export async function processRecordsWithinBudget(
  event: SQSEvent,
  context: Context,
  worstCasePerRecordMs: number,
  handle: (body: string) => Promise<void>,
): Promise<{ response: SQSBatchResponse; deferred: number }> {
  const admit = recordBudget(context, worstCasePerRecordMs);
  let deferred = 0;
  const response = await processPartialResponse(
    event,
    async (record: SQSRecord) => {
      if (!admit()) {
        deferred += 1;
        throw new TimeBudgetError(`not started: less than ${worstCasePerRecordMs} ms left`);
      }
      await handle(record.body);
    },
    new BatchProcessor(EventType.SQS),
    { context, throwOnFullBatchFailure: false, processInParallel: false },
  );
  return { response, deferred };
}
