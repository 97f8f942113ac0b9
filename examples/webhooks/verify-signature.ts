// Check the `Stammkunde-Signature` header of a webhook delivery (Node.js 20+, no packages).
//
// The header reads `t=<unix seconds>,v1=<hex>`; `<hex>` is HMAC-SHA256, keyed with the
// endpoint's whole secret (`whsec_...`, as UTF-8), of `"<t>."` followed by the raw request
// body. Verify the bytes as they arrived, before parsing the JSON (a body re-serialised from
// parsed JSON is not the body that was signed), and refuse a timestamp more than five minutes
// from your clock so that a captured request cannot be replayed later.
import { createHmac, timingSafeEqual } from "node:crypto";

export const TOLERANCE_SECONDS = 300;

/** True if `header` signs the raw `body` under `secret` within the tolerance. */
export function verifySignature(
  secret: string,
  header: string,
  body: Buffer,
  nowSeconds: number = Date.now() / 1000,
): boolean {
  const fields = header.split(",").map((part) => {
    const [name, ...value] = part.trim().split("=");
    return { name, value: value.join("=") };
  });
  const timestamps = fields.filter((f) => f.name === "t").map((f) => f.value);
  const signatures = fields.filter((f) => f.name === "v1").map((f) => f.value);
  const [stamp] = timestamps;
  if (timestamps.length !== 1 || stamp === undefined || !/^[0-9]+$/.test(stamp)) return false;
  const timestamp = Number(stamp);
  if (Math.abs(nowSeconds - timestamp) > TOLERANCE_SECONDS) return false;
  const expected = createHmac("sha256", secret)
    .update(`${timestamp}.`)
    .update(body)
    .digest();
  // More than one v1 may come while a secret is being rotated: any one that matches will do.
  return signatures.some((signature) => {
    const given = Buffer.from(signature, "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
