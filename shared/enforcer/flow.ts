/**
 * The enforcer, one event end to end: a completed deployment (one service), a scheduled sweep (every
 * service of every swept account), or a task definition tagged with the opt-in tag (inject it when it is
 * the newest, then converge the services that run it). Returns what was decided; throws only what is
 * worth retrying (after reporting it).
 */
import type { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import type { ECSClient, Service } from "@aws-sdk/client-ecs";
import type { Target } from "#shared/aws/clients.ts";
import { describeServices } from "#shared/aws/ecs-services.ts";
import { RetryableError } from "#shared/aws/errors.ts";
import { limiter } from "#shared/runtime/concurrency.ts";
import { converge } from "./converge.ts";
import type { Decision } from "./decide.ts";
import { parseEnforcerEvent, type ServiceRef, type TaskDefinitionRef } from "./events.ts";
import { guardedCopy, isMove, type JudgeDeps, judge, policyOf } from "./judge.ts";
import { Scope } from "./scope.ts";
import { recheckIn, type SweepFailure, sweepScope } from "./sweep.ts";

export interface EnforcerDeps extends JudgeDeps {
  ecsFor(target: Target): ECSClient | Promise<ECSClient>;
  cfnFor(target: Target): CloudFormationClient | Promise<CloudFormationClient>;
  /** Single-account mode: the only account and region this deployment acts in. */
  home?: Target;
  /** What a sweep covers: the home account, or the organisation's accounts (each in the swept regions). */
  sweepTargets(): Promise<{ targets: Target[]; failures: SweepFailure[] }>;
}

export interface SweepSummary {
  [field: string]: unknown;
  targets: number;
  services: number;
  describeServicesCalls: number;
  byReason: Record<string, number>;
  failures: SweepFailure[];
}

export interface Observer {
  /** `inSweep`: one of many decisions of a sweep (reported together where that reads better). */
  decision(d: Decision, inSweep?: boolean): void;
  sweep(summary: SweepSummary, decisions: Decision[]): void;
  retry(error: RetryableError, about: Partial<Decision>): void;
  deferred?(count: number): void;
}

export interface Report {
  decisions: Decision[];
  sweep?: SweepSummary;
}

async function scopeFor(target: Target, deps: EnforcerDeps): Promise<Scope> {
  return new Scope(target, await deps.ecsFor(target), () => deps.cfnFor(target));
}

function foreign(target: Target, deps: EnforcerDeps): Decision | undefined {
  const home = deps.home;
  if (!home || (target.account === home.account && target.region === home.region)) return undefined;
  return {
    outcome: "skipped",
    reason: "FOREIGN_EVENT",
    message: `from ${target.account}/${target.region}; this deployment acts in ${home.account}/${home.region} only`,
  };
}

/** One service, after its deployment completed: ≤ 4 ECS reads and 1 UpdateService (+1 registration). */
async function onDeploymentCompleted(ref: ServiceRef, deps: EnforcerDeps): Promise<Decision> {
  const target = { account: ref.account, region: ref.region };
  const away = foreign(target, deps);
  if (away) return { ...away, service: ref.arn };
  const scope = await scopeFor(target, deps);
  const [svc] = (await describeServices(scope.ecs, ref.cluster, [ref.arn])).services;
  if (!svc) return { outcome: "left", reason: "SERVICE_GONE", service: ref.arn, message: "not found" };
  const verdict = await judge(svc, scope, deps);
  if (!isMove(verdict)) return verdict;
  const [decision] = await converge([verdict], scope, deps, recheckIn(scope, ref.cluster, { calls: 0 }));
  return decision ?? { outcome: "failed", reason: "INTERNAL", service: ref.arn };
}

function summarise(
  decisions: Decision[],
  failures: SweepFailure[],
  targets: number,
  calls: number,
): SweepSummary {
  const byReason: Record<string, number> = {};
  for (const d of decisions) byReason[d.reason] = (byReason[d.reason] ?? 0) + 1;
  return { targets, services: decisions.length, describeServicesCalls: calls, byReason, failures };
}

async function sweep(
  deps: EnforcerDeps,
  only?: (svc: Service) => boolean,
  targets?: Target[],
): Promise<Required<Report>> {
  const listed = targets ? { targets, failures: [] } : await deps.sweepTargets();
  const limit = limiter(deps.config.accountConcurrency);
  const results = await Promise.all(
    listed.targets.map((target) =>
      limit(async () => {
        try {
          return await sweepScope(await scopeFor(target, deps), deps, only);
        } catch (error) {
          // E.g. the member role cannot be assumed: this account fails, the others go on.
          const reason = error instanceof RetryableError ? error.reason : "ACCOUNT_FAILED";
          const failure = { ...target, reason, message: (error as Error)?.message ?? String(error) };
          return { decisions: [], failures: [failure], describeServicesCalls: 0 };
        }
      }),
    ),
  );
  const decisions = results.flatMap((r) => r.decisions);
  const failures = [...listed.failures, ...results.flatMap((r) => r.failures)];
  const calls = results.reduce((n, r) => n + r.describeServicesCalls, 0);
  return { decisions, sweep: summarise(decisions, failures, listed.targets.length, calls) };
}

/** A revision tagged with the opt-in tag: its copy (when it is the newest), then the services running it. */
async function onTagged(ref: TaskDefinitionRef, deps: EnforcerDeps): Promise<Report> {
  const target = { account: ref.account, region: ref.region };
  const away = foreign(target, deps);
  if (away) return { decisions: [{ ...away, taskDefinitionArn: ref.arn }] };
  const scope = await scopeFor(target, deps);
  const copy = await guardedCopy(scope, ref, policyOf(deps.config, scope.target), deps.guard);
  const injected: Decision = {
    outcome: copy.kind === "made" ? "converged" : copy.kind === "would-make" ? "audited" : "skipped",
    reason: copy.reason,
    taskDefinitionArn: ref.arn,
    ...(copy.copyArn ? { copyArn: copy.copyArn } : {}),
    ...(copy.message ? { message: copy.message } : {}),
  };
  // The service's revision is its primary deployment's: it runs the tagged one, or is rolling out to it.
  const runs = (svc: Service) => svc.taskDefinition === ref.arn;
  const services = await sweep(deps, runs, [target]);
  return { decisions: [injected, ...services.decisions], sweep: services.sweep };
}

export async function handleEnforcerEvent(
  event: unknown,
  deps: EnforcerDeps,
  observer: Observer,
): Promise<Report> {
  const parsed = parseEnforcerEvent(event, deps.config.optIn);
  if (!parsed.ok) {
    const decision: Decision = { outcome: "skipped", reason: parsed.reason, message: parsed.message };
    observer.decision(decision);
    return { decisions: [decision] };
  }
  const e = parsed.event;
  try {
    if (e.kind === "deployment-completed") {
      const decision = await onDeploymentCompleted(e.service, deps);
      observer.decision(decision);
      return { decisions: [decision] };
    }
    const report = e.kind === "sweep" ? await sweep(deps) : await onTagged(e.taskDefinition, deps);
    for (const d of report.decisions) observer.decision(d, report.sweep !== undefined);
    if (report.sweep) observer.sweep(report.sweep, report.decisions);
    const failure = report.sweep?.failures[0];
    // Nothing could be read at all: worth a retry of the invocation.
    if (failure && report.decisions.length === 0) throw new RetryableError(failure.reason, failure.message);
    return report;
  } catch (error) {
    const retryable =
      error instanceof RetryableError
        ? error
        : new RetryableError("INTERNAL", (error as Error)?.message ?? String(error), { cause: error });
    observer.retry(retryable, e.kind === "deployment-completed" ? { service: e.service.arn } : {});
    throw retryable;
  }
}
