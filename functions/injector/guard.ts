import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Guard } from "#shared/aws/guard.ts";
import { dynamoDbGuard } from "#shared/aws/idempotency.ts";

/**
 * The duplicate guard of inject mode. The handler imports this module dynamically: the build puts it, the
 * DynamoDB client and Powertools Idempotency in chunks that audit mode never loads.
 */
export function dynamoDbGuardFor(tableName: string): Guard {
  return dynamoDbGuard({ tableName, client: new DynamoDBClient({}) });
}
