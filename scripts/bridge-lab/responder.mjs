// A minimal DNS responder for the lab: answers A and AAAA for one name, REFUSED otherwise. It binds with
// SO_REUSEPORT, as CoreDNS does on Linux (plugin/pkg/reuseport), so two replicas can share one address.
import dgram from "node:dgram";

const [address, name, v4, v6] = process.argv.slice(2);
const socket = dgram.createSocket({ type: "udp4", reusePort: true });

function answer(query) {
  const id = query.subarray(0, 2);
  let offset = 12;
  const labels = [];
  while (query[offset] !== 0 && offset < query.length) {
    const length = query[offset] ?? 0;
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString());
    offset += length + 1;
  }
  const question = query.subarray(12, offset + 5);
  const type = query.readUInt16BE(offset + 1);
  const known = labels.join(".").toLowerCase() === name;
  const rdata =
    type === 1 && known
      ? Buffer.from(v4.split(".").map(Number))
      : type === 28 && known
        ? Buffer.from(
            v6
              .split(":")
              .flatMap((h) => [
                Number.parseInt(h.padStart(4, "0").slice(0, 2), 16),
                Number.parseInt(h.padStart(4, "0").slice(2), 16),
              ]),
          )
        : undefined;
  const header = Buffer.alloc(10);
  header.writeUInt16BE(known ? 0x8180 : 0x8185, 0); // response, RD+RA; NOERROR or REFUSED
  header.writeUInt16BE(1, 2);
  header.writeUInt16BE(rdata ? 1 : 0, 4);
  const record = rdata ? Buffer.alloc(12) : Buffer.alloc(0);
  if (rdata) {
    record.writeUInt16BE(0xc00c, 0);
    record.writeUInt16BE(type, 2);
    record.writeUInt16BE(1, 4);
    record.writeUInt32BE(60, 6);
    record.writeUInt16BE(rdata.length, 10);
  }
  return Buffer.concat([id, header, question, record, rdata ?? Buffer.alloc(0)]);
}

socket.on("message", (msg, peer) => {
  try {
    socket.send(answer(msg), peer.port, peer.address);
  } catch {
    // a malformed query: no answer
  }
});
socket.bind(53, address);
