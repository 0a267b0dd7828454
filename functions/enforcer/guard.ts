import type { Guard } from "#shared/aws/guard.ts";
import { COPY_GUARD_PREFIX, dynamoDbGuard } from "#shared/aws/idempotency.ts";
import { dynamo } from "./dynamo.ts";

/**
 * The duplicate guard of enforce mode, shared with the injector (same table, same key prefix: one copy per
 * source). Imported dynamically, so audit mode never loads Powertools Idempotency.
 */
export function copyGuard(tableName: string): Guard {
  return dynamoDbGuard({ tableName, client: dynamo, keyPrefix: COPY_GUARD_PREFIX });
}
