/**
 * A local HTTP stand-in for Amazon ECS, for tests and benchmarks. It speaks the AWS JSON 1.1 protocol
 * (POST /, `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>`), so code runs unmodified through
 * the real AWS SDK v3 pointed at it:
 *
 *   const ecs = await startEcsStandin();
 *   process.env.AWS_ENDPOINT_URL_ECS = ecs.url;            // or new ECSClient(ecs.clientConfig())
 *   ecs.state.addTask("prod", { taskDefinition: "web:3" });
 *   ecs.setFaults({ rules: [fault.next("RegisterTaskDefinition", "throttle", 2)] });
 *   ...
 *   expect(ecs.calls.count("RegisterTaskDefinition")).toBe(3);
 *   await ecs.close();
 *
 * Signatures are not checked. Each request goes through, in order: `latencyMs`, the operation's token
 * bucket (ThrottlingException when empty), the fault plan, then the state change — so a throttled or
 * failed call changes nothing, except with the `*-after-commit` fault kinds.
 *
 * Written with erasable TypeScript only, so Node runs it directly (benchmarks import it without a build).
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type {
  CreateServiceCommandInput,
  DeleteServiceCommandInput,
  DeregisterTaskDefinitionCommandInput,
  DescribeClustersCommandInput,
  DescribeServicesCommandInput,
  DescribeTaskDefinitionCommandInput,
  DescribeTasksCommandInput,
  ListClustersCommandInput,
  ListServicesCommandInput,
  ListTagsForResourceCommandInput,
  ListTaskDefinitionFamiliesCommandInput,
  ListTaskDefinitionsCommandInput,
  ListTasksCommandInput,
  RegisterTaskDefinitionCommandInput,
  TagResourceCommandInput,
  UntagResourceCommandInput,
  UpdateServiceCommandInput,
} from "@aws-sdk/client-ecs";
import { clientError, EcsError, EcsState, type EcsStateOptions, invalidParameter } from "./ecs-state.ts";
import { readBody, sendJson } from "./http.ts";
import { seededRandom } from "./random.ts";

export {
  type DescribeTasksResult,
  EcsError,
  EcsState,
  type EcsStateOptions,
  type ListTasksFilter,
  type RegisterResult,
  type TaskSeed,
} from "./ecs-state.ts";

export const ECS_TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113";

export const OPERATIONS = [
  "RegisterTaskDefinition",
  "DescribeTaskDefinition",
  "ListTaskDefinitions",
  "ListTaskDefinitionFamilies",
  "DeregisterTaskDefinition",
  "TagResource",
  "UntagResource",
  "ListTagsForResource",
  "ListClusters",
  "DescribeClusters",
  "ListTasks",
  "DescribeTasks",
  "CreateService",
  "DescribeServices",
  "ListServices",
  "UpdateService",
  "DeleteService",
] as const;

export type Operation = (typeof OPERATIONS)[number];

// ------------------------------------------------------------------ faults

/**
 * - `throttle`: HTTP 400 ThrottlingException (the SDK retries it as a throttling error).
 * - `server-error`: HTTP 500 ServerException (the SDK retries it as transient).
 * - `concurrent-revision`: HTTP 400 ClientException "Too many concurrent attempts to create a new revision
 *   of the specified family." (not retried by the SDK).
 * - `error`: any error: `errorType` (default ClientException), `status` (default 400), `message`.
 * - `slow`: waits `delayMs` (default 1000), then goes on (later rules may still fire).
 * - `drop`: destroys the connection without answering (the SDK sees a socket hang up / ECONNRESET).
 * - `fail-after-commit`: applies the operation, then answers HTTP 500 ServerException.
 * - `drop-after-commit`: applies the operation, then destroys the connection.
 */
export type FaultKind =
  | "throttle"
  | "server-error"
  | "concurrent-revision"
  | "error"
  | "slow"
  | "drop"
  | "fail-after-commit"
  | "drop-after-commit";

