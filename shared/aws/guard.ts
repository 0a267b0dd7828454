import type { Context } from "aws-lambda";

export type JsonObject = Record<string, unknown>;

/** Runs `work` at most once per key (until the record expires); later calls get the first result. */
export interface Guard {
  run<T extends JsonObject>(key: string, work: () => Promise<T>): Promise<{ result: T; replayed: boolean }>;
  registerLambdaContext(context: Context): void;
}

/**
 * No guard: audit mode registers nothing, so there is nothing to guard. Apart from ./idempotency.ts so
 * that audit mode loads neither Powertools Idempotency nor the DynamoDB client.
 */
export const unguarded: Guard = {
  async run(_key, work) {
    return { result: await work(), replayed: false };
  },
  registerLambdaContext() {},
};
