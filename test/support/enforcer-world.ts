/**
 * A small world for the enforcer's tests and the demo: the ECS stand-in, a guard and memory (DynamoDB
 * via dynalite, or in memory), collected alerts, and helpers that play a pipeline.
 */
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ECSClient, type RegisterTaskDefinitionCommandInput, type Tag } from "@aws-sdk/client-ecs";
import type { Alert } from "#shared/aws/alerts.ts";
import { dynamoDbMemory, inMemory, type Memory } from "#shared/aws/enforcer-memory.ts";
import { dynamoDbGuard, type Guard, unguarded } from "#shared/aws/idempotency.ts";
import { type EnforcerConfig, loadEnforcerConfig } from "#shared/enforcer/config.ts";
import type { Decision } from "#shared/enforcer/decide.ts";
import type { EnforcerDeps, Observer, SweepSummary } from "#shared/enforcer/flow.ts";
import type { EcsStandin } from "./ecs-standin.ts";
import { lambdaContext } from "./lambda.ts";

export const OPT_IN: Tag = { key: "dns-cache", value: "enabled" };

export function appDefinition(family: string, overrides: Partial<RegisterTaskDefinitionCommandInput> = {}) {
  return {
    family,
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    cpu: "256",
    memory: "512",
    containerDefinitions: [
      {
        name: "app",
        image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${family}:1`,
        essential: true,
        portMappings: [{ containerPort: 8080, protocol: "tcp" }],
      },
    ],
    ...overrides,
  } as RegisterTaskDefinitionCommandInput;
}

export function dynamoClient(url: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
}

export interface World {
  deps: EnforcerDeps;
  alerts: Alert[];
  memory: Memory;
  decisions: Decision[];
  sweeps: SweepSummary[];
  observer: Observer;
}

export function enforcerWorld(
  ecs: EcsStandin,
  options: {
    env?: Record<string, string>;
    dynamo?: { url: string; tableName: string };
    config?: Partial<EnforcerConfig>;
    cfn?: CloudFormationClient;
    home?: boolean;
  } = {},
): World {
  const config = {
    ...loadEnforcerConfig({
      DNS_CACHE_MODE: "enforce",
      DNS_CACHE_IDEMPOTENCY_TABLE: options.dynamo?.tableName ?? "t",
      DNS_CACHE_CHECK_STACKS: options.cfn ? "on" : "off",
      ...options.env,
    }),
    ...options.config,
  };
  const client = new ECSClient({ ...ecs.clientConfig(), maxAttempts: 6, retryMode: "adaptive" });
  const dynamo = options.dynamo ? dynamoClient(options.dynamo.url) : undefined;
  const guard: Guard =
    dynamo && config.mode === "enforce"
      ? dynamoDbGuard({ tableName: options.dynamo?.tableName ?? "", client: dynamo })
      : unguarded;
  guard.registerLambdaContext(lambdaContext("dns-cache-enforcer"));
  const memory = dynamo ? dynamoDbMemory(dynamo, options.dynamo?.tableName ?? "") : inMemory();
  const alerts: Alert[] = [];
  const decisions: Decision[] = [];
  const sweeps: SweepSummary[] = [];
  const home = { account: ecs.state.accountId, region: ecs.region };
  const cfn =
    options.cfn ??
    new CloudFormationClient({ region: ecs.region, credentials: { accessKeyId: "a", secretAccessKey: "b" } });
  const deps: EnforcerDeps = {
    config,
    ecsFor: () => client,
    cfnFor: () => cfn,
    guard,
    memory,
    async alert(alert) {
      alerts.push(alert);
    },
    ...(options.home === false ? {} : { home }),
    async sweepTargets() {
      return { targets: [home], failures: [] };
    },
  };
  const observer: Observer = {
    decision: (d) => decisions.push(d),
    sweep: (s) => sweeps.push(s),
    retry: () => {},
  };
  return { deps, alerts, memory, decisions, sweeps, observer };
}

/** A pipeline: registers `family` (tagged), creates or pins the service to it, and completes the rollout. */
export function deployPinned(
  ecs: EcsStandin,
  cluster: string,
  service: string,
  family: string,
  options: {
    tags?: Tag[];
    serviceTags?: Tag[];
    definition?: Partial<RegisterTaskDefinitionCommandInput>;
    complete?: boolean;
  } = {},
): { taskDefinitionArn: string; serviceArn: string } {
  const td = ecs.state.registerTaskDefinition(
    appDefinition(family, options.definition),
    options.tags ?? [OPT_IN],
  ).taskDefinition;
  const taskDefinitionArn = td.taskDefinitionArn ?? "";
  ecs.state.addCluster(cluster);
  const serviceArn = ecs.state.serviceArn(cluster, service);
  if (ecs.state.getService(serviceArn)?.status === "ACTIVE") {
    ecs.state.updateService({ cluster, service, taskDefinition: taskDefinitionArn });
  } else {
    ecs.state.createService(
      {
        cluster,
        serviceName: service,
        taskDefinition: taskDefinitionArn,
        desiredCount: 2,
        ...(options.serviceTags ? { tags: options.serviceTags } : {}),
      },
      { completed: false },
    );
  }
  if (options.complete !== false) ecs.state.completeDeployment(serviceArn);
  return { taskDefinitionArn, serviceArn };
}
