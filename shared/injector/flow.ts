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
import type { Guard } from "#shared/aws/guard.ts";
import { MARKER_TAGS } from "#shared/engine/constants.ts";
import { InvalidInputError } from "#shared/engine/errors.ts";
import { inject } from "#shared/engine/inject.ts";
import { ecrRegistry, type ImageMirror } from "#shared/engine/sidecars.ts";
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

/** The pull-through cache of the task's own account and region, where the stack created the rule. */
function mirrorFor(config: InjectorConfig, reg: Registration): { imageMirror?: ImageMirror } {
  const pt = config.pullThrough;
  if (!pt) return {};
  if (pt.onlyAccount !== undefined && pt.onlyAccount !== reg.account) return {};
  if (pt.onlyRegion !== undefined && pt.onlyRegion !== reg.region) return {};
  return { imageMirror: { registry: ecrRegistry(reg.account, reg.region), prefix: pt.prefix } };
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

/** The source revision a dns-cache revision was made from; undefined for anyone else's revision. */
function copyOf(d: DescribedTaskDefinition): number | undefined {
  const text = tagValue(d.tags, MARKER_TAGS.sourceRevision);
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

function skipped(reason: string, reg: Registration, extra: Partial<Outcome> = {}): Outcome {
  return { outcome: "skipped", reason, ...about(reg), ...extra };
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
  // CloudTrail leaves out the response of large calls: then the newest revision is the source.
  const revision = reg.revision ?? (copyOf(latest) === undefined ? latestRevision : undefined);
  if (revision === undefined) return skipped("ALREADY_INJECTED", reg);
  const target: Registration = { ...reg, revision };

  let source = latest;
  if (latestRevision < revision)
    return skipped("SOURCE_INACTIVE", target, { message: "the revision was deregistered" });
  if (latestRevision > revision) {
    const madeFrom = copyOf(latest);
    if (madeFrom === revision) {
      return skipped("ALREADY_INJECTED", target, {
        injectedTaskDefinitionArn: latest.taskDefinition?.taskDefinitionArn,
      });
    }
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
      { deployment: config.options, sourceRevision: revision, ...mirrorFor(config, reg) },
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
  if (registered.revision !== revision + 1) return settleGap(ecs, target, revision, registered);
  return {
    outcome: "injected",
    reason: "INJECTED",
    injectedTaskDefinitionArn: registered.taskDefinitionArn,
    ...about(target),
  };
}

const MAX_BETWEEN = 10;

/**
 * Revisions of a family are numbered in order, so ours usually follows the source directly. When it
 * does not, look at the ACTIVE revisions in between:
 * - our copy of this same source (a retried request that had in fact succeeded): keep that one;
 * - our copy of an older source: no matter, ours is newer and right;
 * - anyone else's revision (or our copy of a newer source): ours would bury it, so ours goes (that
 *   revision's own event injects it).
 */
async function settleGap(
  ecs: ECSClient,
  reg: Registration,
  revision: number,
  registered: Registered,
): Promise<Outcome> {
  const between = (await listActiveRevisions(ecs, reg.family)).filter(
    (r) => r > revision && r < registered.revision,
  );
  let duplicate: string | undefined;
  let blocking = between.length > MAX_BETWEEN;
  for (const r of blocking ? [] : between.sort((a, b) => a - b)) {
    const d = await describeTaskDefinition(ecs, `${reg.family}:${r}`);
    if (d?.taskDefinition?.status !== "ACTIVE") continue;
    const madeFrom = copyOf(d);
    if (madeFrom === revision) duplicate ??= d.taskDefinition.taskDefinitionArn;
    else if (madeFrom === undefined || madeFrom > revision) blocking = true;
  }
  if (!blocking && !duplicate) {
    return {
      outcome: "injected",
      reason: "INJECTED",
      injectedTaskDefinitionArn: registered.taskDefinitionArn,
      ...about(reg),
    };
  }
  await deregisterTaskDefinition(ecs, registered.taskDefinitionArn);
  if (!blocking && duplicate) {
    return {
      outcome: "injected",
      reason: "INJECTED",
      message: `revision ${registered.revision} duplicated ${duplicate} (a retried request) and was deregistered`,
      injectedTaskDefinitionArn: duplicate,
      ...about(reg),
    };
  }
  return skipped("SUPERSEDED", reg, {
    message: `a newer revision was registered while injecting; ours (${registered.revision}) was deregistered`,
  });
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