export interface FaultRule {
  /** Operations the rule watches; default every operation. */
  operation?: Operation | Operation[] | "*";
  kind: FaultKind;
  /** Chance (0..1) that an eligible call fires, drawn from the plan's seeded generator. Default 1. */
  probability?: number;
  /** Let the first `skip` watched calls through. Default 0. */
  skip?: number;
  /** Fire at most this many times (then the rule is spent). Default unlimited. */
  times?: number;
  /** Fire only on these watched calls (1-based ordinals among the calls this rule watches). */
  onCalls?: number[];
  /** `slow`: how long to wait. */
  delayMs?: number;
  /** Overrides the error message. */
  message?: string;
  /** `error`: the `__type`. */
  errorType?: string;
  /** `error`: the HTTP status. */
  status?: number;
}

export interface FaultPlan {
  /** Seed of the generator behind `probability`; same seed and same call order, same faults. Default 1. */
  seed?: number;
  rules: FaultRule[];
}

type FaultOptions = Omit<FaultRule, "operation" | "kind">;

/** Builders for common rules. */
export const fault = {
  /** Fail the next `n` calls of `operation`. */
  next: (
    operation: FaultRule["operation"],
    kind: FaultKind,
    n = 1,
    options: FaultOptions = {},
  ): FaultRule => ({
    operation,
    kind,
    times: n,
    ...options,
  }),
  /** Fail every call of `operation`. */
  always: (operation: FaultRule["operation"], kind: FaultKind, options: FaultOptions = {}): FaultRule => ({
    operation,
    kind,
    ...options,
  }),
  /** Fail each call of `operation` with probability `p` (seeded). */
  sometimes: (
    operation: FaultRule["operation"],
    kind: FaultKind,
    p: number,
    options: FaultOptions = {},
  ): FaultRule => ({ operation, kind, probability: p, ...options }),
  /** Delay every call of `operation` by `delayMs`. */
  slow: (operation: FaultRule["operation"], delayMs: number, options: FaultOptions = {}): FaultRule => ({
    operation,
    kind: "slow",
    delayMs,
    ...options,
  }),
};

export interface FaultRuleStats {
  rule: FaultRule;
  /** Calls the rule watched. */
  seen: number;
  /** Times it fired. */
  fired: number;
}

interface FaultDecision {
  delayMs: number;
  fault?: FaultRule;
}

class FaultEngine {
  private stats: FaultRuleStats[] = [];
  private random: () => number = seededRandom(1);

  set(plan: FaultPlan | FaultRule[] | undefined): void {
    const normalized = Array.isArray(plan) ? { rules: plan } : (plan ?? { rules: [] });
    this.random = seededRandom(normalized.seed ?? 1);
    this.stats = normalized.rules.map((rule) => ({ rule: { ...rule }, seen: 0, fired: 0 }));
  }

  add(rules: FaultRule[]): void {
    this.stats.push(...rules.map((rule) => ({ rule: { ...rule }, seen: 0, fired: 0 })));
  }

  snapshot(): FaultRuleStats[] {
    return this.stats.map((s) => ({ ...s, rule: { ...s.rule } }));
  }

  /** Every rule watching `operation` counts the call; slow rules add up; the first other rule to fire wins. */
  decide(operation: Operation): FaultDecision {
    const decision: FaultDecision = { delayMs: 0 };
    for (const stats of this.stats) {
      const { rule } = stats;
      if (!watches(rule, operation)) continue;
      stats.seen += 1;
      if (decision.fault) continue;
      if (stats.seen <= (rule.skip ?? 0)) continue;
      if (rule.onCalls && !rule.onCalls.includes(stats.seen)) continue;
      if (rule.times !== undefined && stats.fired >= rule.times) continue;
      const probability = rule.probability ?? 1;
      if (probability < 1 && this.random() >= probability) continue;
      stats.fired += 1;
      if (rule.kind === "slow") decision.delayMs += rule.delayMs ?? 1000;
      else decision.fault = rule;
    }
    return decision;
  }
}

function watches(rule: FaultRule, operation: Operation): boolean {
  const target = rule.operation ?? "*";
  if (target === "*") return true;
  return Array.isArray(target) ? target.includes(operation) : target === operation;
}

