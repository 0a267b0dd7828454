import type { TagMatch } from "#shared/runtime/env.ts";
import * as z from "#shared/runtime/schema.ts";

const SERVICE_ARN =
  /^arn:(aws[a-z-]*):ecs:([a-z0-9-]+):(\d{12}):service\/(?:([A-Za-z0-9_-]{1,255})\/)?([A-Za-z0-9_-]{1,255})$/;
const TASK_DEFINITION_ARN =
  /^arn:(aws[a-z-]*):ecs:([a-z0-9-]+):(\d{12}):task-definition\/([A-Za-z0-9_-]{1,255}):(\d+)$/;

export interface ServiceRef {
  arn: string;
  /** Old-format ARNs (service/NAME) name no cluster: ECS's default cluster then. */
  cluster: string;
  name: string;
  partition: string;
  account: string;
  region: string;
}

export interface TaskDefinitionRef {
  arn: string;
  family: string;
  revision: number;
  partition: string;
  account: string;
  region: string;
}

export function serviceRefOf(arn: string): ServiceRef | undefined {
  const m = SERVICE_ARN.exec(arn);
  if (!m) return undefined;
  const [, partition = "aws", region = "", account = "", cluster, name = ""] = m;
  return { arn, cluster: cluster ?? "default", name, partition, account, region };
}

export function taskDefinitionRefOf(arn: string): TaskDefinitionRef | undefined {
  const m = TASK_DEFINITION_ARN.exec(arn);
  if (!m) return undefined;
  const [, partition = "aws", region = "", account = "", family = "", revision = "0"] = m;
  return { arn, family, revision: Number(revision), partition, account, region };
}

const DeploymentEvent = z.looseObject({
  source: z.literal("aws.ecs"),
  "detail-type": z.literal("ECS Deployment State Change"),
  resources: z.array(z.string()).check(z.minLength(1)),
  detail: z.looseObject({ eventName: z.string(), deploymentId: z.optional(z.string()) }),
});

const ScheduledEvent = z.looseObject({
  source: z.literal("aws.events"),
  "detail-type": z.literal("Scheduled Event"),
});

const TagEvent = z.looseObject({
  source: z.literal("aws.ecs"),
  "detail-type": z.literal("AWS API Call via CloudTrail"),
  id: z.optional(z.string()),
  detail: z.looseObject({
    eventSource: z.literal("ecs.amazonaws.com"),
    eventName: z.literal("TagResource"),
    eventID: z.optional(z.string()),
    errorCode: z.optional(z.string()),
    requestParameters: z.looseObject({
      resourceArn: z.string(),
      tags: z.array(z.looseObject({ key: z.optional(z.string()), value: z.optional(z.string()) })),
    }),
  }),
});

export type EnforcerEvent =
  | { kind: "deployment-completed"; service: ServiceRef; deploymentId?: string }
  | { kind: "sweep" }
  | { kind: "tagged"; taskDefinition: TaskDefinitionRef; eventId?: string };

export type EventReason =
  | "NOT_AN_ENFORCER_EVENT"
  | "MALFORMED_EVENT"
  | "DEPLOYMENT_NOT_COMPLETED"
  | "TAG_FAILED"
  | "NOT_A_TASK_DEFINITION"
  | "NOT_AN_OPT_IN_TAG";

export type ParsedEvent =
  | { ok: true; event: EnforcerEvent }
  | { ok: false; reason: EventReason; message: string };

function issueOf(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.map(String).join(".") || "event"}: ${issue.message}` : "invalid event";
}

function refuse(reason: EventReason, message: string): ParsedEvent {
  return { ok: false, reason, message };
}

/** Never throws: anything the enforcer cannot act on comes back as a reason. */
export function parseEnforcerEvent(raw: unknown, optIn: TagMatch): ParsedEvent {
  const e = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const detail = (e.detail ?? {}) as Record<string, unknown>;
  if (e["detail-type"] === "ECS Deployment State Change") {
    const parsed = DeploymentEvent.safeParse(raw);
    if (!parsed.success) return refuse("MALFORMED_EVENT", issueOf(parsed.error));
    const { eventName, deploymentId } = parsed.data.detail;
    if (eventName !== "SERVICE_DEPLOYMENT_COMPLETED")
      return refuse("DEPLOYMENT_NOT_COMPLETED", `${eventName}: only completed deployments are acted on`);
    const service = serviceRefOf(parsed.data.resources[0] ?? "");
    if (!service) return refuse("MALFORMED_EVENT", "resources[0] is not a service ARN");
    return {
      ok: true,
      event: { kind: "deployment-completed", service, ...(deploymentId ? { deploymentId } : {}) },
    };
  }
  if (e["detail-type"] === "Scheduled Event") {
    const parsed = ScheduledEvent.safeParse(raw);
    if (!parsed.success) return refuse("MALFORMED_EVENT", issueOf(parsed.error));
    return { ok: true, event: { kind: "sweep" } };
  }
  if (e["detail-type"] === "AWS API Call via CloudTrail" && detail.eventName === "TagResource") {
    const parsed = TagEvent.safeParse(raw);
    if (!parsed.success) return refuse("MALFORMED_EVENT", issueOf(parsed.error));
    const d = parsed.data.detail;
    if (d.errorCode) return refuse("TAG_FAILED", `the call failed with ${d.errorCode}`);
    const taskDefinition = taskDefinitionRefOf(d.requestParameters.resourceArn);
    if (!taskDefinition)
      return refuse("NOT_A_TASK_DEFINITION", "the tagged resource is not a task definition");
    const optsIn = d.requestParameters.tags.some((t) => t.key === optIn.key && t.value === optIn.value);
    // Only adding the opt-in tag changes a decision (with DNS_CACHE_OPT_IN=all it is already in scope).
    if (!optsIn) return refuse("NOT_AN_OPT_IN_TAG", `the call does not add ${optIn.key}=${optIn.value}`);
    return {
      ok: true,
      event: { kind: "tagged", taskDefinition, ...(d.eventID ? { eventId: d.eventID } : {}) },
    };
  }
  return refuse("NOT_AN_ENFORCER_EVENT", "not a deployment, schedule or TagResource event");
}
