import * as z from "#shared/runtime/schema.ts";
import { sidecarOf, type TaskView, timestampMs } from "./classify.ts";

const maybe = <T extends z.ZodMiniType>(schema: T) => z.optional(z.nullable(schema));
const Timestamp = maybe(z.union([z.string(), z.number()]));
const Text = maybe(z.string());
const Arn = z.string().check(z.startsWith("arn:"));

/** The part of an EventBridge "ECS Task State Change" event the health function relies on. */
const TaskStateChangeSchema = z.looseObject({
  source: z.literal("aws.ecs"),
  "detail-type": z.literal("ECS Task State Change"),
  account: z.string().check(z.regex(/^\d{12}$/)),
  region: z.string().check(z.minLength(1)),
  id: z.optional(z.string()),
  detail: z.looseObject({
    clusterArn: Arn,
    taskArn: Arn,
    taskDefinitionArn: Arn,
    version: z.optional(z.int().check(z.nonnegative())),
    lastStatus: Text,
    desiredStatus: Text,
    startedAt: Timestamp,
    createdAt: Timestamp,
    containers: maybe(
      z.array(
        z.looseObject({
          name: z.string(),
          lastStatus: Text,
          healthStatus: Text,
          exitCode: maybe(z.int()),
          reason: Text,
        }),
      ),
    ),
  }),
});

export interface TaskStateChange extends TaskView {
  /** The account and region the task runs in (a member account's, in an organisation). */
  account: string;
  region: string;
  eventId?: string;
}

export type ParsedTaskStateChange =
  | { ok: true; change: TaskStateChange }
  | { ok: false; reason: "NOT_A_TASK_STATE_CHANGE" | "MALFORMED_EVENT" | "NOT_OURS"; message: string };

const opt = <T>(value: T | null | undefined): T | undefined => value ?? undefined;

export function isTaskStateChange(event: unknown): boolean {
  const e = event as { source?: unknown; "detail-type"?: unknown } | null;
  return e?.source === "aws.ecs" && e["detail-type"] === "ECS Task State Change";
}

export function isScheduledEvent(event: unknown): boolean {
  const e = event as { source?: unknown; "detail-type"?: unknown } | null;
  return e?.source === "aws.events" && e["detail-type"] === "Scheduled Event";
}

/**
 * Never throws. A task whose event lists no `dns-cache` container is NOT_OURS (the event rule should not
 * have sent it; nothing is called for it).
 */
export function parseTaskStateChange(event: unknown): ParsedTaskStateChange {
  if (!isTaskStateChange(event)) {
    return { ok: false, reason: "NOT_A_TASK_STATE_CHANGE", message: "not an ECS Task State Change event" };
  }
  const parsed = TaskStateChangeSchema.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: "MALFORMED_EVENT",
      message: issue ? `${issue.path.join(".") || "event"}: ${issue.message}` : "invalid event",
    };
  }
  const e = parsed.data;
  const d = e.detail;
  const change: TaskStateChange = {
    account: e.account,
    region: e.region,
    eventId: e.id,
    taskArn: d.taskArn,
    clusterArn: d.clusterArn,
    taskDefinitionArn: d.taskDefinitionArn,
    lastStatus: opt(d.lastStatus),
    desiredStatus: opt(d.desiredStatus),
    startedAt: timestampMs(d.startedAt) ?? timestampMs(d.createdAt),
    version: d.version,
    containers: (d.containers ?? []).map((c) => ({
      name: c.name,
      lastStatus: opt(c.lastStatus),
      healthStatus: opt(c.healthStatus),
      exitCode: opt(c.exitCode),
      reason: opt(c.reason),
    })),
  };
  if (!sidecarOf(change)) {
    return { ok: false, reason: "NOT_OURS", message: "the task runs no dns-cache container" };
  }
  return { ok: true, change };
}
