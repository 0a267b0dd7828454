/**
 * "Make or find the injected copy of exactly revision N": the one path by which dns-cache registers a
 * copy, shared by the injector (a registration event) and the enforcer (a service running N). The
 * rules it keeps: one copy per source (callers guard it by the source's ARN), never a copy of a source
 * that is not its family's newest (family-only references would roll back), and a copy never buries
 * anyone else's newer revision (the gap between a source and its copy is settled on every path).
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import {
  type DescribedTaskDefinition,
  deregisterTaskDefinition,
  describeTaskDefinition,
  listActiveRevisions,
  type Registered,
  RegistrationRejectedError,
  registerTaskDefinition,
} from "#shared/aws/ecs-task-definitions.ts";
import { CACHE_CONTAINER, INIT_CONTAINER, MARKER_TAGS } from "#shared/engine/constants.ts";
import { InvalidInputError } from "#shared/engine/errors.ts";
import { inject } from "#shared/engine/inject.ts";
import type { PartialOptions } from "#shared/engine/options.ts";
import type { ImageMirror } from "#shared/engine/sidecars.ts";
import { isOurs } from "#shared/engine/strip.ts";
import type { TagMatch } from "#shared/runtime/env.ts";

export interface CopyPolicy {
  /** `tag`: families carrying the opt-in tag; `all`: every family unless it carries the opt-out tag. */
  scope: "tag" | "all";
  optIn: TagMatch;
  optOut: TagMatch;
  /** Engine options set for the whole deployment; per-family tags override them. */
  options: PartialOptions;
  /** false: decide everything, register nothing (audit). */
  write: boolean;
  /** Where the sidecars' ECR Public images are pulled through, in the source's account and region. */
  imageMirror?: ImageMirror;
}

export type CopyKind = "made" | "found" | "would-make" | "skipped" | "refused" | "failed";

/** What became of one source revision; JSON, so the duplicate guard can store and replay it. */
export interface CopyResult {
  [field: string]: unknown;
  kind: CopyKind;
  reason: string;
  message?: string;
  /** The source revision this is about (resolved from the family when the event had none). */
  revision?: number;
  /** The injected copy, when one was made or found. */
  copyArn?: string;
  /** Every refusal code, when the engine refused. */
  reasons?: string[];
}

function mirrorOf(policy: CopyPolicy): { imageMirror?: ImageMirror } {
  return policy.imageMirror ? { imageMirror: policy.imageMirror } : {};
}

/** How many revisions between a source and its copy are looked at, at most. */
const MAX_BETWEEN = 10;

type Tags = DescribedTaskDefinition["tags"];

export function hasTag(tags: Tags, match: TagMatch): boolean {
  return (tags ?? []).some((t) => t.key === match.key && t.value === match.value);
}

function tagValue(tags: Tags, key: string): string | undefined {
  return (tags ?? []).find((t) => t.key === key)?.value;
}

