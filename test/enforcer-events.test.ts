import { describe, expect, it } from "vitest";
import { parseEnforcerEvent, serviceRefOf, taskDefinitionRefOf } from "#shared/enforcer/events.ts";
import { deploymentEvent, loadEvent, tagResourceEvent } from "./helpers/events.ts";

const OPT_IN = { key: "dns-cache", value: "enabled" };
const TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7";

describe("the enforcer's ARN parsing", () => {
  it.each([
    [
      "a service ARN naming its cluster",
      "arn:aws:ecs:eu-west-1:123456789012:service/prod/web",
      { cluster: "prod", name: "web", partition: "aws", account: "123456789012", region: "eu-west-1" },
    ],
    [
      "an old-format service ARN (ECS's default cluster)",
      "arn:aws:ecs:us-east-1:123456789012:service/web",
      { cluster: "default", name: "web", partition: "aws", account: "123456789012", region: "us-east-1" },
    ],
    [
      "a China-partition service ARN",
      "arn:aws-cn:ecs:cn-north-1:210987654321:service/c_1/svc-2",
      { cluster: "c_1", name: "svc-2", partition: "aws-cn", account: "210987654321", region: "cn-north-1" },
    ],
  ])("reads %s", (_, arn, expected) => {
    expect(serviceRefOf(arn)).toEqual({ arn, ...expected });
  });

  it.each([
    ["a task definition ARN", TD],
    ["a cluster ARN", "arn:aws:ecs:us-east-1:123456789012:cluster/prod"],
    ["a short account", "arn:aws:ecs:us-east-1:12345:service/prod/web"],
    ["a nested path", "arn:aws:ecs:us-east-1:123456789012:service/a/b/c"],
    ["text before the ARN", "x arn:aws:ecs:us-east-1:123456789012:service/prod/web"],
    ["text after the ARN", "arn:aws:ecs:us-east-1:123456789012:service/prod/web "],
    ["a service name alone", "web"],
  ])("refuses %s as a service", (_, arn) => {
    expect(serviceRefOf(arn)).toBeUndefined();
  });

  it("reads a task definition ARN into family and numeric revision", () => {
    expect(
      taskDefinitionRefOf("arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task-definition/my_app-1:42"),
    ).toEqual({
      arn: "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task-definition/my_app-1:42",
      family: "my_app-1",
      revision: 42,
      partition: "aws-us-gov",
      account: "123456789012",
      region: "us-gov-west-1",
    });
  });

  it.each([
    ["a family without revision", "arn:aws:ecs:us-east-1:123456789012:task-definition/web"],
    ["family:revision alone", "web:7"],
    ["a trailing suffix", `${TD}x`],
    ["a leading prefix", ` ${TD}`],
    ["a service ARN", "arn:aws:ecs:us-east-1:123456789012:service/prod/web"],
  ])("refuses %s as a task definition", (_, arn) => {
    expect(taskDefinitionRefOf(arn)).toBeUndefined();
  });
});

