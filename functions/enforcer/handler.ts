import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ECSClient } from "@aws-sdk/client-ecs";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { STSClient } from "@aws-sdk/client-sts";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { sendAlerts } from "#shared/aws/alerts.ts";
import {
  type CredentialsProvider,
  clientProvider,
  ENFORCER_SESSION_NAME,
  type Target,
} from "#shared/aws/clients.ts";
import { ECS_CALL_WORST_CASE_MS, ecsClientConfig } from "#shared/aws/ecs-task-definitions.ts";
import { zeroApiCalls } from "#shared/aws/ecs-tasks.ts";
import { dynamoDbMemory } from "#shared/aws/enforcer-memory.ts";
import { RetryableError } from "#shared/aws/errors.ts";
import { unguarded } from "#shared/aws/guard.ts";
import { listActiveAccounts } from "#shared/aws/organizations.ts";
import { loadEnforcerConfig } from "#shared/enforcer/config.ts";
import type { Decision } from "#shared/enforcer/decide.ts";
import { type EnforcerDeps, handleEnforcerEvent, type Report } from "#shared/enforcer/flow.ts";
import { enforcerObserver } from "#shared/enforcer/observer.ts";
import { homeOf, isSqsEvent } from "#shared/runtime/lambda.ts";
import { createObservability } from "#shared/runtime/observability.ts";
import { processRecordsWithinBudget } from "#shared/runtime/sqs-batch.ts";
import { sweepTargets } from "#shared/runtime/targets.ts";

const config = loadEnforcerConfig(process.env);
const { logger, metrics } = createObservability("dns-cache-enforcer");
const sts = new STSClient({});
const dynamo = config.table ? new DynamoDBClient({}) : undefined;
const events = new EventBridgeClient({});
const clientOptions = (region: string | undefined, credentials?: CredentialsProvider) => ({
  ...(region ? { region } : {}),
  ...(credentials ? { credentials } : {}),
});
const orgMode = Boolean(process.env.DNS_CACHE_MEMBER_ROLE_NAME?.trim());
let home: Target | undefined;

const deps: EnforcerDeps = {
  config,
  ecsFor: clientProvider(
    process.env,
    (region, credentials) => new ECSClient(ecsClientConfig(clientOptions(region, credentials))),
    sts,
    ENFORCER_SESSION_NAME,
  ),
  cfnFor: clientProvider(
    process.env,
    (region, credentials) =>
      new CloudFormationClient({
        retryMode: "adaptive",
        maxAttempts: 6,
        ...clientOptions(region, credentials),
      }),
    sts,
    ENFORCER_SESSION_NAME,
  ),
  // Audit writes nothing, not even the guard's records.
  guard:
    dynamo && config.table && config.mode === "enforce"
      ? (await import("./guard.ts")).copyGuard(config.table, dynamo)
      : unguarded,
  ...(dynamo && config.table ? { memory: dynamoDbMemory(dynamo, config.table) } : {}),
  async alert(alert) {
    const result = await sendAlerts(events, config.alertBus, [alert], zeroApiCalls());
    const [error] = result.errors;
    if (error) throw error;
    if (result.failed.length > 0) throw new RetryableError("ALERT_FAILED", result.failed[0]?.errorCode ?? "");
  },
  async sweepTargets() {
    if (!home) return { targets: [], failures: [] };
    if (!orgMode) return { targets: [home], failures: [] };
    return sweepTargets(config.sweep, home, () => listActiveAccounts(new OrganizationsClient({})));
  },
};
const observer = enforcerObserver(logger, metrics, config.mode);
/** A record's usual calls (service, newest revision, one more read, re-read, registration, update), each at its worst. */
const RECORD_WORST_CASE_MS = 6 * ECS_CALL_WORST_CASE_MS;

async function handleRecord(body: string): Promise<Decision[]> {
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    const decision: Decision = {
      outcome: "skipped",
      reason: "MALFORMED_EVENT",
      message: "the SQS message body is not JSON",
    };
    observer.decision(decision);
    return [decision];
  }
  return (await handleEnforcerEvent(event, deps, observer)).decisions;
}

async function lambdaHandler(
  event: SQSEvent | unknown,
  context: Context,
): Promise<Report | (SQSBatchResponse & { decisions: Decision[] })> {
  deps.guard.registerLambdaContext(context);
  home ??= homeOf(context);
  if (!orgMode && home) deps.home = home;
  try {
    if (!isSqsEvent(event)) return await handleEnforcerEvent(event, deps, observer);
    const decisions: Decision[] = [];
    const { response, deferred } = await processRecordsWithinBudget(
      event,
      context,
      RECORD_WORST_CASE_MS,
      async (body) => {
        decisions.push(...(await handleRecord(body)));
      },
    );
    if (deferred > 0) observer.deferred?.(deferred);
    return { ...response, decisions };
  } finally {
    observer.flush();
  }
}

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));
