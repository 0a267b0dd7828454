/** The write: UpdateService(cluster, service, taskDefinition = copy) and nothing else, once per source. */
import type { Service } from "@aws-sdk/client-ecs";
import { updateServiceTaskDefinition } from "#shared/aws/ecs-services.ts";
import { limiter } from "#shared/runtime/concurrency.ts";
import { aboutService, type Decision, runningRevision, triageService } from "./decide.ts";
import type { JudgeDeps, Verdict } from "./judge.ts";
import type { Scope } from "./scope.ts";

type Move = Extract<Verdict, { move: true }>;

/** Fresh descriptions of the services about to be moved (undefined: gone). */
export type Recheck = (services: Service[]) => Promise<Map<string, Service | undefined>>;

function updateKey(serviceArn: string, source: string): string {
  return `enforcer-update:${serviceArn}:${source}`;
}

async function moveOne(
  move: Move,
  fresh: Service | undefined,
  scope: Scope,
  deps: JudgeDeps,
): Promise<Decision> {
  const { svc, source, copyArn } = move;
  const about = { ...aboutService(svc), copyArn };
  if (fresh?.status !== "ACTIVE")
    return {
      outcome: "left",
      reason: "SERVICE_GONE",
      message: "deleted or draining since it was read",
      ...about,
    };
  if (runningRevision(fresh) !== source || triageService(fresh, deps.config.optOut)) {
    return {
      outcome: "left",
      reason: "SERVICE_CHANGED",
      message: "it changed since it was read (a new deployment?); the next event or sweep decides again",
      ...about,
    };
  }
  const serviceArn = svc.serviceArn ?? "";
  const cluster = svc.clusterArn ?? "default";
  // Concurrent deliveries of one event: one UpdateService per service and source.
  const { result, replayed } = await deps.guard.run(updateKey(serviceArn, source), async () => {
    const out = await updateServiceTaskDefinition(scope.ecs, cluster, serviceArn, copyArn);
    return out.ok ? { ok: true } : { ok: false, reason: out.reason, message: out.message };
  });
  if (replayed) return { outcome: "skipped", reason: "DUPLICATE_EVENT", ...about };
  if (!result.ok) {
    const reason = String(result.reason);
    return {
      outcome: reason === "SERVICE_GONE" ? "left" : "failed",
      reason,
      message: String(result.message),
      ...about,
    };
  }
  await deps.memory?.recordMove(serviceArn, { sourceArn: source, copyArn });
  return {
    outcome: "converged",
    reason: "CONVERGED",
    message: move.made
      ? "injected the revision and moved the service to the copy"
      : "moved the service to the copy",
    ...about,
  };
}

/** Moves every service of one scope, `updateConcurrency` at a time; audit mode writes nothing. */
export async function converge(
  moves: Move[],
  scope: Scope,
  deps: JudgeDeps,
  recheck: Recheck,
  onError?: (error: unknown, svc: Service) => Decision,
): Promise<Decision[]> {
  if (moves.length === 0) return [];
  if (deps.config.mode === "audit") {
    return moves.map((m) => ({
      outcome: "audited",
      reason: "WOULD_CONVERGE",
      message: m.made
        ? "would inject the revision and move the service"
        : "would move the service to the copy",
      ...aboutService(m.svc),
      copyArn: m.copyArn,
    }));
  }
  const fresh = await recheck(moves.map((m) => m.svc));
  const limit = limiter(deps.config.updateConcurrency);
  return Promise.all(
    moves.map((m) =>
      limit(() =>
        moveOne(m, fresh.get(m.svc.serviceArn ?? ""), scope, deps).catch((error: unknown) => {
          if (!onError) throw error;
          return onError(error, m.svc);
        }),
      ),
    ),
  );
}
