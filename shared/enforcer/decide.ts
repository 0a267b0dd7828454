/** The pure part of the enforcer's decision: what the service description alone says. */
import type { Service } from "@aws-sdk/client-ecs";
import { hasTag } from "#shared/copies/copies.ts";
import type { TagMatch } from "#shared/runtime/env.ts";

export type DecisionKind = "converged" | "audited" | "left" | "refused" | "failed" | "skipped";

/** One decision about one service (or one event): logged as one line, counted as one metric. */
export interface Decision {
  [field: string]: unknown;
  outcome: DecisionKind;
  reason: string;
  message?: string;
  advice?: string;
  service?: string;
  cluster?: string;
  /** The revision the service runs. */
  taskDefinitionArn?: string;
  /** The copy it was (or would be) moved to. */
  copyArn?: string;
  reasons?: string[];
  /** REVERTED_BY_OWNER: this decision sent the alert. */
  alerted?: boolean;
}

export const STACK_TAG = "aws:cloudformation:stack-name";

export const ADVICE = {
  controller:
    "UpdateService cannot move CODE_DEPLOY or EXTERNAL services: inject in the pipeline with `dns-cache inject` before registering the task definition",
  cloudformation:
    "the stack puts the source revision back on each update: with CDK reference the task definition with TaskDefinitionRevision.LATEST (or the family alone); with CloudFormation inject in the pipeline with `dns-cache inject`",
  terraform:
    "Terraform puts task_definition back on each apply: add lifecycle { ignore_changes = [task_definition] } to the aws_ecs_service, or inject in the pipeline with `dns-cache inject`",
  other:
    "the deploy tool pins the source revision: inject in the pipeline with `dns-cache inject` (GitHub Action, ecspresso, ecs-deploy: register the injected definition), or with Terraform add lifecycle { ignore_changes = [task_definition] }",
} as const;

/** Who put the source back, from the service's tags: advice for that tool. */
export function revertAdvice(tags: Service["tags"]): { managedBy: string; advice: string } {
  const keys = (tags ?? []).map((t) => `${t.key ?? ""}=${t.value ?? ""}`.toLowerCase());
  if (keys.some((k) => k.startsWith(`${STACK_TAG}=`)))
    return { managedBy: "cloudformation", advice: ADVICE.cloudformation };
  if (keys.some((k) => /terraform/.test(k))) return { managedBy: "terraform", advice: ADVICE.terraform };
  return { managedBy: "unknown", advice: ADVICE.other };
}

export function aboutService(svc: Service): Pick<Decision, "service" | "cluster" | "taskDefinitionArn"> {
  return {
    ...(svc.serviceArn ? { service: svc.serviceArn } : {}),
    ...(svc.clusterArn ? { cluster: svc.clusterArn } : {}),
    ...(svc.taskDefinition ? { taskDefinitionArn: svc.taskDefinition } : {}),
  };
}

function left(reason: string, svc: Service, extra: Partial<Decision> = {}): Decision {
  return { outcome: "left", reason, ...aboutService(svc), ...extra };
}

/** The revision the service runs, when it runs exactly one and nothing is rolling out. */
export function runningRevision(svc: Service): string | undefined {
  const deployments = svc.deployments ?? [];
  const [only] = deployments;
  if (deployments.length !== 1 || !only || only.rolloutState === "IN_PROGRESS") return undefined;
  return only.taskDefinition ?? svc.taskDefinition;
}

/**
 * Leave-alone reasons the description alone decides: not ACTIVE, not an ECS deployment controller, the
 * service opted out, more than one deployment or a rollout in progress. Undefined: go on.
 */
export function triageService(svc: Service, optOut: TagMatch): Decision | undefined {
  if (svc.status !== "ACTIVE") return left("SERVICE_NOT_ACTIVE", svc, { message: `status ${svc.status}` });
  const controller = svc.deploymentController?.type ?? "ECS";
  if (controller !== "ECS") {
    return left("CONTROLLER_NOT_ECS", svc, {
      message: `deployment controller ${controller}`,
      advice: ADVICE.controller,
    });
  }
  if (hasTag(svc.tags, optOut)) return left("SERVICE_OPTED_OUT", svc);
  if (!runningRevision(svc)) {
    return left("ROLLOUT_IN_PROGRESS", svc, {
      message: `${svc.deployments?.length ?? 0} deployments; the next event or sweep comes back`,
    });
  }
  return undefined;
}

export function stackNameOf(svc: Service): string | undefined {
  return svc.tags?.find((t) => t.key === STACK_TAG)?.value;
}