// ------------------------------------------------------------------ rate limits

export interface RateLimit {
  ratePerSecond: number;
  burst: number;
}

export type RateLimits = Partial<Record<Operation, RateLimit>>;

class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly limit: RateLimit;
  private readonly now: () => number;

  constructor(limit: RateLimit, now: () => number) {
    this.limit = limit;
    this.now = now;
    this.tokens = limit.burst;
    this.last = now();
  }

  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(
      this.limit.burst,
      this.tokens + ((now - this.last) / 1000) * this.limit.ratePerSecond,
    );
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

// ------------------------------------------------------------------ call log

export type CallOutcome = "pending" | "ok" | "error" | "dropped";

export interface CallRecord {
  /** 1-based arrival order. */
  seq: number;
  /** The operation (as sent in X-Amz-Target, even when unknown). */
  operation: string;
  /** The parsed JSON body. */
  input: unknown;
  /** Epoch ms at arrival and at answer (undefined while pending). */
  startedAt: number;
  endedAt?: number;
  outcome: CallOutcome;
  status?: number;
  errorType?: string;
  message?: string;
  /** What decided the outcome. */
  source?: "state" | "rate-limit" | "fault" | "protocol";
  /** The fault kind that fired (including `slow`). */
  fault?: FaultKind;
  /** Whether the operation ran against the state (a failed validation still counts as not committed). */
  committed: boolean;
}

export type CallFilter = Partial<Pick<CallRecord, "outcome" | "errorType" | "source" | "fault" | "status">>;

export class CallLog {
  readonly records: CallRecord[] = [];
  private seq = 0;

  /** @internal */
  begin(operation: string, input: unknown): CallRecord {
    this.seq += 1;
    const record: CallRecord = {
      seq: this.seq,
      operation,
      input,
      startedAt: Date.now(),
      outcome: "pending",
      committed: false,
    };
    this.records.push(record);
    return record;
  }

  /** Calls of `operation` (all operations when undefined) matching every field of `filter`. */
  list(operation?: Operation | string, filter: CallFilter = {}): CallRecord[] {
    return this.records.filter(
      (r) =>
        (operation === undefined || r.operation === operation) &&
        Object.entries(filter).every(([key, value]) => r[key as keyof CallRecord] === value),
    );
  }

  count(operation?: Operation | string, filter: CallFilter = {}): number {
    return this.list(operation, filter).length;
  }

  /** Calls per operation, e.g. `{ DescribeTaskDefinition: 1, RegisterTaskDefinition: 3 }`. */
  counts(filter: CallFilter = {}): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.list(undefined, filter)) counts[r.operation] = (counts[r.operation] ?? 0) + 1;
    return counts;
  }

  /** Inputs of the calls of `operation`, in arrival order (cast to the SDK input type you expect). */
  inputs<T = Record<string, unknown>>(operation: Operation): T[] {
    return this.list(operation).map((r) => r.input as T);
  }

  last(operation?: Operation | string): CallRecord | undefined {
    return this.list(operation).at(-1);
  }

  get total(): number {
    return this.records.length;
  }

  reset(): void {
    this.records.length = 0;
    this.seq = 0;
  }
}

// ------------------------------------------------------------------ operations

/** `input` is a JSON object; handlers read it as the SDK input type. */
type Handler = (state: EcsState, input: unknown) => unknown;

interface Page<T> {
  items: T[];
  nextToken?: string;
}

function paginate<T>(
  operation: string,
  items: T[],
  input: { maxResults?: number; nextToken?: string },
): Page<T> {
  const { maxResults, nextToken } = input;
  if (maxResults !== undefined && (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100)) {
    throw invalidParameter("maxResults must be between 1 and 100.");
  }
  let offset = 0;
  if (nextToken !== undefined) {
    try {
      const decoded = JSON.parse(Buffer.from(nextToken, "base64url").toString("utf8")) as {
        op?: string;
        o?: number;
      };
      if (decoded.op !== operation || typeof decoded.o !== "number") throw new Error("foreign token");
      offset = decoded.o;
    } catch {
      throw invalidParameter("Invalid nextToken.");
    }
  }
  const limit = maxResults ?? 100;
  const end = offset + limit;
  const page: Page<T> = { items: items.slice(offset, end) };
  if (end < items.length)
    page.nextToken = Buffer.from(JSON.stringify({ op: operation, o: end })).toString("base64url");
  return page;
}

