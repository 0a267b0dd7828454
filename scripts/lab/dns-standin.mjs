#!/usr/bin/env node
// A tiny UDP DNS server for tests and the DNS lab: it answers A queries from a records file (re-read on
// every query, so a test can change a record "upstream"), can answer late (--delay-ms) or never
// (--silent), and counts the queries it receives. It is a separate process so that it can be frozen with
// SIGSTOP like a stuck CoreDNS. It exits 0 on SIGTERM and SIGINT.
//
//   node dns-standin.mjs --port 5353 [--address 127.0.0.1] [--records FILE] [--ttl 30]
//                        [--delay-ms 0] [--silent] [--count-file FILE] [--exit-code N]
// Records file: JSON {"name.example": "10.1.2.3", "*": "10.9.9.9"}; names without the final dot. A name
// it does not know gets NXDOMAIN; other query types get an empty NOERROR answer.
import { createSocket } from "node:dgram";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "53" },
    address: { type: "string", default: "127.0.0.1" },
    records: { type: "string" },
    ttl: { type: "string", default: "30" },
    "delay-ms": { type: "string", default: "0" },
    silent: { type: "boolean", default: false },
    "count-file": { type: "string" },
    "exit-code": { type: "string" },
    // Accepted and ignored, so the stand-in can replace /coredns -conf FILE.
    conf: { type: "string" },
  },
});

if (values["exit-code"] !== undefined) process.exit(Number(values["exit-code"]));

const ttl = Number(values.ttl);
const delayMs = Number(values["delay-ms"]);
let count = 0;

function records() {
  if (!values.records) return { "*": "127.0.0.1" };
  try {
    return JSON.parse(readFileSync(values.records, "utf8"));
  } catch {
    return {};
  }
}

/** The question's name (lower case, no final dot) and where the question ends. */
function question(msg) {
  const labels = [];
  let i = 12;
  while (i < msg.length && msg[i] !== 0) {
    const len = msg[i];
    labels.push(msg.subarray(i + 1, i + 1 + len).toString("latin1"));
    i += len + 1;
  }
  return { name: labels.join(".").toLowerCase(), end: i + 5, qtype: msg.readUInt16BE(i + 1) };
}

function answer(msg) {
  const { name, end, qtype } = question(msg);
  const table = records();
  const ip = table[name] ?? table["*"];
  const header = Buffer.alloc(12);
  msg.copy(header, 0, 0, 2); // id
  const rd = msg[2] & 0x01;
  header[2] = 0x80 | rd; // QR, RD copied
  header[3] = 0x80 | (ip === undefined ? 3 : 0); // RA, NXDOMAIN or NOERROR
  header.writeUInt16BE(1, 4);
  const withAnswer = ip !== undefined && qtype === 1;
  header.writeUInt16BE(withAnswer ? 1 : 0, 6);
  const parts = [header, msg.subarray(12, end)];
  if (withAnswer) {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(1, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(ttl, 6);
    rr.writeUInt16BE(4, 10);
    ip.split(".").forEach((octet, k) => {
      rr[12 + k] = Number(octet);
    });
    parts.push(rr);
  }
  return Buffer.concat(parts);
}

const socket = createSocket(values.address.includes(":") ? "udp6" : "udp4");
socket.on("message", (msg, peer) => {
  if (msg.length < 17) return;
  count += 1;
  if (values["count-file"]) {
    // Written aside and renamed, so a reader never sees a half-written file.
    writeFileSync(`${values["count-file"]}.new`, String(count));
    renameSync(`${values["count-file"]}.new`, values["count-file"]);
  }
  if (values.silent) return;
  const reply = answer(msg);
  const send = () => socket.send(reply, peer.port, peer.address);
  if (delayMs > 0) setTimeout(send, delayMs);
  else send();
});
socket.bind(Number(values.port), values.address, () => {
  process.stdout.write(`listening ${values.address}:${values.port}\n`);
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
