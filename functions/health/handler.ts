import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { ECSClient } from "@aws-sdk/client-ecs";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import middy from "@middy/core";
import { type CredentialsProvider, clientProvider, HEALTH_SESSION_NAME } from "#shared/aws/clients.ts";
import { ecsClientConfig } from "#shared/aws/ecs-task-definitions.ts";
import { loadHealthConfig } from "#shared/health/config.ts";
import type { HealthDeps, HealthSummary } from "#shared/health/invocation.ts";
import { handleHealthEvent } from "#shared/health/monitor.ts";
import { healthObserver } from "#shared/health/observer.ts";
import { createObservability } from "#shared/runtime/observability.ts";

const SERVICE = "dns-cache-health";
const config = loadHealthConfig(process.env);
const { logger, metrics } = createObservability(SERVICE);
const ecsClient = (region?: string, credentials?: CredentialsProvider) =>
  new ECSClient(ecsClientConfig({ ...(region ? { region } : {}), ...(credentials ? { credentials } : {}) }));

const deps: HealthDeps = {
  config,
  // Task State Change events name their account and region: in an organisation, the member's role.
  ecsFor: clientProvider(process.env, ecsClient, undefined, HEALTH_SESSION_NAME),
  // The sweep covers the function's own account and region only.
  sweepEcs: ecsClient(),
  events: new EventBridgeClient({ retryMode: "adaptive", maxAttempts: 4 }),
  observer: healthObserver(logger, metrics, SERVICE),
};

async function lambdaHandler(event: unknown): Promise<HealthSummary> {
  return handleHealthEvent(event, deps);
}

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));
