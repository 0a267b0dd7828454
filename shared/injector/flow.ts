import type { ECSClient } from "@aws-sdk/client-ecs";
import type { Target } from "#shared/aws/clients.ts";
import { describeTaskDefinition } from "#shared/aws/ecs-task-definitions.ts";
import { RetryableError } from "#shared/aws/errors.ts";
import type { Guard } from "#shared/aws/guard.ts";
import {
  type CopyKind,
  type CopyPolicy,
  type CopyResult,
  copyOfRevision,
  newestSource,
} from "#shared/copies/copies.ts";
import { copyPolicyFor } from "#shared/copies/policy.ts";
import type { InjectorConfig } from "./config.ts";
import { parseRegistrationEvent, type Registration } from "./registration-event.ts";

export type OutcomeKind = "injected" | "audited" | "skipped" | "refused" | "failed";

/** The one summary of what happened to one event: logged, counted and returned. */
export interface Outcome {
  [field: string]: unknown;
  outcome: OutcomeKind;
  reason: string;
  message?: string;
  family?: string;
  taskDefinitionArn?: string;
  injectedTaskDefinitionArn?: string;
  /** Every refusal code, when the engine refused. */
  reasons?: string[];
}

export interface InjectorDeps {
  config: InjectorConfig;
  /** The ECS client for the account and region the task definition lives in. */
  ecsFor(target: Target): ECSClient | Promise<ECSClient>;
  guard: Guard;
  /** Single-account mode: the only account and region this deployment acts in. */
  home?: Target;
}

function about(reg: Registration): Pick<Outcome, "family" | "taskDefinitionArn"> {
  const arn =
    reg.taskDefinitionArn ??
    (reg.revision !== undefined ? taskDefinitionArnOf(reg, reg.revision) : undefined);
  return { family: reg.family, ...(arn ? { taskDefinitionArn: arn } : {}) };
}

function taskDefinitionArnOf(reg: Registration, revision: number): string {
  return `arn:${reg.partition}:ecs:${reg.region}:${reg.account}:task-definition/${reg.family}:${revision}`;
}

/** Decides everything the event alone can decide, without any call. */
export function triage(
  event: unknown,
  config: InjectorConfig,
): { registration: Registration } | { outcome: Outcome } {
  const parsed = parseRegistrationEvent(event);
  if (!parsed.ok) return { outcome: { outcome: "skipped", reason: parsed.reason, message: parsed.message } };
  const reg = parsed.registration;
  if (reg.sessionName !== undefined && config.selfSessionNames.includes(reg.sessionName)) {
    return { outcome: { outcome: "skipped", reason: "SELF_ECHO", ...about(reg) } };
  }
  if (reg.requestMarked) {
    // Registered already injected (by the CLI in a pipeline, say): leave it as its author made it.
    return { outcome: { outcome: "skipped", reason: "ALREADY_INJECTED", ...about(reg) } };
  }
  return { registration: reg };
}

function skipped(reason: string, reg: Registration, extra: Partial<Outcome> = {}): Outcome {
  return { outcome: "skipped", reason, ...about(reg), ...extra };
}

const OUTCOME_OF: Record<CopyKind, OutcomeKind> = {
  made: "injected",
  found: "skipped",
  "would-make": "audited",
  skipped: "skipped",
  refused: "refused",
  failed: "failed",
};

/** The injector's outcome of what became of the source. */
export function outcomeOf(copy: CopyResult, reg: Registration): Outcome {
  const target = copy.revision === undefined ? reg : { ...reg, revision: copy.revision };
  return {
    outcome: OUTCOME_OF[copy.kind],
    reason: copy.reason,
    ...(copy.message ? { message: copy.message } : {}),
    ...(copy.reasons ? { reasons: copy.reasons } : {}),
    ...about(target),
    ...(copy.copyArn ? { injectedTaskDefinitionArn: copy.copyArn } : {}),
  };
}

export function copyPolicy(config: InjectorConfig, target: Target): CopyPolicy {
  return copyPolicyFor(config, config.mode !== "audit", target);
}

/**
 * Describes the family's newest ACTIVE revision (when CloudTrail left the response out, the newest
 * source is the registered revision), then finds or makes its copy through the shared path.
 */
export async function processRegistration(reg: Registration, deps: InjectorDeps): Promise<CopyResult> {
  const ecs = await deps.ecsFor({ account: reg.account, region: reg.region });
  const latest = await describeTaskDefinition(ecs, reg.family);
  const latestRevision = latest?.taskDefinition?.revision;
  if (!latest || latestRevision === undefined) {
    return { kind: "skipped", reason: "SOURCE_NOT_FOUND", message: "the family has no ACTIVE revision" };
  }
  const revision = reg.revision ?? (await newestSource(ecs, reg.family, latest, latestRevision));
  return copyOfRevision(
    ecs,
    { family: reg.family, revision },
    copyPolicy(deps.config, { account: reg.account, region: reg.region }),
    {
      latest,
    },
  );
}

/** One source revision, or (when CloudTrail left out the response) one event. */
function guardKey(reg: Registration): string {
  return (
    reg.taskDefinitionArn ?? `${reg.account}/${reg.region}/${reg.family}#event:${reg.eventId ?? "unknown"}`
  );
}

export interface Observer {
  outcome(outcome: Outcome): void;
  retry(error: RetryableError, about: Partial<Outcome>): void;
  /** Records of a batch left untouched for lack of time (reported as batch item failures). */
  deferred?(count: number): void;
}

/**
 * One event, end to end. Returns the outcome; throws only what is worth retrying, after reporting it.
 * Duplicate deliveries of one source revision (also concurrent ones) are answered from the guard.
 */
export async function handleRegistrationEvent(
  event: unknown,
  deps: InjectorDeps,
  observer: Observer,
): Promise<Outcome> {
  const triaged = triage(event, deps.config);
  if ("outcome" in triaged) {
    observer.outcome(triaged.outcome);
    return triaged.outcome;
  }
  const reg = triaged.registration;
  if (deps.home && (reg.account !== deps.home.account || reg.region !== deps.home.region)) {
    // A forwarded event from elsewhere: acting on it here would touch a same-named family of this account.
    const outcome = skipped("FOREIGN_EVENT", reg, {
      message: `from ${reg.account}/${reg.region}; this deployment acts in ${deps.home.account}/${deps.home.region} only`,
    });
    observer.outcome(outcome);
    return outcome;
  }
  try {
    const { result: copy, replayed } = await deps.guard.run(guardKey(reg), () =>
      processRegistration(reg, deps),
    );
    const result = outcomeOf(copy, reg);
    const outcome: Outcome = replayed
      ? { ...result, outcome: "skipped", reason: "DUPLICATE_EVENT", firstOutcome: result.reason }
      : result;
    observer.outcome(outcome);
    return outcome;
  } catch (error) {
    const retryable =
      error instanceof RetryableError
        ? error
        : new RetryableError("INTERNAL", (error as Error)?.message ?? String(error), { cause: error });
    observer.retry(retryable, about(reg));
    throw retryable;
  }
}
