import { Readable } from "node:stream";
import {
  ClientException,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  type DescribeTaskDefinitionCommandOutput,
  type ECSClient,
  type ECSClientConfig,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
} from "@aws-sdk/client-ecs";
import type { HttpRequest, HttpResponse } from "@smithy/types";
import { classify, RetryableError } from "./errors.ts";

/**
 * The SDK's standard client, so AWS_ENDPOINT_URL_ECS and the usual credential chain apply. Adaptive
 * retry backs off and rate-limits itself on throttling: the account's RegisterTaskDefinition budget
 * is shared with the customer's own deploy pipelines.
 */
const MAX_ATTEMPTS = 6;
const CONNECTION_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 10_000;

export function ecsClientConfig(overrides: ECSClientConfig = {}): ECSClientConfig {
  return {
    retryMode: "adaptive",
    maxAttempts: MAX_ATTEMPTS,
    // Without throwOnRequestTimeout a slow answer is only logged, never abandoned and retried.
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
    ...overrides,
  };
}

/**
 * The longest one ECS call can take with the client above: every attempt connects and times out,
 * with the SDK's exponential backoff (100 ms base, doubling) between attempts.
 */
export const ECS_CALL_WORST_CASE_MS =
  MAX_ATTEMPTS * (CONNECTION_TIMEOUT_MS + REQUEST_TIMEOUT_MS) +
  Array.from({ length: MAX_ATTEMPTS - 1 }, (_, i) => 100 * 2 ** (i + 1)).reduce((a, b) => a + b, 0);

export type DescribedTaskDefinition = Pick<DescribeTaskDefinitionCommandOutput, "taskDefinition" | "tags">;

/*
 * The SDK (de)serialises only the members its model knows, so a task definition field newer than the
 * bundled SDK would be dropped on the way in and on the way out. These per-command middlewares keep
 * the JSON as ECS sent it and send ours as we built it: nothing of the user's definition is lost.
 */
function keepRawResponse(command: { middlewareStack: DescribeTaskDefinitionCommand["middlewareStack"] }) {
  const holder: { json?: unknown } = {};
  command.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as HttpResponse;
      if (response.statusCode >= 200 && response.statusCode < 300 && response.body instanceof Readable) {
        const chunks: Buffer[] = [];
        for await (const chunk of response.body) chunks.push(Buffer.from(chunk as Uint8Array));
        const text = Buffer.concat(chunks);
        response.body = Readable.from([text]);
        holder.json = JSON.parse(text.toString("utf8"));
      }
      return result;
    },
    // Low priority within the deserialize step: inside the SDK's deserializer, so before it reads the body.
    { step: "deserialize", priority: "low", name: "dnsCacheKeepRawResponse" },
  );
  return holder;
}

function sendAsBuilt(command: RegisterTaskDefinitionCommand, input: object): void {
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as HttpRequest | undefined;
      if (request?.headers) {
        const body = JSON.stringify(input);
        request.body = body;
        request.headers["content-length"] = String(Buffer.byteLength(body));
      }
      return next(args);
    },
    // Build step: after the SDK serialised the request, before it is signed.
    { step: "build", name: "dnsCacheSendAsBuilt" },
  );
}

/** `family` alone names the newest ACTIVE revision. Returns undefined when there is none. */
export async function describeTaskDefinition(
  client: ECSClient,
  taskDefinition: string,
): Promise<DescribedTaskDefinition | undefined> {
  try {
    const command = new DescribeTaskDefinitionCommand({ taskDefinition, include: ["TAGS"] });
    const raw = keepRawResponse(command);
    const out = await client.send(command);
    const json = raw.json as DescribedTaskDefinition | undefined;
    // Prefer ECS's own JSON (every field); the SDK's output when the body could not be kept (mocks).
    return { taskDefinition: json?.taskDefinition ?? out.taskDefinition, tags: json?.tags ?? out.tags ?? [] };
  } catch (error) {
    if (error instanceof ClientException && /unable to describe task definition/i.test(error.message))
      return undefined;
    throw classify(error);
  }
}

const CONCURRENT_REVISION = /too many concurrent attempts to create a new revision/i;
const CONCURRENT_RETRIES = 4;

export interface Registered {
  taskDefinitionArn: string;
  revision: number;
}

export class RegistrationRejectedError extends Error {
  override readonly name = "RegistrationRejectedError";
  readonly reason = "REGISTER_REJECTED";
}

export async function registerTaskDefinition(
  client: ECSClient,
  input: RegisterTaskDefinitionCommandInput,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<Registered> {
  for (let attempt = 1; ; attempt++) {
    try {
      const command = new RegisterTaskDefinitionCommand(input);
      sendAsBuilt(command, input);
      const out = await client.send(command);
      const arn = out.taskDefinition?.taskDefinitionArn;
      const revision = out.taskDefinition?.revision;
      if (!arn || revision === undefined)
        throw new RetryableError("ECS_BAD_RESPONSE", "RegisterTaskDefinition answered without an ARN");
      return { taskDefinitionArn: arn, revision };
    } catch (error) {
      // ECS answers this ClientException when revisions of one family race: it is transient.
      if (error instanceof ClientException && CONCURRENT_REVISION.test(error.message)) {
        if (attempt >= CONCURRENT_RETRIES)
          throw new RetryableError("CONCURRENT_REVISION", error.message, { cause: error });
        await sleep(Math.random() * 250 * 2 ** attempt);
        continue;
      }
      if (
        error instanceof ClientException ||
        (error as { name?: string }).name === "InvalidParameterException"
      ) {
        throw new RegistrationRejectedError(
          `ECS rejected the injected definition: ${(error as Error).message}`,
          { cause: error },
        );
      }
      throw classify(error);
    }
  }
}

/** Revision numbers of the family's ACTIVE revisions, newest first (the newest 100 at most). */
export async function listActiveRevisions(client: ECSClient, family: string): Promise<number[]> {
  try {
    const out = await client.send(
      new ListTaskDefinitionsCommand({
        familyPrefix: family,
        status: "ACTIVE",
        sort: "DESC",
        maxResults: 100,
      }),
    );
    return (out.taskDefinitionArns ?? []).map((arn) => Number(arn.slice(arn.lastIndexOf(":") + 1)));
  } catch (error) {
    throw classify(error);
  }
}

export async function deregisterTaskDefinition(client: ECSClient, taskDefinitionArn: string): Promise<void> {
  try {
    await client.send(new DeregisterTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
  } catch (error) {
    throw classify(error);
  }
}
