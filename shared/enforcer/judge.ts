/**
 * The decision about one service: leave it alone (with a reason), or converge it on the injected copy of
 * exactly the revision it runs, found or made through the injector's own path and duplicate guard.
 */
import type { Service } from "@aws-sdk/client-ecs";
import type { Alert } from "#shared/aws/alerts.ts";
import type { Target } from "#shared/aws/clients.ts";
import type { DescribedTaskDefinition } from "#shared/aws/ecs-task-definitions.ts";
import type { Memory } from "#shared/aws/enforcer-memory.ts";
import type { Guard } from "#shared/aws/idempotency.ts";
import {
  type CopyPolicy,
  type CopyResult,
  copyOf,
  copyOfRevision,
  isCurrentCopy,
  isInjected,
  optInReason,
} from "#shared/copies/copies.ts";
import { copyPolicyFor } from "#shared/copies/policy.ts";
import type { EnforcerConfig } from "./config.ts";
import {
  aboutService,
  type Decision,
  revertAdvice,
  runningRevision,
  stackNameOf,
  triageService,
} from "./decide.ts";
import { type TaskDefinitionRef, taskDefinitionRefOf } from "./events.ts";
import type { Scope } from "./scope.ts";

export interface JudgeDeps {
  config: EnforcerConfig;
  guard: Guard;
  memory?: Memory;
  alert(alert: Alert): Promise<void>;
}

/** Where a service should go: the copy's ARN, or a decision to leave it. */
export type Verdict = { move: true; svc: Service; source: string; copyArn: string; made: boolean } | Decision;

export function policyOf(config: EnforcerConfig, target: Target): CopyPolicy {
  return copyPolicyFor(config, config.mode === "enforce", target);
}

function left(reason: string, svc: Service, extra: Partial<Decision> = {}): Decision {
  return { outcome: "left", reason, ...aboutService(svc), ...extra };
}

/** Why a source is not to be copied: injected already, opted out, not opted in. */
function sourceReason(d: DescribedTaskDefinition, policy: CopyPolicy): string | undefined {
  if (isInjected(d)) return "ALREADY_INJECTED";
  return optInReason(d.tags, policy);
}

/** The copy of `ref` through the shared path and guard; a replayed answer without a copy is decided again. */
export async function guardedCopy(
  scope: Scope,
  ref: TaskDefinitionRef,
  policy: CopyPolicy,
  guard: Guard,
  latest?: DescribedTaskDefinition,
): Promise<CopyResult> {
  const work = () =>
    copyOfRevision(
      scope.ecs,
      { family: ref.family, revision: ref.revision },
      policy,
      latest ? { latest } : {},
    );
  return scope.memo(`copy:${ref.arn}`, async () => {
    const { result, replayed } = await guard.run(ref.arn, work);
    // E.g. NOT_OPTED_IN, decided when the revision was registered and before it was tagged.
    // Within this invocation the copy of this source is memoised: the cached newest need not be re-read.
    return replayed && !result.copyArn ? await work() : result;
  });
}

function verdictOfCopy(copy: CopyResult, svc: Service, ref: TaskDefinitionRef): Verdict {
  if ((copy.kind === "made" || copy.kind === "found") && copy.copyArn)
    return { move: true, svc, source: ref.arn, copyArn: copy.copyArn, made: copy.kind === "made" };
  const about = { ...(copy.message ? { message: copy.message } : {}) };
  switch (copy.kind) {
    case "would-make":
      return {
        outcome: "audited",
        reason: "WOULD_CONVERGE",
        message: `would inject revision ${ref.revision} and move the service to the copy`,
        ...aboutService(svc),
      };
    case "refused":
      return {
        outcome: "refused",
        reason: copy.reason,
        reasons: copy.reasons ?? [],
        ...about,
        ...aboutService(svc),
      };
    case "failed":
      return { outcome: "failed", reason: copy.reason, ...about, ...aboutService(svc) };
    default:
      // A newer revision appeared meanwhile: this one is older now.
      return copy.reason === "SUPERSEDED"
        ? left("NO_COPY_FOR_OLDER_REVISION", svc, about)
        : left(copy.reason, svc, about);
  }
}

/**
 * Finds the copy of exactly the revision the service runs. Never makes a copy of a revision that is
 * not its family's newest source; an existing current copy of an older revision is fine to move to
 * (it rolls nothing back: family-only references still resolve to the newest revision).
 */
