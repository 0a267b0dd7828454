import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { ECSClient } from "@aws-sdk/client-ecs";
import { STSClient } from "@aws-sdk/client-sts";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import {
  type CredentialsProvider,
  clientProvider,
  ENFORCER_SESSION_NAME,
  type Target,
} from "#shared/aws/clients.ts";
import { ECS_CALL_WORST_CASE_MS, ecsClientConfig } from "#shared/aws/ecs-task-definitions.ts";
import type { Memory } from "#shared/aws/enforcer-memory.ts";
import { RetryableError } from "#shared/aws/errors.ts";
import { unguarded } from "#shared/aws/guard.ts";
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
const clientOptions = (region: string | undefined, credentials?: CredentialsProvider) => ({
  ...(region ? { region } : {}),
  ...(credentials ? { credentials } : {}),
});
const orgMode = Boolean(process.env.DNS_CACHE_MEMBER_ROLE_NAME?.trim());
let home: Target | undefined;
let events: import("#shared/aws/alerts.ts").EventBridgeClient | undefined;

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
    // Loaded on the first stack check only (most services are not in a stack that is being updated).
    async (region, credentials) => {
      const { CloudFormationClient } = await import("#shared/aws/stacks.ts");
      return new CloudFormationClient({
        retryMode: "adaptive",
        maxAttempts: 6,
        ...clientOptions(region, credentials),
      });
    },
    sts,
    ENFORCER_SESSION_NAME,
  ),
  // Audit writes nothing, not even the guard's records.
  guard:
    config.table && config.mode === "enforce"
      ? (await import("./guard.ts")).copyGuard(config.table)
      : unguarded,
  ...(config.table ? { memory: lazyMemory(config.table) } : {}),
  // Alerts are rare (a revert, once): EventBridge is loaded when one is sent.
  async alert(alert) {
    const [{ EventBridgeClient, sendAlerts }, { zeroApiCalls }] = await Promise.all([
      import("#shared/aws/alerts.ts"),
      import("#shared/aws/ecs-tasks.ts"),
    ]);
    events ??= new EventBridgeClient({});
    const result = await sendAlerts(events, config.alertBus, [alert], zeroApiCalls());
    const [error] = result.errors;
    if (error) throw error;
    if (result.failed.length > 0) throw new RetryableError("ALERT_FAILED", result.failed[0]?.errorCode ?? "");
  },
  async sweepTargets() {
    if (!home) return { targets: [], failures: [] };
    if (!orgMode) return { targets: [home], failures: [] };
    return sweepTargets(config.sweep, home, async () => {
      const { OrganizationsClient, listActiveAccounts } = await import("#shared/aws/organizations.ts");
      return listActiveAccounts(new OrganizationsClient({}));
    });
  },
};
/** The memory of moves, loaded on its first use: events that end before a move is judged never load DynamoDB. */
function lazyMemory(tableName: string): Memory {
  let memory: Promise<Memory> | undefined;
  const get = () => {
    memory ??= import("./dynamo.ts").then((m) => m.memoryFor(tableName));
    return memory;
  };
  return {
    lastMove: async (serviceArn) => (await get()).lastMove(serviceArn),
    recordMove: async (serviceArn, move) => (await get()).recordMove(serviceArn, move),
    claimRevertReport: async (serviceArn, sourceArn) =>
      (await get()).claimRevertReport(serviceArn, sourceArn),
  };
}

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
