/**
 * Alerts as EventBridge events (PutEvents), so users route them with their own rules. The client is a
 * parameter. PutEvents takes at most 10 entries per call; entries it reports as failed are sent once more.
 */
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from "@aws-sdk/client-eventbridge";

// For handlers that load EventBridge only when an alert is sent: the client, imported by name (tree-shaken).
export { EventBridgeClient } from "@aws-sdk/client-eventbridge";

import { chunks, limiter } from "#shared/runtime/concurrency.ts";
import type { ApiCalls } from "./ecs-tasks.ts";
import { classify, RetryableError } from "./errors.ts";

/** The source of every event dns-cache puts on EventBridge. */
export const ALERT_SOURCE = "dns-cache";

export interface Alert {
  detailType: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export const PUT_EVENTS_MAX_ENTRIES = 10;

export interface AlertFailure {
  detailType: string;
  /** The entry's ErrorCode, or the reason code of the call's error. */
  errorCode: string;
  message?: string;
}

export interface AlertResult {
  sent: number;
  failed: AlertFailure[];
  /** Calls that failed as a whole (throttling, 5xx… after the SDK's retries): worth a retry of the invocation. */
  errors: RetryableError[];
}

export function entryOf(alert: Alert, eventBusName: string, time?: Date): PutEventsRequestEntry {
  return {
    Source: ALERT_SOURCE,
    DetailType: alert.detailType,
    Detail: JSON.stringify(alert.detail),
    Resources: alert.resources,
    EventBusName: eventBusName,
    ...(time ? { Time: time } : {}),
  };
}

type Outcome = { ok: true } | { ok: false; errorCode: string; message?: string; error?: RetryableError };

async function putBatch(
  client: EventBridgeClient,
  entries: PutEventsRequestEntry[],
  calls: ApiCalls,
): Promise<Outcome[]> {
  calls.PutEvents += 1;
  try {
    const out = await client.send(new PutEventsCommand({ Entries: entries }));
    if (!out.FailedEntryCount) return entries.map(() => ({ ok: true }));
    // Result entries are in request order; a failed one carries an ErrorCode.
    return entries.map((_, i) => {
      const result = out.Entries?.[i];
      if (result?.ErrorCode) return { ok: false, errorCode: result.ErrorCode, message: result.ErrorMessage };
      return result?.EventId ? { ok: true } : { ok: false, errorCode: "NO_EVENT_ID" };
    });
  } catch (error) {
    const classified = classify(error);
    const retryable =
      classified instanceof RetryableError
        ? classified
        : new RetryableError("EVENTS_ERROR", classified.message, { cause: error });
    return entries.map(() => ({
      ok: false,
      errorCode: retryable.reason,
      message: retryable.message,
      error: retryable,
    }));
  }
}

/** Sends every alert (10 per call, `concurrency` calls at once); failed entries are sent once more. */
export async function sendAlerts(
  client: EventBridgeClient,
  eventBusName: string,
  alerts: readonly Alert[],
  calls: ApiCalls,
  concurrency = 4,
): Promise<AlertResult> {
  const limit = limiter(concurrency);
  const entries = alerts.map((alert) => entryOf(alert, eventBusName));
  const round = async (pending: PutEventsRequestEntry[]) => {
    const outcomes = await Promise.all(
      chunks(pending, PUT_EVENTS_MAX_ENTRIES).map((batch) => limit(() => putBatch(client, batch, calls))),
    );
    return outcomes.flat().map((outcome, i) => ({ entry: pending[i] as PutEventsRequestEntry, outcome }));
  };
  const first = await round(entries);
  let sent = first.filter((r) => r.outcome.ok).length;
  const retry = first.filter((r) => !r.outcome.ok).map((r) => r.entry);
  const failed: AlertFailure[] = [];
  const errors: RetryableError[] = [];
  if (retry.length > 0) {
    for (const { entry, outcome } of await round(retry)) {
      if (outcome.ok) {
        sent += 1;
        continue;
      }
      failed.push({
        detailType: entry.DetailType ?? "",
        errorCode: outcome.errorCode,
        ...(outcome.message ? { message: outcome.message } : {}),
      });
      if (outcome.error && !errors.includes(outcome.error)) errors.push(outcome.error);
    }
  }
  return { sent, failed, errors };
}
