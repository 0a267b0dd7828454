/**
 * The yardstick of `npm run bench`: the simplest handler a team would write by hand for a
 * RegisterTaskDefinition event (an ECS client, middy, Powertools Logger), bundled as teams do (esbuild, ESM,
 * minified, one file). The functions' cold starts are printed as ratios to it.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { DescribeTaskDefinitionCommand, ECSClient } from "@aws-sdk/client-ecs";
import middy from "@middy/core";
import type { EventBridgeEvent } from "aws-lambda";

type Detail = { responseElements: { taskDefinition: { taskDefinitionArn: string } } };

const logger = new Logger({ serviceName: "naive" });
const ecs = new ECSClient({});

export const handler = middy(async (event: EventBridgeEvent<string, Detail>) => {
  const { taskDefinition, tags } = await ecs.send(
    new DescribeTaskDefinitionCommand({
      taskDefinition: event.detail.responseElements.taskDefinition.taskDefinitionArn,
      include: ["TAGS"],
    }),
  );
  logger.info("described", { family: taskDefinition?.family, tags: tags?.length ?? 0 });
  return { outcome: "described" };
}).use(injectLambdaContext(logger));
