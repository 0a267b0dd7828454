import { readFileSync } from "node:fs";

export function loadEvent<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), "utf8")) as T;
}

type Json = Record<string, unknown>;

/** A CloudTrail RegisterTaskDefinition event for family:revision, based on the tagged sample. */
export function registrationEvent(
  family: string,
  revision: number,
  options: { tags?: Array<{ key: string; value: string }>; session?: string } = {},
): Json {
  const event = loadEvent("register-tagged.json");
  const detail = event.detail as Json;
  const request = detail.requestParameters as Json;
  request.family = family;
  if (options.tags) request.tags = options.tags;
  const td = (detail.responseElements as { taskDefinition: Json }).taskDefinition;
  td.family = family;
  td.revision = revision;
  td.taskDefinitionArn = `arn:aws:ecs:us-east-1:123456789012:task-definition/${family}:${revision}`;
  if (options.session)
    (detail.userIdentity as Json).arn = `arn:aws:sts::123456789012:assumed-role/some-role/${options.session}`;
  return event;
}

/** An ECS Deployment State Change event for a service ARN. */
export function deploymentEvent(serviceArn: string, eventName = "SERVICE_DEPLOYMENT_COMPLETED"): Json {
  const event = loadEvent("deployment-completed.json");
  event.resources = [serviceArn];
  (event.detail as Json).eventName = eventName;
  return event;
}

/** A CloudTrail TagResource event adding `tags` to `resourceArn`. */
export function tagResourceEvent(
  resourceArn: string,
  tags: Array<{ key: string; value: string }> = [{ key: "dns-cache", value: "enabled" }],
): Json {
  const event = loadEvent("tag-resource-opt-in.json");
  const request = (event.detail as Json).requestParameters as Json;
  request.resourceArn = resourceArn;
  request.tags = tags;
  return event;
}
