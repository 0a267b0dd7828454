/**
 * The health function's entry: Task State Change events (`task-events.ts`) and the scheduled sweep
 * (`sweep.ts`). Clients come in `HealthDeps`; what is decided is in `classify.ts`; logs and metrics go
 * through a `HealthObserver`.
 */
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
    if (deps.config.sweep) return sweep(deps);
    return ignoredInvocation("SWEEP_DISABLED", "a scheduled event arrived but DNS_CACHE_SWEEP is off", deps);
  }
  return ignoredInvocation("UNRECOGNISED_EVENT", "neither a Task State Change nor a Scheduled Event", deps);
}

async function ignoredInvocation(reason: string, message: string, deps: HealthDeps): Promise<HealthSummary> {
  const inv = new Invocation("ignored", deps);
  inv.ignore(reason, 1, { message });
  return inv.finish();
}