/** The source revision a dns-cache revision was made from; undefined for anyone else's revision. */
export function copyOf(d: DescribedTaskDefinition): number | undefined {
  const text = tagValue(d.tags, MARKER_TAGS.sourceRevision);
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/**
 * Carries the cache already: our marker tags, or our containers (a copy carried forward by a tool such
 * as ecs-deploy, which re-registers the running definition without its tags).
 */
export function isInjected(d: DescribedTaskDefinition): boolean {
  if (tagValue(d.tags, MARKER_TAGS.version) !== undefined) return true;
  return (d.taskDefinition?.containerDefinitions ?? []).some(({ name = "", ...c }) =>
    [CACHE_CONTAINER, INIT_CONTAINER].some((ours) => isOurs({ ...c, name }, ours)),
  );
}

/** Whether the family is in scope of the policy: opted in (by tag, or by `all`) and not opted out. */
export function optInReason(tags: Tags, policy: CopyPolicy): "OPTED_OUT" | "NOT_OPTED_IN" | undefined {
  if (hasTag(tags, policy.optOut)) return "OPTED_OUT";
  if (policy.scope === "tag" && !hasTag(tags, policy.optIn)) return "NOT_OPTED_IN";
  return undefined;
}

/** Our copy of `revision`, made by this version with the options in force now. */
export function isCurrentCopy(d: DescribedTaskDefinition, revision: number, policy: CopyPolicy): boolean {
  if (copyOf(d) !== revision || d.taskDefinition?.status !== "ACTIVE") return false;
  try {
    const again = inject(
      { taskDefinition: d.taskDefinition, tags: d.tags },
      { deployment: policy.options, sourceRevision: revision, ...mirrorOf(policy) },
    );
    return again.outcome === "injected" && again.upToDate;
  } catch {
    return false;
  }
}

/**
 * When a registration's response is unknown (CloudTrail left it out), the registered revision is the
 * family's newest *source*: the newest revision may be our copy of an older source awaiting
 * deregistration, with a real source between the two, and that source must not be skipped.
 */
export async function newestSource(
  ecs: ECSClient,
  family: string,
  latest: DescribedTaskDefinition,
  latestRevision: number,
): Promise<number> {
  const madeFrom = copyOf(latest);
  if (madeFrom === undefined) return latestRevision;
  if (latestRevision <= madeFrom + 1) return madeFrom;
  // Newest first, as ListTaskDefinitions answers (sort: DESC).
  const between = (await listActiveRevisions(ecs, family))
    .filter((r) => r > madeFrom && r < latestRevision)
    .slice(0, MAX_BETWEEN);
  for (const r of between) {
    const d = await describeTaskDefinition(ecs, `${family}:${r}`);
    if (d?.taskDefinition?.status === "ACTIVE" && copyOf(d) === undefined) return r;
  }
  return madeFrom;
}

/**
 * Why `revision` is not its family's newest source, looking at the ACTIVE revisions between it and the
 * newest: anyone else's revision there is a newer source. Past MAX_BETWEEN of them it does not describe
 * them one by one and answers as the gap check would (too many to tell: not the newest).
 */
async function newerSourceBetween(
  ecs: ECSClient,
  family: string,
  revision: number,
  latestRevision: number,
): Promise<string | undefined> {
  // Counted as the gap check counts them once a copy is registered above the newest.
  const after = (await listActiveRevisions(ecs, family)).filter((r) => r > revision && r <= latestRevision);
  if (after.length > MAX_BETWEEN) return `${after.length} revisions were registered after it`;
  // Newest first, as ListTaskDefinitions answers (sort: DESC): the newest newer source is named.
  for (const r of after.filter((r) => r < latestRevision)) {
    const d = await describeTaskDefinition(ecs, `${family}:${r}`);
    if (d?.taskDefinition?.status === "ACTIVE" && copyOf(d) === undefined)
      return `revision ${r} is a newer source`;
  }
  return undefined;
}

export interface SourceRef {
  family: string;
  revision: number;
}

/** What is known already, to save calls: the family's newest ACTIVE revision, or the source itself. */
export interface Known {
  latest?: DescribedTaskDefinition;
}

function skipped(reason: string, revision: number, message?: string): CopyResult {
  return { kind: "skipped", reason, revision, ...(message ? { message } : {}) };
}

/**
 * Finds or makes the injected copy of exactly `ref`. Reads the family's newest ACTIVE revision (one
 * call usually answers "is the source still the newest?", "was it injected already?" and "what does it
 * hold?"), then injects and registers when needed.
 */
export async function copyOfRevision(
  ecs: ECSClient,
  ref: SourceRef,
  policy: CopyPolicy,
  known: Known = {},
): Promise<CopyResult> {
  const { family, revision } = ref;
  const latest = known.latest ?? (await describeTaskDefinition(ecs, family));
  const latestRevision = latest?.taskDefinition?.revision;
  if (!latest || latestRevision === undefined) {
    return skipped("SOURCE_NOT_FOUND", revision, "the family has no ACTIVE revision");
  }
  let source = latest;
  if (latestRevision < revision) return skipped("SOURCE_INACTIVE", revision, "the revision was deregistered");
  if (latestRevision > revision) {
    const madeFrom = copyOf(latest);
    if (madeFrom === revision && isCurrentCopy(latest, revision, policy))
      return alreadyCopied(ecs, family, revision, latest, policy);
    if (madeFrom === undefined || madeFrom > revision) {
      // Injecting an older revision would roll the family back over the newer one.
      return skipped("SUPERSEDED", revision, `revision ${latestRevision} is newer`);
    }
    // The newest is our copy of an older source (or an outdated copy of this one). Another source may sit
    // between this revision and that copy (its copy not made yet): then this one is not the newest source,
    // and a copy of it would, until the gap check removed it, roll family-only references back.
    if (latestRevision > revision + 1) {
      const newer = await newerSourceBetween(ecs, family, revision, latestRevision);
      if (newer !== undefined) return skipped("SUPERSEDED", revision, newer);
    }
    const own = await describeTaskDefinition(ecs, `${family}:${revision}`);
    if (own?.taskDefinition?.status !== "ACTIVE") {
      return skipped("SOURCE_INACTIVE", revision, "the revision was deregistered");
    }
    source = own;
  }
  const notIn = optInReason(source.tags, policy);
  if (notIn) return skipped(notIn, revision);
  if (isInjected(source)) return skipped("ALREADY_INJECTED", revision);
  return makeCopy(ecs, family, revision, source, policy);
}

async function makeCopy(
  ecs: ECSClient,
  family: string,
  revision: number,
  source: DescribedTaskDefinition,
  policy: CopyPolicy,
): Promise<CopyResult> {
  let result: ReturnType<typeof inject>;
  try {
    result = inject(
      { taskDefinition: source.taskDefinition, tags: source.tags },
      { deployment: policy.options, sourceRevision: revision, ...mirrorOf(policy) },
    );
  } catch (error) {
    // The engine is pure: trying again would fail the same way, so report instead of retrying.
    const reason = error instanceof InvalidInputError ? "INVALID_SOURCE" : "ENGINE_ERROR";
    return { kind: "failed", reason, message: (error as Error).message, revision };
  }
  if (result.outcome === "refused") {
    const [first] = result.refusals;
    return {
      kind: "refused",
      reason: first?.reason ?? "REFUSED",
      reasons: result.refusals.map((r) => r.reason),
      message: result.refusals.map((r) => `${r.reason}: ${r.message}`).join("; "),
      revision,
    };
  }
  if (!policy.write) return { kind: "would-make", reason: "WOULD_INJECT", revision };

  let registered: Registered;
  try {
    registered = await registerTaskDefinition(ecs, result.definition);
  } catch (error) {
    if (error instanceof RegistrationRejectedError)
      return { kind: "failed", reason: error.reason, message: error.message, revision };
    throw error;
  }
  const gap =
    registered.revision === revision + 1
      ? ({ kind: "clean" } as const)
      : await settleGap(ecs, family, revision, registered, policy);
  if (gap.kind === "blocked") {
    return skipped(
      "SUPERSEDED",
      revision,
      `a newer revision was registered while injecting; ours (${registered.revision}) was deregistered`,
    );
  }
  if (gap.kind === "duplicate") {
    return {
      kind: "made",
      reason: "INJECTED",
      revision,
      copyArn: gap.of,
      message: `revision ${registered.revision} duplicated ${gap.of} (a retried request) and was deregistered`,
    };
  }
  return { kind: "made", reason: "INJECTED", revision, copyArn: registered.taskDefinitionArn };
}

/**
 * The family's newest revision is our copy of this source. When it does not directly follow the
 * source (a retried event after a gap check that never finished), the gap is settled now: the copy
 * must not bury anyone else's newer revision.
 */
async function alreadyCopied(
  ecs: ECSClient,
  family: string,
  revision: number,
  latest: DescribedTaskDefinition,
  policy: CopyPolicy,
): Promise<CopyResult> {
  const latestRevision = latest.taskDefinition?.revision ?? 0;
  const copy = {
    taskDefinitionArn: latest.taskDefinition?.taskDefinitionArn ?? "",
    revision: latestRevision,
  };
  const gap =
    latestRevision === revision + 1
      ? ({ kind: "clean" } as const)
      : await settleGap(ecs, family, revision, copy, policy);
  if (gap.kind === "blocked") {
    return skipped(
      "SUPERSEDED",
      revision,
      `our copy (${latestRevision}) buried a newer revision and was deregistered`,
    );
  }
  return {
    kind: "found",
    reason: "ALREADY_INJECTED",
    revision,
    copyArn: gap.kind === "duplicate" ? gap.of : copy.taskDefinitionArn,
  };
}

export type Gap = { kind: "clean" } | { kind: "duplicate"; of: string } | { kind: "blocked" };

/**
 * Revisions of a family are numbered in order, so our copy usually follows the source directly. When
 * it does not, look at the ACTIVE revisions in between:
 * - our current copy of this same source (a retried request that had in fact succeeded): keep that one;
 * - our copy of an older source, or an outdated copy of this one: no matter, ours is newer and right;
 * - anyone else's revision (or our copy of a newer source): ours would bury it, so ours goes (that
 *   revision's own event injects it).
 * The copy is deregistered unless the gap is clean.
 */
export async function settleGap(
  ecs: ECSClient,
  family: string,
  revision: number,
  copy: Registered,
  policy: CopyPolicy,
): Promise<Gap> {
  const between = (await listActiveRevisions(ecs, family)).filter((r) => r > revision && r < copy.revision);
  let duplicate: string | undefined;
  let blocking = between.length > MAX_BETWEEN;
  for (const r of blocking ? [] : between.sort((a, b) => a - b)) {
    const d = await describeTaskDefinition(ecs, `${family}:${r}`);
    if (d?.taskDefinition?.status !== "ACTIVE") continue;
    const madeFrom = copyOf(d);
    if (madeFrom === revision) {
      if (isCurrentCopy(d, revision, policy)) duplicate ??= d.taskDefinition.taskDefinitionArn;
    } else if (madeFrom === undefined || madeFrom > revision) blocking = true;
  }
  if (!blocking && !duplicate) return { kind: "clean" };
  // Audit decides without writing: the copy stays, and the answer says what would happen.
  if (policy.write) await deregisterTaskDefinition(ecs, copy.taskDefinitionArn);
  return blocking ? { kind: "blocked" } : { kind: "duplicate", of: duplicate ?? "" };
}
