// A till and a webshop, end to end, through openapi-fetch typed by openapi-typescript from
// openapi/openapi.json (generated/stammkunde.ts, made by `npm run generate`). Type-checked with
// `tsc --noEmit`, so a field the document does not have fails before anything runs.
//
// Usage: STAMMKUNDE_BASE_URL=http://127.0.0.1:8000 STAMMKUNDE_ADMIN_KEY=stk_... npm run flow
// Prints a JSON summary of what the service answered (the same as the Python flow's).
import { randomUUID } from "node:crypto";
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "../generated/stammkunde.js";

type Api = Client<paths>;
type Problem = components["schemas"]["Problem"];

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function client(baseUrl: string, key: string): Api {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key}` } });
}

/** The response has this status and a body; return the body. */
function expect<T>(result: Result<T>, status: number): T {
  const { data, error, response } = result;
  if (response.status !== status || data === undefined) {
    throw new Error(
      `${response.url}: expected ${status}, got ${response.status}: ${JSON.stringify(error)}`,
    );
  }
  return data;
}

/** The response is a problem document with this status; return it. */
function expectProblem(result: Result<unknown>, status: number): Problem {
  const { error, response } = result;
  if (response.status !== status || error === undefined) {
    throw new Error(`${response.url}: expected problem ${status}, got ${response.status}`);
  }
  return error as Problem;
}

const once = () => ({ header: { "Idempotency-Key": randomUUID() } });

async function available(api: Api, memberId: string): Promise<number> {
  const balance = expect(
    await api.GET("/v1/members/{member_id}/balance", {
      params: { path: { member_id: memberId } },
    }),
    200,
  );
  return balance.available;
}

async function newKey(admin: Api, name: string, scope: components["schemas"]["Scope"]) {
  const created = expect(
    await admin.POST("/v1/api-keys", { params: once(), body: { name, scopes: [scope] } }),
    201,
  );
  if (!created.key) throw new Error("a new API key is shown once, in its creation");
  return created.key;
}

async function main(): Promise<void> {
  const baseUrl = env("STAMMKUNDE_BASE_URL");
  const admin = client(baseUrl, env("STAMMKUNDE_ADMIN_KEY"));

  // Back office: the programme, a reward, and a key for the till and one for the shop.
  const program = expect(
    await admin.PUT("/v1/program", {
      body: { currency: "EUR", points_per_currency_unit: "1", pending_days: 0, signup_bonus: 10 },
    }),
    200,
  );
  if (program.signup_bonus !== 10) throw new Error("the programme was not changed");
  const reward = expect(
    await admin.POST("/v1/rewards", {
      body: { name: "5 EUR off", kind: "amount", value: 500, valid_days: 30, cost_points: 100 },
    }),
    201,
  );
  const till = client(baseUrl, await newKey(admin, "till 1", "pos"));
  const shop = client(baseUrl, await newKey(admin, "webshop", "shop"));

  // At the till: Anna joins and pays by card.
  const anna = expect(
    await till.POST("/v1/members", {
      params: once(),
      body: { email: "anna@example.com", name: "Anna Schmidt" },
    }),
    201,
  );
  const sale = expect(
    await till.POST("/v1/purchases", {
      params: once(),
      body: {
        card_number: anna.card_number,
        order_id: "POS-1-0001",
        channel: "pos",
        store_id: "berlin-mitte",
        currency: "EUR",
        total: 12000,
        items: [
          { sku: "COFFEE-1KG", category: "coffee", quantity: 2, unit_price: 4500 },
          { sku: "MUG", category: "merch", quantity: 1, unit_price: 3000 },
        ],
      },
    }),
    201,
  );
  const afterSale = await available(till, anna.id);

  // In the webshop: Anna finds herself by e-mail and buys the reward with points.
  const page = expect(
    await shop.GET("/v1/members", { params: { query: { email: "anna@example.com" } } }),
    200,
  );
  if (page.items.length !== 1 || page.items[0]?.id !== anna.id) {
    throw new Error("looking Anna up by e-mail did not find her");
  }
  const voucher = expect(
    await shop.POST("/v1/members/{member_id}/vouchers", {
      params: { ...once(), path: { member_id: anna.id } },
      body: { reward_id: reward.id },
    }),
    201,
  );
  const code = voucher.code;
  if (!code) throw new Error("a new voucher's code is shown once, in its issue");
  const checkout = expect(
    await shop.POST("/v1/vouchers/{code}/validate", {
      params: { path: { code } },
      body: { total: 4000, currency: "EUR" },
    }),
    200,
  );
  const reservation = expect(
    await shop.POST("/v1/vouchers/{code}/reservations", {
      params: { ...once(), path: { code } },
      body: { order_id: "WEB-0001", ttl_seconds: 600 },
    }),
    201,
  );
  const redeemBody = {
    order_id: "WEB-0001",
    total: 4000,
    currency: "EUR",
    channel: "web",
    reservation_id: reservation.reservation_id,
  } satisfies components["schemas"]["VoucherRedeem"];
  const redemption = expect(
    await shop.POST("/v1/vouchers/{code}/redeem", {
      params: { ...once(), path: { code } },
      body: redeemBody,
    }),
    201,
  );
  // A second redemption (a new request, not a replay) is a problem with a stable code.
  const again = expectProblem(
    await shop.POST("/v1/vouchers/{code}/redeem", {
      params: { ...once(), path: { code } },
      body: redeemBody,
    }),
    409,
  );
  const webOrder = expect(
    await shop.POST("/v1/purchases", {
      params: once(),
      body: {
        member_id: anna.id,
        order_id: "WEB-0001",
        channel: "web",
        currency: "EUR",
        total: 4000 - redemption.discount,
      },
    }),
    201,
  );

  // Back at the till: the mug comes back.
  const returned = expect(
    await till.POST("/v1/purchases/{purchase_id}/returns", {
      params: { ...once(), path: { purchase_id: sale.id } },
      body: { items: [{ sku: "MUG", quantity: 1 }] },
    }),
    201,
  );

  // Anna gives Ben 20 points; Ben claims them in the shop and is enrolled on the spot.
  const gift = expect(
    await shop.POST("/v1/members/{member_id}/gifts", {
      params: { ...once(), path: { member_id: anna.id } },
      body: { points: 20, message: "For your first coffee" },
    }),
    201,
  );
  const giftCode = gift.code;
  if (!giftCode) throw new Error("a new gift's code is shown once, in its creation");
  const shown = expect(
    await shop.GET("/v1/gifts/{code}", { params: { path: { code: giftCode } } }),
    200,
  );
  const claimed = expect(
    await shop.POST("/v1/gifts/{code}/claim", {
      params: { ...once(), path: { code: giftCode } },
      body: { member: { email: "ben@example.com", name: "Ben Weber" } },
    }),
    201,
  );

  const summary = {
    earned_at_till: sale.points_earned,
    available_after_sale: afterSale,
    voucher_points_spent: voucher.points_spent,
    voucher_valid: checkout.valid,
    voucher_discount: redemption.discount,
    second_redemption: [again.status, again.code],
    earned_online: webOrder.points_earned,
    points_reversed: returned.points_reversed,
    gift_points: gift.points,
    gift_status_before_claim: shown.status,
    recipient_enrolled: claimed.member_created,
    recipient_available: await available(till, claimed.member_id),
    sender_available: await available(till, anna.id),
  };
  console.log(JSON.stringify(summary));
}

await main();
