import type { Deployment, Service } from "@aws-sdk/client-ecs";
import { describe, expect, it } from "vitest";
import {
  ADVICE,
  aboutService,
  revertAdvice,
  runningRevision,
  stackNameOf,
  triageService,
} from "#shared/enforcer/decide.ts";

const OPT_OUT = { key: "dns-cache", value: "disabled" };
const SVC = "arn:aws:ecs:us-east-1:123456789012:service/prod/web";
const CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
const TD1 = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1";
const TD2 = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2";

function service(overrides: Partial<Service> = {}): Service {
  return {
    serviceArn: SVC,
    clusterArn: CLUSTER,
    status: "ACTIVE",
    taskDefinition: TD1,
    deployments: [{ status: "PRIMARY", taskDefinition: TD1, rolloutState: "COMPLETED" }],
    ...overrides,
  };
}

const about = { service: SVC, cluster: CLUSTER, taskDefinitionArn: TD1 };

describe("the revision a service runs", () => {
  it.each<[string, Deployment[] | undefined, string | undefined]>([
    ["one completed deployment: its revision", [{ taskDefinition: TD2, rolloutState: "COMPLETED" }], TD2],
    ["one deployment naming no revision: the service's", [{ rolloutState: "COMPLETED" }], TD1],
    ["one deployment without a rollout state (older ECS)", [{ taskDefinition: TD2 }], TD2],
    [
      "one deployment still rolling out: none",
      [{ taskDefinition: TD2, rolloutState: "IN_PROGRESS" }],
      undefined,
    ],
    ["one failed rollout: its revision", [{ taskDefinition: TD2, rolloutState: "FAILED" }], TD2],
    [
      "two deployments: none",
      [
        { taskDefinition: TD2, rolloutState: "COMPLETED" },
        { taskDefinition: TD1, rolloutState: "COMPLETED" },
      ],
      undefined,
    ],
    ["no deployments: none", [], undefined],
    ["no deployment list: none", undefined, undefined],
  ])("%s", (_, deployments, expected) => {
    expect(runningRevision(service({ deployments }))).toBe(expected);
  });
});

describe("triage of a service from its description alone", () => {
  it("lets an ACTIVE ECS-controlled service with one settled deployment go on", () => {
    expect(triageService(service(), OPT_OUT)).toBeUndefined();
    expect(triageService(service({ deploymentController: { type: "ECS" } }), OPT_OUT)).toBeUndefined();
  });

  it.each([
    ["DRAINING", { status: "DRAINING" }, { reason: "SERVICE_NOT_ACTIVE", message: "status DRAINING" }],
    ["INACTIVE", { status: "INACTIVE" }, { reason: "SERVICE_NOT_ACTIVE", message: "status INACTIVE" }],
    [
      "CODE_DEPLOY",
      { deploymentController: { type: "CODE_DEPLOY" } },
      {
        reason: "CONTROLLER_NOT_ECS",
        message: "deployment controller CODE_DEPLOY",
        advice: ADVICE.controller,
      },
    ],
    [
      "EXTERNAL",
      { deploymentController: { type: "EXTERNAL" } },
      { reason: "CONTROLLER_NOT_ECS", message: "deployment controller EXTERNAL", advice: ADVICE.controller },
    ],
    ["opted out", { tags: [{ key: "team", value: "a" }, OPT_OUT] }, { reason: "SERVICE_OPTED_OUT" }],
    [
      "rolling out",
      {
        deployments: [
          { taskDefinition: TD2, rolloutState: "IN_PROGRESS" },
          { taskDefinition: TD1, rolloutState: "COMPLETED" },
        ],
      },
      { reason: "ROLLOUT_IN_PROGRESS", message: "2 deployments; the next event or sweep comes back" },
    ],
    [
      "without deployments",
      { deployments: undefined },
      { reason: "ROLLOUT_IN_PROGRESS", message: "0 deployments; the next event or sweep comes back" },
    ],
  ] as Array<[string, Partial<Service>, Record<string, string>]>)(
    "leaves a service that is %s, with its reason and a message",
    (_, overrides, expected) => {
      expect(triageService(service(overrides), OPT_OUT)).toEqual({ outcome: "left", ...about, ...expected });
    },
  );

  it("takes the opt-out tag's value into account, not just its key", () => {
    expect(
      triageService(service({ tags: [{ key: "dns-cache", value: "enabled" }] }), OPT_OUT),
    ).toBeUndefined();
  });

  it("checks in order: status first, then controller, then opt-out, then rollout", () => {
    const everything = service({
      status: "DRAINING",
      deploymentController: { type: "CODE_DEPLOY" },
      tags: [OPT_OUT],
      deployments: [],
    });
    expect(triageService(everything, OPT_OUT)?.reason).toBe("SERVICE_NOT_ACTIVE");
    expect(triageService({ ...everything, status: "ACTIVE" }, OPT_OUT)?.reason).toBe("CONTROLLER_NOT_ECS");
    expect(
      triageService({ ...everything, status: "ACTIVE", deploymentController: undefined }, OPT_OUT)?.reason,
    ).toBe("SERVICE_OPTED_OUT");
  });
});

describe("what a decision says about the service", () => {
  it("names the service, cluster and running revision, and leaves out what is unknown", () => {
    expect(aboutService(service())).toEqual(about);
    expect(aboutService({})).toEqual({});
    expect(Object.keys(aboutService({ serviceArn: SVC }))).toEqual(["service"]);
  });

  it("reads the CloudFormation stack name from the service's tags", () => {
    expect(stackNameOf(service({ tags: [{ key: "aws:cloudformation:stack-name", value: "app" }] }))).toBe(
      "app",
    );
    expect(stackNameOf(service({ tags: [{ key: "stack", value: "app" }] }))).toBeUndefined();
    expect(stackNameOf(service({ tags: undefined }))).toBeUndefined();
  });
});

describe("advice after an owner put the source back", () => {
  it.each([
    [
      "a CloudFormation stack",
      [{ key: "aws:cloudformation:stack-name", value: "app" }],
      "cloudformation",
      ADVICE.cloudformation,
    ],
    ["a Terraform tag key", [{ key: "terraform", value: "true" }], "terraform", ADVICE.terraform],
    [
      "a Terraform tag value, any case",
      [{ key: "ManagedBy", value: "Terraform" }],
      "terraform",
      ADVICE.terraform,
    ],
    ["a tag without a value", [{ key: "Terraform-Managed" }], "terraform", ADVICE.terraform],
    ["other tags", [{ key: "team", value: "payments" }], "unknown", ADVICE.other],
    [
      "a stack name tag that is only similar",
      [{ key: "cloudformation", value: "x" }],
      "unknown",
      ADVICE.other,
    ],
    ["no tags", undefined, "unknown", ADVICE.other],
  ])("recognises %s", (_, tags, managedBy, advice) => {
    expect(revertAdvice(tags)).toEqual({ managedBy, advice });
  });

  it("prefers CloudFormation when a stack also carries Terraform tags", () => {
    const tags = [
      { key: "ManagedBy", value: "terraform" },
      { key: "aws:cloudformation:stack-name", value: "app" },
    ];
    expect(revertAdvice(tags).managedBy).toBe("cloudformation");
  });

  it("gives advice a user can act on for each tool", () => {
    expect(ADVICE.terraform).toContain("lifecycle { ignore_changes = [task_definition] }");
    expect(ADVICE.cloudformation).toContain("TaskDefinitionRevision.LATEST");
    expect(ADVICE.controller).toContain("`dns-cache inject`");
    expect(ADVICE.other).toContain("`dns-cache inject`");
  });
});
