import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { ECSClient } from "@aws-sdk/client-ecs";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { clientProvider } from "#shared/aws/clients.ts";
import { ECS_CALL_WORST_CASE_MS, ecsClientConfig } from "#shared/aws/ecs-task-definitions.ts";
import { unguarded } from "#shared/aws/guard.ts";
import { loadInjectorConfig } from "#shared/injector/config.ts";
import { handleRegistrationEvent, type InjectorDeps, type Outcome } from "#shared/injector/flow.ts";
import { injectorObserver, parseSqsBody } from "#shared/injector/observer.ts";
import { homeOf, isSqsEvent } from "#shared/runtime/lambda.ts";
import { createObservability } from "#shared/runtime/observability.ts";
import { processRecordsWithinBudget } from "#shared/runtime/sqs-batch.ts";

const config = loadInjectorConfig(process.env);
const { logger, metrics } = createObservability("dns-cache-injector");
const deps: InjectorDeps = {
  config,
  ecsFor: clientProvider(
    process.env,
    (region, credentials) =>
      new ECSClient(
        ecsClientConfig({ ...(region ? { region } : {}), ...(credentials ? { credentials } : {}) }),
      ),
  ),
  // Audit mode registers nothing: it loads neither DynamoDB nor Powertools Idempotency (see ./guard.ts).
  guard: config.idempotencyTable
    ? (await import("./guard.ts")).dynamoDbGuardFor(config.idempotencyTable)
    : unguarded,
};
const observer = injectorObserver(logger, metrics, config.mode);
/** A record's usual calls (newest revision, registration, one more read), each at its worst. */
export const RECORD_WORST_CASE_MS = 3 * ECS_CALL_WORST_CASE_MS;

async function lambdaHandler(
  event: SQSEvent | unknown,
  context: Context,
): Promise<Outcome | (SQSBatchResponse & { results: Outcome[] })> {
  deps.guard.registerLambdaContext(context);
  if (!process.env.DNS_CACHE_MEMBER_ROLE_NAME) deps.home ??= homeOf(context);
  if (!isSqsEvent(event)) return handleRegistrationEvent(event, deps, observer);
  const results: Outcome[] = [];
  const { response, deferred } = await processRecordsWithinBudget(
    event,
    context,
    RECORD_WORST_CASE_MS,
    async (record) => {
      const body = parseSqsBody(record);
      if (!body.ok) observer.outcome(body.outcome);
      results.push(body.ok ? await handleRegistrationEvent(body.event, deps, observer) : body.outcome);
    },
  );
  if (deferred > 0) observer.deferred?.(deferred);
  return { ...response, results };
}

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));
