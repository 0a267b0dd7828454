import type { ECSClient } from "@aws-sdk/client-ecs";
import type { Target } from "#shared/aws/clients.ts";
import {
  type DescribedTaskDefinition,
  deregisterTaskDefinition,
  describeTaskDefinition,
  listActiveRevisions,
  type Registered,
  RegistrationRejectedError,
  registerTaskDefinition,
} from "#shared/aws/ecs-task-definitions.ts";
import { RetryableError } from "#shared/aws/errors.ts";
import type { Guard } from "#shared/aws/idempotency.ts";
import { MARKER_TAGS } from "#shared/engine/constants.ts";
import { InvalidInputError } from "#shared/engine/errors.ts";
import { inject } from "#shared/engine/inject.ts";
import type { TagMatch } from "#shared/runtime/env.ts";
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

type Tags = DescribedTaskDefinition["tags"];

function hasTag(tags: Tags, match: TagMatch): boolean {
  return (tags ?? []).some((t) => t.key === match.key && t.value === match.value);
}

function tagValue(tags: Tags, key: string): string | undefined {
  return (tags ?? []).find((t) => t.key === key)?.value;
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

/** How many revisions between a source and its copy are looked at, at most. */
const MAX_BETWEEN = 10;

/** The source revision a dns-cache revision was made from; undefined for anyone else's revision. */
function copyOf(d: DescribedTaskDefinition): number | undefined {
  const text = tagValue(d.tags, MARKER_TAGS.sourceRevision);
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

function skipped(reason: string, reg: Registration, extra: Partial<Outcome> = {}): Outcome {
  return { outcome: "skipped", reason, ...about(reg), ...extra };
}

/**
 * When CloudTrail left the response out, the registered revision is the family's newest *source*: the
 * newest revision may be our copy of an older source awaiting deregistration, with a real source
 * between the two, and that source must not be skipped.
 */
async function newestSource(
  ecs: ECSClient,
  family: string,
  latest: DescribedTaskDefinition,
  latestRevision: number,
): Promise<number> {
  const madeFrom = copyOf(latest);
  if (madeFrom === undefined) return latestRevision;
  if (latestRevision <= madeFrom + 1) return madeFrom;
  const between = (await listActiveRevisions(ecs, family))
    .filter((r) => r > madeFrom && r < latestRevision)
    .sort((a, b) => b - a)
    .slice(0, MAX_BETWEEN);
  for (const r of between) {
    const d = await describeTaskDefinition(ecs, `${family}:${r}`);
    if (d?.taskDefinition?.status === "ACTIVE" && copyOf(d) === undefined) return r;
  }
  return madeFrom;
}

/**
 * Describes the family's newest ACTIVE revision: one call usually answers "is the source still the
 * newest?", "was it injected already?" and "what does it hold?". Then injects and registers.
 */
export async function processRegistration(reg: Registration, deps: InjectorDeps): Promise<Outcome> {
  const { config } = deps;
  const ecs = await deps.ecsFor({ account: reg.account, region: reg.region });
  const latest = await describeTaskDefinition(ecs, reg.family);
  const latestRevision = latest?.taskDefinition?.revision;
  if (!latest || latestRevision === undefined) {
    return skipped("SOURCE_NOT_FOUND", reg, { message: "the family has no ACTIVE revision" });
  }
  // CloudTrail leaves out (or truncates) the response of large calls: then take the newest source.
  const revision = reg.revision ?? (await newestSource(ecs, reg.family, latest, latestRevision));
  const target: Registration = { ...reg, revision };

  let source = latest;
  if (latestRevision < revision)
    return skipped("SOURCE_INACTIVE", target, { message: "the revision was deregistered" });
  if (latestRevision > revision) {
    const madeFrom = copyOf(latest);
    if (madeFrom === revision) return alreadyInjected(ecs, target, revision, latest, latestRevision);
    if (madeFrom === undefined || madeFrom > revision) {
      // Injecting an older revision would roll the family back over the newer one.
      return skipped("SUPERSEDED", target, { message: `revision ${latestRevision} is newer` });
    }
    // The newest is our copy of an older source: this source is newer still, so read it itself.
    const own = await describeTaskDefinition(ecs, `${reg.family}:${revision}`);
    if (own?.taskDefinition?.status !== "ACTIVE") {
      return skipped("SOURCE_INACTIVE", target, { message: "the revision was deregistered" });
    }
    source = own;
  }
  if (hasTag(source.tags, config.optOut)) return skipped("OPTED_OUT", target);
  if (!hasTag(source.tags, config.optIn)) return skipped("NOT_OPTED_IN", target);
  if (tagValue(source.tags, MARKER_TAGS.version) !== undefined) return skipped("ALREADY_INJECTED", target);

  let result: ReturnType<typeof inject>;
  try {
    result = inject(
      { taskDefinition: source.taskDefinition, tags: source.tags },
      { deployment: config.options, sourceRevision: revision },
    );
  } catch (error) {
    // The engine is pure: trying again would fail the same way, so report instead of retrying.
    const reason = error instanceof InvalidInputError ? "INVALID_SOURCE" : "ENGINE_ERROR";
    return { outcome: "failed", reason, message: (error as Error).message, ...about(target) };
  }
  if (result.outcome === "refused") {
    const [first] = result.refusals;
    return {
      outcome: "refused",
      reason: first?.reason ?? "REFUSED",
      reasons: result.refusals.map((r) => r.reason),
      message: result.refusals.map((r) => `${r.reason}: ${r.message}`).join("; "),
      ...about(target),
    };
  }
  if (config.mode === "audit") return { outcome: "audited", reason: "WOULD_INJECT", ...about(target) };

  let registered: Registered;
  try {
    registered = await registerTaskDefinition(ecs, result.definition);
  } catch (error) {
    if (error instanceof RegistrationRejectedError)
      return { outcome: "failed", reason: error.reason, message: error.message, ...about(target) };
    throw error;
  }
  const gap =
    registered.revision === revision + 1
      ? ({ kind: "clean" } as const)
      : await settleGap(ecs, target.family, revision, registered);
  if (gap.kind === "blocked") {
    return skipped("SUPERSEDED", target, {
      message: `a newer revision was registered while injecting; ours (${registered.revision}) was deregistered`,
    });
  }
  return {
    outcome: "injected",
    reason: "INJECTED",
    injectedTaskDefinitionArn: gap.kind === "duplicate" ? gap.of : registered.taskDefinitionArn,
    ...(gap.kind === "duplicate"
      ? {
          message: `revision ${registered.revision} duplicated ${gap.of} (a retried request) and was deregistered`,
        }
      : {}),
    ...about(target),
  };
}

/**
 * The family's newest revision is our copy of this source. When it does not directly follow the
 * source (a retried event after a gap check that never finished), the gap is settled now: the copy
 * must not bury anyone else's newer revision.
 */
async function alreadyInjected(
  ecs: ECSClient,
  target: Registration,
  revision: number,
  latest: DescribedTaskDefinition,
  latestRevision: number,
): Promise<Outcome> {
  const copy = {
    taskDefinitionArn: latest.taskDefinition?.taskDefinitionArn ?? "",
    revision: latestRevision,
  };
  const gap =
    latestRevision === revision + 1
      ? ({ kind: "clean" } as const)
      : await settleGap(ecs, target.family, revision, copy);
  if (gap.kind === "blocked") {
    return skipped("SUPERSEDED", target, {
      message: `our copy (${latestRevision}) buried a newer revision and was deregistered`,
    });
  }
  return skipped("ALREADY_INJECTED", target, {
    injectedTaskDefinitionArn: gap.kind === "duplicate" ? gap.of : copy.taskDefinitionArn,
  });
}

export type Gap = { kind: "clean" } | { kind: "duplicate"; of: string } | { kind: "blocked" };

/**
 * Revisions of a family are numbered in order, so our copy usually follows the source directly. When
 * it does not, look at the ACTIVE revisions in between:
 * - our copy of this same source (a retried request that had in fact succeeded): keep that one;
 * - our copy of an older source: no matter, ours is newer and right;
 * - anyone else's revision (or our copy of a newer source): ours would bury it, so ours goes (that
 *   revision's own event injects it).
 * The copy is deregistered unless the gap is clean.
 */
export async function settleGap(
  ecs: ECSClient,
  family: string,
  revision: number,
  copy: Registered,
): Promise<Gap> {
  const between = (await listActiveRevisions(ecs, family)).filter((r) => r > revision && r < copy.revision);
  let duplicate: string | undefined;
  let blocking = between.length > MAX_BETWEEN;
  for (const r of blocking ? [] : between.sort((a, b) => a - b)) {
    const d = await describeTaskDefinition(ecs, `${family}:${r}`);
    if (d?.taskDefinition?.status !== "ACTIVE") continue;
    const madeFrom = copyOf(d);
    if (madeFrom === revision) duplicate ??= d.taskDefinition.taskDefinitionArn;
    else if (madeFrom === undefined || madeFrom > revision) blocking = true;
  }
  if (!blocking && !duplicate) return { kind: "clean" };
  await deregisterTaskDefinition(ecs, copy.taskDefinitionArn);
  return blocking ? { kind: "blocked" } : { kind: "duplicate", of: duplicate ?? "" };
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
    const { result, replayed } = await deps.guard.run(guardKey(reg), () => processRegistration(reg, deps));
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
