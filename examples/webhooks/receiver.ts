// A minimal webhook receiver on node:http: verify, then act, then answer 2xx.
//
//   STAMMKUNDE_WEBHOOK_SECRET=whsec_... npx tsx receiver.ts --port 8080
//
// Answer quickly (queue slow work) and drop duplicates by `Stammkunde-Event-Id`: a delivery
// can come more than once. Anything but 2xx is retried on the service's back-off schedule.
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { verifySignature } from "./verify-signature.js";

const secret = process.env.STAMMKUNDE_WEBHOOK_SECRET;
if (!secret) throw new Error("STAMMKUNDE_WEBHOOK_SECRET is not set");
const { values } = parseArgs({
  options: { host: { type: "string", default: "127.0.0.1" }, port: { type: "string", default: "8080" } },
});
const MAX_BODY_BYTES = 1024 * 1024;
const seenEventIds = new Set<string>(); // use your database in production

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  let size = 0;
  request.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) request.destroy();
    else chunks.push(chunk);
  });
  request.on("end", () => {
    const body = Buffer.concat(chunks); // the raw bytes: the signature covers exactly these
    const header = request.headers["stammkunde-signature"];
    if (typeof header !== "string" || !verifySignature(secret, header, body)) {
      response.writeHead(400).end();
      return;
    }
    const event = JSON.parse(body.toString("utf8")) as { id: string; type: string; member_id: string | null };
    if (!seenEventIds.has(event.id)) {
      seenEventIds.add(event.id);
      console.log(`${event.type} ${event.id} member=${event.member_id}`);
    }
    response.writeHead(204).end();
  });
});

server.listen(Number(values.port), values.host, () => {
  console.log(`listening on http://${values.host}:${values.port}/`);
});
