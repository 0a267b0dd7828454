import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { ECSClient } from "@aws-sdk/client-ecs";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { type CredentialsProvider, clientProvider, HEALTH_SESSION_NAME } from "#shared/aws/clients.ts";
import { ecsClientConfig } from "#shared/aws/ecs-task-definitions.ts";
import { loadHealthConfig } from "#shared/health/config.ts";
import type { HealthDeps, HealthSummary } from "#shared/health/invocation.ts";
import { handleHealthEvent } from "#shared/health/monitor.ts";
import { healthObserver } from "#shared/health/observer.ts";
import { homeOf } from "#shared/runtime/lambda.ts";
import { createObservability } from "#shared/runtime/observability.ts";
import { readSweepPlan, sweepTargets } from "#shared/runtime/targets.ts";

const SERVICE = "dns-cache-health";
const config = loadHealthConfig(process.env);
// Organisation mode: the sweep can cover listed accounts, or every ACTIVE account of the organisation.
const plan = readSweepPlan(process.env);
const orgSweep = Boolean(process.env.DNS_CACHE_MEMBER_ROLE_NAME?.trim()) && plan.accounts.length > 0;
const { logger, metrics } = createObservability(SERVICE);
const ecsClient = (region?: string, credentials?: CredentialsProvider) =>
  new ECSClient(ecsClientConfig({ ...(region ? { region } : {}), ...(credentials ? { credentials } : {}) }));

const deps: HealthDeps = {
  config,
  // Task State Change events name their account and region: in an organisation, the member's role.
  ecsFor: clientProvider(process.env, ecsClient, undefined, HEALTH_SESSION_NAME),
  // Without an organisation sweep, the sweep covers the function's own account and region.
  sweepEcs: ecsClient(),
  events: new EventBridgeClient({ retryMode: "adaptive", maxAttempts: 4 }),
  observer: healthObserver(logger, metrics, SERVICE),
};

async function lambdaHandler(event: unknown, context: Context): Promise<HealthSummary> {
  if (orgSweep && !deps.sweepTargets) {
    const home = homeOf(context);
    if (home) {
      deps.sweepTargets = () => sweepTargets(plan, home, listOrganizationAccounts);
    }
  }
  return handleHealthEvent(event, deps);
}

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));

/** Organisation-wide sweeps only: Organizations is loaded when a sweep asks for the accounts, never at cold start. */
async function listOrganizationAccounts() {
  const { OrganizationsClient, listActiveAccounts } = await import("#shared/aws/organizations.ts");
  return listActiveAccounts(new OrganizationsClient({}));
}
