// Runs examples/webhooks/verify-signature.ts on the cases given as JSON on stdin
// ([{secret, header, body_base64, now}]) and prints its answers as a JSON array.
import { text } from "node:stream/consumers";
import { verifySignature } from "../../../../examples/webhooks/verify-signature.js";

interface Case {
  secret: string;
  header: string;
  body_base64: string;
  now: number;
}

const cases = JSON.parse(await text(process.stdin)) as Case[];
const answers = cases.map((c) =>
  verifySignature(c.secret, c.header, Buffer.from(c.body_base64, "base64"), c.now),
);
console.log(JSON.stringify(answers));