describe("the enforcer's event parsing", () => {
  it("reads a completed deployment: the service and the deployment id", () => {
    expect(parseEnforcerEvent(loadEvent("deployment-completed.json"), OPT_IN)).toEqual({
      ok: true,
      event: {
        kind: "deployment-completed",
        service: {
          arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
          cluster: "prod",
          name: "web",
          partition: "aws",
          account: "123456789012",
          region: "us-east-1",
        },
        deploymentId: "ecs-svc/0000000000000000001",
      },
    });
  });

  it("reads a completed deployment without a deployment id, leaving the field out", () => {
    const event = deploymentEvent("arn:aws:ecs:us-east-1:123456789012:service/web");
    delete (event.detail as Record<string, unknown>).deploymentId;
    const parsed = parseEnforcerEvent(event, OPT_IN);
    expect(parsed.ok && parsed.event).toEqual({
      kind: "deployment-completed",
      service: expect.objectContaining({ cluster: "default", name: "web" }),
    });
  });

  it("reads a scheduled event as a sweep", () => {
    expect(parseEnforcerEvent(loadEvent("scheduled-sweep.json"), OPT_IN)).toEqual({
      ok: true,
      event: { kind: "sweep" },
    });
  });

  it("reads an opt-in TagResource of a task definition, with its CloudTrail event id", () => {
    expect(parseEnforcerEvent(tagResourceEvent(TD, [{ key: "team", value: "a" }, OPT_IN]), OPT_IN)).toEqual({
      ok: true,
      event: {
        kind: "tagged",
        taskDefinition: expect.objectContaining({ arn: TD, family: "web", revision: 7 }),
        eventId: "5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c",
      },
    });
    const noId = tagResourceEvent(TD);
    delete (noId.detail as Record<string, unknown>).eventID;
    const parsed = parseEnforcerEvent(noId, OPT_IN);
    expect(parsed.ok && parsed.event).toEqual({ kind: "tagged", taskDefinition: expect.anything() });
  });

  it("uses the configured opt-in tag, key and value both", () => {
    const custom = { key: "cache", value: "on" };
    expect(parseEnforcerEvent(tagResourceEvent(TD, [custom]), custom)).toMatchObject({ ok: true });
    for (const tags of [[OPT_IN], [{ key: "cache", value: "off" }], [{ key: "other", value: "on" }], []]) {
      expect(parseEnforcerEvent(tagResourceEvent(TD, tags), custom)).toEqual({
        ok: false,
        reason: "NOT_AN_OPT_IN_TAG",
        message: "the call does not add cache=on",
      });
    }
  });

  const withDetail = (event: Record<string, unknown>, detail: Record<string, unknown>) => ({
    ...event,
    detail: { ...(event.detail as Record<string, unknown>), ...detail },
  });

  it.each([
    [
      "a deployment still in progress",
      deploymentEvent(
        "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
      ),
      "DEPLOYMENT_NOT_COMPLETED",
      "SERVICE_DEPLOYMENT_IN_PROGRESS: only completed deployments are acted on",
    ],
    [
      "a deployment event whose resource is not a service",
      deploymentEvent(TD),
      "MALFORMED_EVENT",
      "resources[0] is not a service ARN",
    ],
    [
      "a deployment event without resources",
      { ...deploymentEvent("x"), resources: [] },
      "MALFORMED_EVENT",
      expect.stringMatching(/^resources: /),
    ],
    [
      "a deployment event from another source",
      { ...deploymentEvent("x"), source: "my.app" },
      "MALFORMED_EVENT",
      expect.stringMatching(/^source: /),
    ],
    [
      "a deployment event without an event name",
      withDetail(deploymentEvent("x"), { eventName: 3 }),
      "MALFORMED_EVENT",
      expect.stringMatching(/^detail\.eventName: /),
    ],
    [
      "a scheduled event from another source",
      { ...loadEvent("scheduled-sweep.json"), source: "aws.ecs" },
      "MALFORMED_EVENT",
      expect.stringMatching(/^source: /),
    ],
    [
      "a failed TagResource call",
      withDetail(tagResourceEvent(TD), { errorCode: "AccessDenied" }),
      "TAG_FAILED",
      "the call failed with AccessDenied",
    ],
    [
      "a TagResource of a cluster",
      tagResourceEvent("arn:aws:ecs:us-east-1:123456789012:cluster/prod"),
      "NOT_A_TASK_DEFINITION",
      "the tagged resource is not a task definition",
    ],
    [
      "a TagResource event without tags",
      withDetail(tagResourceEvent(TD), { requestParameters: { resourceArn: TD } }),
      "MALFORMED_EVENT",
      expect.stringMatching(/^detail\.requestParameters\.tags: /),
    ],
    [
      "a TagResource event whose tag key is not text",
      withDetail(tagResourceEvent(TD), {
        requestParameters: { resourceArn: TD, tags: [{ key: 1, value: "enabled" }] },
      }),
      "MALFORMED_EVENT",
      expect.stringMatching(/^detail\.requestParameters\.tags\.0\.key: /),
    ],
    [
      "a TagResource of another service",
      withDetail(tagResourceEvent(TD), { eventSource: "s3.amazonaws.com" }),
      "MALFORMED_EVENT",
      expect.stringMatching(/^detail\.eventSource: /),
    ],
    [
      "another CloudTrail call",
      withDetail(tagResourceEvent(TD), { eventName: "UntagResource" }),
      "NOT_AN_ENFORCER_EVENT",
      "not a deployment, schedule or TagResource event",
    ],
    [
      "a TagResource detail under another detail type",
      { ...tagResourceEvent(TD), "detail-type": "AWS Service Event via CloudTrail" },
      "NOT_AN_ENFORCER_EVENT",
      "not a deployment, schedule or TagResource event",
    ],
    ["null", null, "NOT_AN_ENFORCER_EVENT", "not a deployment, schedule or TagResource event"],
    ["a string", "ECS Deployment State Change", "NOT_AN_ENFORCER_EVENT", expect.any(String)],
  ])("refuses %s with its reason and a message", (_, event, reason, message) => {
    expect(parseEnforcerEvent(event, OPT_IN)).toEqual({ ok: false, reason, message });
  });
});
