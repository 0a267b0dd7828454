import { partitionOf } from "#shared/aws/clients.ts";
import { MARKER_TAGS } from "#shared/engine/constants.ts";
import * as z from "#shared/runtime/schema.ts";

const FAMILY = /^[A-Za-z0-9_-]{1,255}$/;
const TASK_DEFINITION_ARN =
  /^arn:(aws[a-z-]*):ecs:([a-z0-9-]+):(\d{12}):task-definition\/([A-Za-z0-9_-]{1,255}):(\d+)$/;

const maybe = <T extends z.ZodMiniType>(schema: T) => z.optional(z.nullable(schema));

const TagList = maybe(z.array(z.looseObject({ key: z.optional(z.string()), value: z.optional(z.string()) })));

/** The part of an EventBridge "AWS API Call via CloudTrail" event for RegisterTaskDefinition we rely on. */
const RegisterEventSchema = z.looseObject({
  source: z.literal("aws.ecs"),
  "detail-type": z.literal("AWS API Call via CloudTrail"),
  account: z.string().check(z.regex(/^\d{12}$/)),
  region: z.string().check(z.minLength(1)),
  id: z.optional(z.string()),
  detail: z.looseObject({
    eventSource: z.literal("ecs.amazonaws.com"),
    eventName: z.literal("RegisterTaskDefinition"),
    eventID: z.optional(z.string()),
    errorCode: z.optional(z.string()),
    userIdentity: maybe(
      z.looseObject({ arn: z.optional(z.string()), sessionContext: z.optional(z.looseObject({})) }),
    ),
    requestParameters: maybe(z.looseObject({ family: z.optional(z.string()), tags: TagList })),
    responseElements: maybe(
      z.looseObject({
        // Absent when CloudTrail truncated the response (`omitted: true`): the family's newest then.
        taskDefinition: maybe(
          z.looseObject({
            // Checked below against TASK_DEFINITION_ARN, which also takes it apart.
            taskDefinitionArn: z.optional(z.string()),
            family: z.optional(z.string()),
            revision: z.optional(z.int().check(z.positive())),
          }),
        ),
      }),
    ),
  }),
});

export interface Registration {
  /** Absent when CloudTrail left out the response (it does for large calls). */
  taskDefinitionArn?: string;
  family: string;
  revision?: number;
  partition: string;
  /** Where the task definition lives (the ARN's, which in an organisation is a member account's). */
  account: string;
  region: string;
  eventId?: string;
  /** The caller's role session name, when the caller was an assumed role. */
  sessionName?: string;
  /** The request carried dns-cache's marker tags: an injected definition was registered. */
  requestMarked: boolean;
}

export type EventReason = "NOT_A_REGISTRATION_EVENT" | "MALFORMED_EVENT" | "REGISTRATION_FAILED";

export type ParsedEvent =
  | { ok: true; registration: Registration }
  | { ok: false; reason: EventReason; message: string };

function describeIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join(".") || "event"}: ${issue.message}` : "invalid event";
}

/** Never throws: anything that is not a usable registration event comes back as a reason. */
export function parseRegistrationEvent(event: unknown): ParsedEvent {
  const parsed = RegisterEventSchema.safeParse(event);
  if (!parsed.success) {
    const e = event as { source?: unknown; detail?: { eventName?: unknown } } | null;
    const looksLikeOurs =
      typeof e === "object" &&
      e !== null &&
      e.source === "aws.ecs" &&
      e.detail?.eventName === "RegisterTaskDefinition";
    return looksLikeOurs
      ? { ok: false, reason: "MALFORMED_EVENT", message: describeIssue(parsed.error) }
      : { ok: false, reason: "NOT_A_REGISTRATION_EVENT", message: describeIssue(parsed.error) };
  }
  const { detail } = parsed.data;
  if (detail.errorCode) {
    return { ok: false, reason: "REGISTRATION_FAILED", message: `the call failed with ${detail.errorCode}` };
  }
  const sessionName = /:assumed-role\/[^/]+\/(.+)$/.exec(detail.userIdentity?.arn ?? "")?.[1];
  const requestMarked = (detail.requestParameters?.tags ?? []).some((t) => t.key === MARKER_TAGS.version);
  const td = detail.responseElements?.taskDefinition;
  let registration: Registration;
  if (td?.taskDefinitionArn !== undefined) {
    const m = TASK_DEFINITION_ARN.exec(td.taskDefinitionArn);
    if (!m) {
      return {
        ok: false,
        reason: "MALFORMED_EVENT",
        message:
          "detail.responseElements.taskDefinition.taskDefinitionArn: not a task definition revision ARN",
      };
    }
    const [, partition = "aws", region = "", account = "", family = "", revision = "0"] = m;
    registration = {
      taskDefinitionArn: td.taskDefinitionArn,
      family,
      revision: Number(revision),
      partition,
      account,
      region,
      requestMarked,
    };
  } else {
    // A successful call whose response CloudTrail left out: the family is all there is to go on.
    const family = detail.requestParameters?.family;
    if (!family || !FAMILY.test(family)) {
      return {
        ok: false,
        reason: "MALFORMED_EVENT",
        message: "neither the response nor the request names the task definition",
      };
    }
    registration = {
      family,
      partition: partitionOf(parsed.data.region),
      account: parsed.data.account,
      region: parsed.data.region,
      requestMarked,
    };
  }
  if (detail.eventID) registration.eventId = detail.eventID;
  if (sessionName) registration.sessionName = sessionName;
  return { ok: true, registration };
}
