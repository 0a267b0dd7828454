import type { ECSClient } from "@aws-sdk/client-ecs";
import type { InjectorConfig, TagMatch } from "./config.ts";
import type { Target } from "./ecs-clients.ts";
import {
  type DescribedTaskDefinition,
  deregisterTaskDefinition,
  describeTaskDefinition,
  type Registered,
  RegistrationRejectedError,
  RetryableError,
  registerTaskDefinition,
} from "./ecs-task-definitions.ts";
import { InvalidInputError } from "./errors.ts";
import type { Guard } from "./idempotency.ts";
import { inject, MARKER_TAGS } from "./inject.ts";
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
}

type Tags = DescribedTaskDefinition["tags"];

function hasTag(tags: Tags, match: TagMatch): boolean {
  return (tags ?? []).some((t) => t.key === match.key && t.value === match.value);
}

function tagValue(tags: Tags, key: string): string | undefined {
  return (tags ?? []).find((t) => t.key === key)?.value;
}

function about(reg: Registration): Pick<Outcome, "family" | "taskDefinitionArn"> {
  return { family: reg.family, taskDefinitionArn: reg.taskDefinitionArn };
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

/**
 * Describes the family's newest ACTIVE revision (one call answers "is the source still the newest?",
 * "was it injected already?" and "what does it hold?"), injects it and registers the result.
 */
export async function processRegistration(reg: Registration, deps: InjectorDeps): Promise<Outcome> {
  const { config } = deps;
  const ecs = await deps.ecsFor({ account: reg.account, region: reg.region });
  const latest = await describeTaskDefinition(ecs, `${reg.family}`);
  const latestTd = latest?.taskDefinition;
  if (!latest || !latestTd?.revision) {
    return {
      outcome: "skipped",
      reason: "SOURCE_NOT_FOUND",
      message: "the family has no ACTIVE revision",
      ...about(reg),
    };
  }
  if (latestTd.revision < reg.revision) {
    return {
      outcome: "skipped",
      reason: "SOURCE_INACTIVE",
      message: "the revision was deregistered",
      ...about(reg),
    };
  }
  if (latestTd.revision > reg.revision) {
    if (tagValue(latest.tags, MARKER_TAGS.sourceRevision) === String(reg.revision)) {
      return {
        outcome: "skipped",
        reason: "ALREADY_INJECTED",
        injectedTaskDefinitionArn: latestTd.taskDefinitionArn,
        ...about(reg),
      };
    }
    // Injecting an older revision would roll the family back over the newer one.
    return {
      outcome: "skipped",
      reason: "SUPERSEDED",
      message: `revision ${latestTd.revision} is newer`,
      ...about(reg),
    };
  }
  if (hasTag(latest.tags, config.optOut)) return { outcome: "skipped", reason: "OPTED_OUT", ...about(reg) };
  if (!hasTag(latest.tags, config.optIn))
    return { outcome: "skipped", reason: "NOT_OPTED_IN", ...about(reg) };
  if (tagValue(latest.tags, MARKER_TAGS.version) !== undefined)
    return { outcome: "skipped", reason: "ALREADY_INJECTED", ...about(reg) };

  let result: ReturnType<typeof inject>;
  try {
    result = inject(
      { taskDefinition: latestTd, tags: latest.tags },
      { deployment: config.options, sourceRevision: reg.revision },
    );
  } catch (error) {
    if (error instanceof InvalidInputError)
      return { outcome: "failed", reason: "INVALID_SOURCE", message: error.message, ...about(reg) };
    throw error;
  }
  if (result.outcome === "refused") {
    const [first] = result.refusals;
    return {
      outcome: "refused",
      reason: first?.reason ?? "REFUSED",
      reasons: result.refusals.map((r) => r.reason),
      message: result.refusals.map((r) => `${r.reason}: ${r.message}`).join("; "),
      ...about(reg),
    };
  }
  if (config.mode === "audit") return { outcome: "audited", reason: "WOULD_INJECT", ...about(reg) };

  let registered: Registered;
  try {
    registered = await registerTaskDefinition(ecs, result.definition);
  } catch (error) {
    if (error instanceof RegistrationRejectedError)
      return { outcome: "failed", reason: error.reason, message: error.message, ...about(reg) };
    throw error;
  }
  if (registered.revision !== reg.revision + 1) return settleGap(ecs, reg, registered);
  return {
    outcome: "injected",
    reason: "INJECTED",
    injectedTaskDefinitionArn: registered.taskDefinitionArn,
    ...about(reg),
  };
}

const MAX_GAP = 5;

/**
 * Revisions of a family are numbered in order, so ours should directly follow the source. When it does
 * not, something was registered in between: a retried request of ours that had in fact succeeded (keep
 * that one), or someone else's newer revision, which ours must not bury (their own event injects it).
 * Either way ours is deregistered.
 */
async function settleGap(ecs: ECSClient, reg: Registration, registered: Registered): Promise<Outcome> {
  const between: DescribedTaskDefinition[] = [];
  if (registered.revision - reg.revision - 1 <= MAX_GAP) {
    for (let rev = reg.revision + 1; rev < registered.revision; rev++) {
      const d = await describeTaskDefinition(ecs, `${reg.family}:${rev}`);
      if (d) between.push(d);
    }
  }
  await deregisterTaskDefinition(ecs, registered.taskDefinitionArn);
  const active = between.filter((d) => d.taskDefinition?.status === "ACTIVE");
  const ours = active.filter((d) => tagValue(d.tags, MARKER_TAGS.sourceRevision) === String(reg.revision));
  const earlier = ours[0]?.taskDefinition?.taskDefinitionArn;
  if (earlier && ours.length === active.length) {
    return {
      outcome: "injected",
      reason: "INJECTED",
      message: `revision ${registered.revision} duplicated ${earlier} (a retried request) and was deregistered`,
      injectedTaskDefinitionArn: earlier,
      ...about(reg),
    };
  }
  return {
    outcome: "skipped",
    reason: "SUPERSEDED",
    message: `a revision was registered while injecting; ours (${registered.revision}) was deregistered`,
    ...about(reg),
  };
}

export interface Observer {
  outcome(outcome: Outcome): void;
  retry(error: RetryableError, about: Partial<Outcome>): void;
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
  try {
    const { result, replayed } = await deps.guard.run(reg.taskDefinitionArn, () =>
      processRegistration(reg, deps),
    );
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
