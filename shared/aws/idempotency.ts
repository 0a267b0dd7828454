import { randomUUID } from "node:crypto";
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  makeIdempotent,
} from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { RetryableError } from "./errors.ts";
import type { Guard, JsonObject } from "./guard.ts";

// The handler imports this module only in inject mode; tests import `unguarded` from here too.
export { type Guard, unguarded } from "./guard.ts";

const REPLAYED = "__dnsCacheReplayed";

/**
 * The key prefix of the guard over copies: the injector and the enforcer share it, so one source gets
 * one copy whichever function gets there first (Powertools would otherwise prefix the function's name).
 */
export const COPY_GUARD_PREFIX = "dns-cache.copies";

/**
 * Powertools Idempotency on DynamoDB: a conditional write takes the key before the work starts, so
 * concurrent invocations for one source cannot both register. A failed run deletes its record.
 */
export function dynamoDbGuard(options: {
  tableName: string;
  client: DynamoDBClient;
  expiresAfterSeconds?: number;
  keyPrefix?: string;
}): Guard {
  const pending = new Map<string, () => Promise<JsonObject>>();
  const config = new IdempotencyConfig({
    eventKeyJmesPath: "key",
    expiresAfterSeconds: options.expiresAfterSeconds ?? 3600,
    responseHook: (response) => ({ ...(response as JsonObject), [REPLAYED]: true }),
  });
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    awsSdkV3Client: options.client,
  });
  const once = makeIdempotent(
    async (call: { key: string; token: string }): Promise<JsonObject> => {
      const work = pending.get(call.token);
      if (!work) throw new Error("guarded work vanished");
      return work();
    },
    { persistenceStore, config, keyPrefix: options.keyPrefix ?? COPY_GUARD_PREFIX },
  );
  return {
    async run<T extends JsonObject>(key: string, work: () => Promise<T>) {
      const token = randomUUID();
      pending.set(token, work);
      try {
        const { [REPLAYED]: replayed, ...result } = (await once({ key, token })) as JsonObject;
        return { result: result as T, replayed: replayed === true };
      } catch (error) {
        if (error instanceof IdempotencyAlreadyInProgressError) {
          throw new RetryableError("IN_PROGRESS", `another invocation is processing ${key}`, {
            cause: error,
          });
        }
        throw error;
      } finally {
        pending.delete(token);
      }
    },
    registerLambdaContext(context) {
      config.registerLambdaContext(context);
    },
  };
}
