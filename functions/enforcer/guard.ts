import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Guard } from "#shared/aws/guard.ts";
import { COPY_GUARD_PREFIX, dynamoDbGuard } from "#shared/aws/idempotency.ts";

/**
 * The duplicate guard of enforce mode, shared with the injector (same table, same key prefix: one copy per
 * source). Imported dynamically, so audit mode never loads Powertools Idempotency.
 */
export function copyGuard(tableName: string, client: DynamoDBClient): Guard {
  return dynamoDbGuard({ tableName, client, keyPrefix: COPY_GUARD_PREFIX });
}