const HANDLERS: Record<Operation, Handler> = {
  RegisterTaskDefinition: (state, input) =>
    state.registerTaskDefinition(input as RegisterTaskDefinitionCommandInput),
  DescribeTaskDefinition: (state, raw) => {
    const input = raw as DescribeTaskDefinitionCommandInput;
    if (!input.taskDefinition) throw clientError("Unable to describe task definition.");
    return state.describeTaskDefinition(input.taskDefinition, input.include?.includes("TAGS") ?? false);
  },
  ListTaskDefinitions: (state, raw) => {
    const input = raw as ListTaskDefinitionsCommandInput;
    const page = paginate("ListTaskDefinitions", state.listTaskDefinitionArns(input), input);
    return { taskDefinitionArns: page.items, nextToken: page.nextToken };
  },
  ListTaskDefinitionFamilies: (state, raw) => {
    const input = raw as ListTaskDefinitionFamiliesCommandInput;
    const page = paginate("ListTaskDefinitionFamilies", state.listTaskDefinitionFamilies(input), input);
    return { families: page.items, nextToken: page.nextToken };
  },
  DeregisterTaskDefinition: (state, raw) => {
    const input = raw as DeregisterTaskDefinitionCommandInput;
    if (!input.taskDefinition) throw clientError("The specified task definition does not exist.");
    return { taskDefinition: state.deregisterTaskDefinition(input.taskDefinition) };
  },
  TagResource: (state, raw) => {
    const input = raw as TagResourceCommandInput;
    state.tagResource(input.resourceArn ?? "", input.tags ?? []);
    return {};
  },
  UntagResource: (state, raw) => {
    const input = raw as UntagResourceCommandInput;
    state.untagResource(input.resourceArn ?? "", input.tagKeys ?? []);
    return {};
  },
  ListTagsForResource: (state, raw) => {
    const input = raw as ListTagsForResourceCommandInput;
    return { tags: state.listTagsForResource(input.resourceArn ?? "") };
  },
  ListClusters: (state, raw) => {
    const input = raw as ListClustersCommandInput;
    const page = paginate("ListClusters", state.listClusterArns(), input);
    return { clusterArns: page.items, nextToken: page.nextToken };
  },
  DescribeClusters: (state, raw) => {
    const input = raw as DescribeClustersCommandInput;
    return state.describeClusters(input.clusters);
  },
  ListTasks: (state, raw) => {
    const input = raw as ListTasksCommandInput;
    const page = paginate("ListTasks", state.listTaskArns(input.cluster, input), input);
    return { taskArns: page.items, nextToken: page.nextToken };
  },
  CreateService: (state, raw) => ({
    service: state.createService(raw as CreateServiceCommandInput, { completed: false }),
  }),
  DescribeServices: (state, raw) => {
    const input = raw as DescribeServicesCommandInput;
    return state.describeServices(
      input.cluster,
      input.services ?? [],
      input.include?.includes("TAGS") ?? false,
    );
  },
  ListServices: (state, raw) => {
    const input = raw as ListServicesCommandInput;
    const page = paginate("ListServices", state.listServiceArns(input.cluster), input);
    return { serviceArns: page.items, nextToken: page.nextToken };
  },
  UpdateService: (state, raw) => ({ service: state.updateService(raw as UpdateServiceCommandInput) }),
  DeleteService: (state, raw) => {
    const input = raw as DeleteServiceCommandInput;
    state.deleteService(
      (input.service ?? "").startsWith("arn:")
        ? (input.service ?? "")
        : state.serviceArn(input.cluster ?? "default", input.service ?? ""),
    );
    return {};
  },
  DescribeTasks: (state, raw) => {
    const input = raw as DescribeTasksCommandInput;
    const refs = input.tasks ?? [];
    if (refs.length === 0) throw invalidParameter("Tasks cannot be empty.");
    if (refs.length > 100) throw clientError("Too many tasks: DescribeTasks accepts at most 100.");
    return state.describeTasks(input.cluster, refs, input.include?.includes("TAGS") ?? false);
  },
};