async function findTarget(
  svc: Service,
  ref: TaskDefinitionRef,
  scope: Scope,
  deps: JudgeDeps,
): Promise<Verdict> {
  const policy = policyOf(deps.config, scope.target);
  const latest = await scope.newest(ref.family);
  if (latest?.taskDefinition?.revision === undefined)
    return left("SOURCE_INACTIVE", svc, { message: "the family has no ACTIVE revision" });
  const latestRevision = latest.taskDefinition.revision;
  // The newest ACTIVE revision is older than the one running: that one was deregistered.
  if (latestRevision < ref.revision)
    return left("SOURCE_INACTIVE", svc, { message: "the revision was deregistered" });
  const madeFrom = copyOf(latest);
  if (latestRevision === ref.revision) {
    const why = sourceReason(latest, policy);
    if (why) return left(why, svc);
    return verdictOfCopy(await guardedCopy(scope, ref, policy, deps.guard, latest), svc, ref);
  }
  if (madeFrom === ref.revision) {
    // The newest is our copy of this revision; the copy carries the source's tags.
    const why = optInReason(latest.tags, policy);
    if (why) return left(why, svc);
    return verdictOfCopy(await guardedCopy(scope, ref, policy, deps.guard, latest), svc, ref);
  }
  if ((madeFrom ?? Infinity) > ref.revision) {
    // An older revision: its copy usually follows it directly.
    const next = await scope.revision(ref.family, ref.revision + 1);
    if (next && isCurrentCopy(next, ref.revision, policy) && next.taskDefinition?.taskDefinitionArn)
      return {
        move: true,
        svc,
        source: ref.arn,
        copyArn: next.taskDefinition.taskDefinitionArn,
        made: false,
      };
  }
  const own = await scope.revision(ref.family, ref.revision);
  if (!own?.taskDefinition)
    return left("SOURCE_NOT_FOUND", svc, { message: "the revision cannot be described" });
  const why = sourceReason(own, policy);
  if (why) return left(why, svc);
  if ((madeFrom ?? Infinity) < ref.revision) {
    // The newest is our copy of an older source: this revision is the newest source.
    return verdictOfCopy(await guardedCopy(scope, ref, policy, deps.guard, latest), svc, ref);
  }
  return left("NO_COPY_FOR_OLDER_REVISION", svc, {
    message: `revision ${latestRevision} is newer; the service converges on its next deploy`,
  });
}

async function reverted(svc: Service, source: string, copyArn: string, deps: JudgeDeps): Promise<Decision> {
  const { managedBy, advice } = revertAdvice(svc.tags);
  const serviceArn = svc.serviceArn ?? "";
  let alerted = false;
  if (
    deps.config.mode === "enforce" &&
    deps.memory &&
    (await deps.memory.claimRevertReport(serviceArn, source))
  ) {
    await deps.alert({
      detailType: "DNS Cache Enforcement Reverted",
      resources: [serviceArn],
      detail: {
        reason: "REVERTED_BY_OWNER",
        service: serviceArn,
        cluster: svc.clusterArn,
        sourceTaskDefinitionArn: source,
        copyTaskDefinitionArn: copyArn,
        managedBy,
        advice,
      },
    });
    alerted = true;
  }
  return left("REVERTED_BY_OWNER", svc, {
    message: `moved off ${source} before and put back by its owner (${managedBy}); not moved again for this revision`,
    advice,
    alerted,
    copyArn,
  });
}

/** Everything up to the write: a decision to leave the service, or where to move it. */
export async function judge(svc: Service, scope: Scope, deps: JudgeDeps): Promise<Verdict> {
  const { config } = deps;
  const triaged = triageService(svc, config.optOut);
  if (triaged) return triaged;
  const running = runningRevision(svc) ?? "";
  const ref = taskDefinitionRefOf(running);
  if (!ref) return left("SOURCE_NOT_FOUND", svc, { message: "the service's task definition is not an ARN" });
  if (config.checkStacks) {
    const stack = stackNameOf(svc);
    const status = stack ? await scope.stackStatus(stack) : undefined;
    if (status?.endsWith("_IN_PROGRESS"))
      return left("STACK_IN_PROGRESS", svc, { message: `stack ${stack} is ${status}` });
  }
  const move = svc.serviceArn ? await deps.memory?.lastMove(svc.serviceArn) : undefined;
  if (move?.copyArn === running)
    return left("ALREADY_INJECTED", svc, { message: "moved here by the enforcer" });
  if (move?.sourceArn === running) return reverted(svc, running, move.copyArn, deps);
  return findTarget(svc, ref, scope, deps);
}

export function isMove(v: Verdict): v is Extract<Verdict, { move: true }> {
  return (v as { move?: unknown }).move === true;
}
