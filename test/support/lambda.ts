import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Context } from "aws-lambda";
import dynalite from "dynalite";

/** An in-process DynamoDB (dynalite) with the idempotency table the SAM template creates. */
export async function startDynamo(
  tableName = "dns-cache-idempotency",
): Promise<{ url: string; tableName: string; close(): Promise<void> }> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  client.destroy();
  return { url, tableName, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let invocation = 0;
export function lambdaContext(functionName = "dns-cache-injector"): Context {
  invocation++;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: "256",
    awsRequestId: `00000000-0000-4000-8000-${String(invocation).padStart(12, "0")}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "2026/11/25/[$LATEST]0123456789abcdef",
    // A fresh invocation of a function with a 300 s timeout.
    getRemainingTimeInMillis: () => 299_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;
let generation = 0;

/**
 * Imports a fresh copy of a built Lambda bundle (dist/<name>/index.mjs) with `env` set, as a cold
 * start would: the bundle reads its configuration when it is loaded.
 */
export async function loadHandler(name: string, env: Record<string, string>): Promise<Handler> {
  Object.assign(process.env, env);
  const url = new URL(`../../dist/${name}/index.mjs?cold=${++generation}`, import.meta.url);
  const mod = (await import(url.href)) as { handler: Handler };
  return mod.handler;
}

/** Captures what the Lambda writes to stdout (Powertools logs and EMF metrics) while `fn` runs. */
export async function captureStdout<T>(
  fn: () => Promise<T>,
): Promise<{ result: T | undefined; error: unknown; lines: string[] }> {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split("\n").filter(Boolean));
    return true;
  }) as typeof process.stdout.write;
  try {
    return { result: await fn(), error: undefined, lines };
  } catch (error) {
    return { result: undefined, error, lines };
  } finally {
    process.stdout.write = original;
  }
}