/** JSON as the AWS JSON protocol writes it: timestamps as epoch seconds. */
function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = toWire(item);
    return out;
  }
  return value;
}

// ------------------------------------------------------------------ server

export interface StandinOptions extends EcsStateOptions {
  faults?: FaultPlan | FaultRule[];
  rateLimits?: RateLimits;
  /** Added before every answer (before the state change). Default 0. */
  latencyMs?: number;
  /** Keep each request body in the call log (`CallRecord.input`). Default true; turn off for long benchmarks. */
  recordInputs?: boolean;
  /** Port on 127.0.0.1; default 0 (any free port). */
  port?: number;
}

export interface EcsStandin {
  /** `http://127.0.0.1:<port>`: the endpoint for the SDK. */
  readonly url: string;
  readonly port: number;
  readonly region: string;
  readonly state: EcsState;
  readonly calls: CallLog;
  /** Replaces the fault plan (rule counters and the generator restart). */
  setFaults(plan: FaultPlan | FaultRule[] | undefined): void;
  /** Appends rules to the current plan. */
  addFaults(...rules: FaultRule[]): void;
  /** Per rule: how many calls it watched and how often it fired. */
  faultStats(): FaultRuleStats[];
  /** Replaces the rate limits (buckets start full). */
  setRateLimits(limits: RateLimits | undefined): void;
  setLatency(ms: number): void;
  /** `{ endpoint, region, credentials }` for `new ECSClient({ ...standin.clientConfig(), maxAttempts: 1 })`. */
  clientConfig(): {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  /** Environment for code that builds its own client (Lambda handlers, child processes). */
  env(): Record<string, string>;
  /** Clears state and call log; faults, rate limits and latency go back to the start options. Keeps the port. */
  reset(): void;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> =>
  ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();

const DEFAULT_MESSAGES = {
  throttle: "Rate exceeded",
  "server-error": "Service unavailable (injected by the ECS stand-in).",
  "fail-after-commit": "Service unavailable (injected by the ECS stand-in after the change was applied).",
  "concurrent-revision": "Too many concurrent attempts to create a new revision of the specified family.",
  error: "Injected error.",
} as const;

function faultError(rule: FaultRule): EcsError {
  switch (rule.kind) {
    case "throttle":
      return new EcsError(
        "ThrottlingException",
        rule.message ?? DEFAULT_MESSAGES.throttle,
        rule.status ?? 400,
      );
    case "concurrent-revision":
      return new EcsError("ClientException", rule.message ?? DEFAULT_MESSAGES["concurrent-revision"]);
    case "error":
      return new EcsError(
        rule.errorType ?? "ClientException",
        rule.message ?? DEFAULT_MESSAGES.error,
        rule.status ?? 400,
      );
    case "fail-after-commit":
      return new EcsError(
        "ServerException",
        rule.message ?? DEFAULT_MESSAGES["fail-after-commit"],
        rule.status ?? 500,
      );
    default:
      return new EcsError(
        "ServerException",
        rule.message ?? DEFAULT_MESSAGES["server-error"],
        rule.status ?? 500,
      );
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, toWire(body), headers);
}

function sendError(res: ServerResponse, error: EcsError): void {
  send(res, error.status, { __type: error.type, message: error.message }, { "x-amzn-errortype": error.type });
}

/** Starts the stand-in on 127.0.0.1 (a free port unless `port` is given). */
export async function startEcsStandin(options: StandinOptions = {}): Promise<EcsStandin> {
  const state = new EcsState(options);
  const calls = new CallLog();
  const faults = new FaultEngine();
  faults.set(options.faults);
  let latencyMs = options.latencyMs ?? 0;
  let buckets = new Map<string, TokenBucket>();
  const setRateLimits = (limits: RateLimits | undefined): void => {
    buckets = new Map(
      Object.entries(limits ?? {}).map(([op, limit]) => [op, new TokenBucket(limit as RateLimit, state.now)]),
    );
  };
  setRateLimits(options.rateLimits);

  const finish = (record: CallRecord, fields: Partial<CallRecord>): void => {
    Object.assign(record, fields, { endedAt: Date.now() });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const target = req.headers["x-amz-target"];
    const operation =
      typeof target === "string" && target.includes(".") ? target.slice(target.indexOf(".") + 1) : "";
    let input: unknown;
    try {
      input = body === "" ? {} : JSON.parse(body);
    } catch {
      input = body;
    }
    const record = calls.begin(operation, options.recordInputs === false ? undefined : input);
    const fail = (error: EcsError, source: CallRecord["source"], extra: Partial<CallRecord> = {}): void => {
      finish(record, {
        outcome: "error",
        status: error.status,
        errorType: error.type,
        message: error.message,
        source,
        ...extra,
      });
      sendError(res, error);
    };
    const drop = (extra: Partial<CallRecord>): void => {
      finish(record, { outcome: "dropped", source: "fault", ...extra });
      req.socket.destroy();
    };

    if (req.method !== "POST" || typeof target !== "string" || !target.startsWith(`${ECS_TARGET_PREFIX}.`)) {
      return fail(new EcsError("UnknownOperationException", "Missing or foreign X-Amz-Target."), "protocol");
    }
    if (!(OPERATIONS as readonly string[]).includes(operation)) {
      return fail(
        new EcsError("UnknownOperationException", `The stand-in does not serve ${operation}.`),
        "protocol",
      );
    }
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      return fail(
        new EcsError("SerializationException", "The request body is not a JSON object."),
        "protocol",
      );
    }
    const op = operation as Operation;

    await sleep(latencyMs);
    if (buckets.get(op)?.take() === false) {
      return fail(new EcsError("ThrottlingException", "Rate exceeded"), "rate-limit");
    }
    const decision = faults.decide(op);
    if (decision.delayMs > 0) {
      record.fault = "slow";
      await sleep(decision.delayMs);
    }
    const rule = decision.fault;
    if (rule && rule.kind !== "fail-after-commit" && rule.kind !== "drop-after-commit") {
      if (rule.kind === "drop") return drop({ fault: "drop" });
      return fail(faultError(rule), "fault", { fault: rule.kind });
    }

    let result: unknown;
    try {
      result = HANDLERS[op](state, input);
    } catch (error) {
      if (error instanceof EcsError) return fail(error, "state");
      const message = error instanceof Error ? error.message : String(error);
      return fail(new EcsError("ServerException", `Stand-in bug: ${message}`, 500), "state");
    }
    record.committed = true;
    if (rule?.kind === "drop-after-commit") return drop({ fault: rule.kind });
    if (rule?.kind === "fail-after-commit") return fail(faultError(rule), "fault", { fault: rule.kind });
    finish(record, { outcome: "ok", status: 200, source: "state" });
    send(res, 200, result);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      sendError(res, new EcsError("ServerException", `Stand-in bug: ${message}`, 500));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    port,
    region: state.region,
    state,
    calls,
    setFaults: (plan) => faults.set(plan),
    addFaults: (...rules) => faults.add(rules),
    faultStats: () => faults.snapshot(),
    setRateLimits,
    setLatency: (ms) => {
      latencyMs = ms;
    },
    clientConfig: () => ({
      endpoint: url,
      region: state.region,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    }),
    env: () => ({
      AWS_ENDPOINT_URL_ECS: url,
      AWS_REGION: state.region,
      AWS_DEFAULT_REGION: state.region,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
    }),
    reset: () => {
      state.reset();
      calls.reset();
      faults.set(options.faults);
      setRateLimits(options.rateLimits);
      latencyMs = options.latencyMs ?? 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
