/**
 * The health function's entry: Task State Change events (`task-events.ts`) and the scheduled sweep
 * (`sweep.ts`). Clients come in `HealthDeps`; what is decided is in `classify.ts`; logs and metrics go
 * through a `HealthObserver`.
 */
import { limiter } from "#shared/runtime/concurrency.ts";
import { isSqsEvent } from "#shared/runtime/lambda.ts";
import { type HealthDeps, type HealthSummary, Invocation } from "./invocation.ts";
import { sweep } from "./sweep.ts";
import { checkTaskStateChanges } from "./task-events.ts";
import { isScheduledEvent, isTaskStateChange } from "./task-state-event.ts";

/**
 * The handler's entry: a Task State Change event (direct from EventBridge), an SQS batch of them, or a
 * Scheduled Event (the sweep). Anything else is ignored, counted and logged, never thrown.
 */
export async function handleHealthEvent(event: unknown, deps: HealthDeps): Promise<HealthSummary> {
  if (isSqsEvent(event)) {
    const bodies: unknown[] = [];
    let malformed = 0;
    for (const record of event.Records) {
      try {
        bodies.push(JSON.parse(record.body));
      } catch {
        malformed += 1;
      }
    }
    return checkTaskStateChanges(bodies, deps, malformed > 0 ? { MALFORMED_EVENT: malformed } : {});
  }
  if (isTaskStateChange(event)) return checkTaskStateChanges([event], deps);
  if (isScheduledEvent(event)) {
    if (deps.config.sweep) return deps.sweepTargets ? sweepAccounts(deps, deps.sweepTargets) : sweep(deps);
    return ignoredInvocation("SWEEP_DISABLED", "a scheduled event arrived but DNS_CACHE_SWEEP is off", deps);
  }
  return ignoredInvocation("UNRECOGNISED_EVENT", "neither a Task State Change nor a Scheduled Event", deps);
}

async function ignoredInvocation(reason: string, message: string, deps: HealthDeps): Promise<HealthSummary> {
  const inv = new Invocation("ignored", deps);
  inv.ignore(reason, 1, { message });
  return inv.finish();
}

/** Accounts swept at once in organisation mode. */
const ACCOUNT_CONCURRENCY = 4;

/** Adds up two records of counts, key by key (a key missing on one side counts as 0). */
function sum<K extends string>(a: Record<K, number>, b: Record<K, number>): Record<K, number> {
  const out = { ...a };
  for (const [key, n] of Object.entries(b) as Array<[K, number]>) out[key] = (out[key] ?? 0) + n;
  return out;
}

/** The summary of two sweeps (of different accounts or regions) as one. */
function addSummaries(a: HealthSummary, b: HealthSummary): HealthSummary {
  return {
    trigger: "sweep",
    counts: sum(a.counts, b.counts),
    nodeCache: sum(a.nodeCache, b.nodeCache),
    clustersScanned: a.clustersScanned + b.clustersScanned,
    tasksExamined: a.tasksExamined + b.tasksExamined,
    apiCalls: sum(a.apiCalls, b.apiCalls),
    alertsSent: a.alertsSent + b.alertsSent,
    alertsFailed: a.alertsFailed + b.alertsFailed,
    callsFailed: a.callsFailed + b.callsFailed,
    ignored: sum(a.ignored, b.ignored),
    durationMs: 0,
  };
}

/**
 * One sweep per account and region (each through the member role), a few at a time. An account that
 * fails (its role cannot be assumed, say) is reported and counted; the others go on.
 */
async function sweepAccounts(
  deps: HealthDeps,
  listTargets: NonNullable<HealthDeps["sweepTargets"]>,
): Promise<HealthSummary> {
  const started = Date.now();
  const { targets, failures } = await listTargets();
  for (const f of failures)
    deps.observer.problem(f.reason, f.message, { account: f.account, region: f.region });
  const limit = limiter(ACCOUNT_CONCURRENCY);
  const summaries = await Promise.all(
    targets.map((target) =>
      limit(async () => {
        try {
          return await sweep({ ...deps, sweepEcs: await deps.ecsFor(target) });
        } catch (error) {
          deps.observer.problem("ACCOUNT_FAILED", (error as Error)?.message ?? String(error), { ...target });
          return undefined;
        }
      }),
    ),
  );
  const done = summaries.filter((s): s is HealthSummary => s !== undefined);
  const accountsFailed = failures.length + targets.length - done.length;
  if (accountsFailed > 0) deps.observer.accountsFailed(accountsFailed);
  const [first, ...rest] = done;
  if (!first) return ignoredInvocation("NO_ACCOUNT_SWEPT", "no account could be swept", deps);
  const total = rest.reduce(addSummaries, first);
  return {
    ...total,
    callsFailed: total.callsFailed + accountsFailed,
    // The accounts are swept at once: their durations overlap.
    durationMs: Date.now() - started,
  };
}
