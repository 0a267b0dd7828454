/**
 * A minimal local stand-in for Amazon EventBridge's PutEvents (AWS JSON 1.1, `X-Amz-Target:
 * AWSEvents.PutEvents`), so a bundled Lambda can send its alerts somewhere during tests and benchmarks:
 *
 *   const bus = await startEventBridgeStandin();
 *   process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = bus.url;
 *   ...
 *   expect(bus.entries.map((e) => e.DetailType)).toContain("DNS Cache Drift Detected");
 *
 * Every entry is accepted (an EventId each). Signatures are not checked.
 * Written with erasable TypeScript only, so Node runs it directly.
 */

import { randomUUID } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody, sendJson } from "./http.ts";

export interface PutEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  EventBusName?: string;
  Time?: number;
}

export interface EventBridgeStandin {
  readonly url: string;
  /** Every entry put, in arrival order. */
  readonly entries: PutEntry[];
  /** PutEvents calls received. */
  calls(): number;
  reset(): void;
  close(): Promise<void>;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, body, headers);
}

export async function startEventBridgeStandin(): Promise<EventBridgeStandin> {
  const entries: PutEntry[] = [];
  let calls = 0;
  const server = createServer((req, res) => {
    readBody(req)
      .then((body) => {
        if (req.headers["x-amz-target"] !== "AWSEvents.PutEvents") {
          const type = "UnknownOperationException";
          return send(
            res,
            400,
            { __type: type, message: "The stand-in serves PutEvents only." },
            {
              "x-amzn-errortype": type,
            },
          );
        }
        calls += 1;
        const input = JSON.parse(body) as { Entries?: PutEntry[] };
        const put = input.Entries ?? [];
        entries.push(...put);
        send(res, 200, { FailedEntryCount: 0, Entries: put.map(() => ({ EventId: randomUUID() })) });
      })
      .catch((error: unknown) => send(res, 500, { __type: "InternalException", message: String(error) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    entries,
    calls: () => calls,
    reset: () => {
      entries.length = 0;
      calls = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
