// A small scenario against a live Provisio through a client generated from openapi/openapi.json
// (openapi-typescript types + openapi-fetch): log in as an administrator, create what a server
// request needs (a team and a provider account with its catalog, unique names so it runs on a server
// that already has data), read the catalog, file a server request, approve it, read it back, list
// deployments. Paths, bodies and responses are checked by `tsc --strict` against the generated
// types (scripts/clients.sh), so a spec change that breaks this client breaks the build.
//
// Environment: PROVISIO_URL, PROVISIO_ADMIN_USER, PROVISIO_ADMIN_PASSWORD.
// Exit status 0 when every step passed, 1 with a message naming the failed step otherwise.
import { randomBytes } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

type Schemas = components["schemas"];
type RequestStatus = Schemas["RequestStatus"];
type Problem = Schemas["Problem"];

// Statuses a request may have once approved: provisioning may start at once and, with the
// scenario's credential-less provider account, fail. Never pending, rejected or cancelled.
const AFTER_APPROVAL: readonly RequestStatus[] = ["approved", "provisioning", "deployed", "failed"];

class StepFailed extends Error {}

function fail(message: string): never {
  throw new StepFailed(message);
}

function step(name: string, detail: string): void {
  console.log(`  ok  ${name.padEnd(22)} ${detail}`);
}

function describe(response: Response, error: unknown): string {
  const problem = error as Partial<Problem> | undefined;
  if (problem && typeof problem === "object" && "title" in problem) {
    const errors = problem.errors ? JSON.stringify(problem.errors) : "";
    return `HTTP ${response.status} ${problem.title}: ${problem.detail ?? ""} ${errors}`.trim();
  }
  return `HTTP ${response.status}: ${JSON.stringify(error ?? null).slice(0, 500)}`;
}

/** The body of a response with the expected status; anything else fails the step. */
function expect<T>(
  what: string,
  status: number,
  result: { data?: T; error?: unknown; response: Response },
): T {
  const { data, error, response } = result;
  if (response.status !== status) fail(`${what}: expected HTTP ${status}, got ${describe(response, error)}`);
  if (data === undefined) fail(`${what}: HTTP ${status} without a body`);
  return data;
}

async function call<R>(what: string, fn: () => Promise<R>): Promise<R> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StepFailed) throw err;
    const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : "";
    return fail(`${what}: ${err instanceof Error ? `${err.name}: ${err.message}${cause}` : String(err)}`);
  }
}

function isRequestDetail(value: unknown): value is Schemas["ServerRequestDetail"] {
  const v = value as Schemas["ServerRequestDetail"] | null;
  return (
    typeof v === "object" && v !== null && typeof v.request?.id === "string" &&
    typeof v.request.status === "string" && Array.isArray(v.timeline) && Array.isArray(v.approval_steps)
  );
}

async function run(): Promise<void> {
  const baseUrl = (process.env.PROVISIO_URL ?? "").replace(/\/+$/, "");
  const user = process.env.PROVISIO_ADMIN_USER ?? "";
  const password = process.env.PROVISIO_ADMIN_PASSWORD ?? "";
  if (!baseUrl || !user || !password) fail("set PROVISIO_URL, PROVISIO_ADMIN_USER and PROVISIO_ADMIN_PASSWORD");
  const suffix = `${Math.floor(Date.now() / 1000).toString(16)}${randomBytes(3).toString("hex")}`;

  const anonymous = createClient<paths>({ baseUrl });
  let token: Schemas["TokenResponse"] | undefined;
  // The end-to-end tests that ran before may have used up the per-IP sign-in budget: wait as told.
  for (let attempt = 0; token === undefined; attempt++) {
    const res = await call("log in", () =>
      anonymous.POST("/api/auth/login", { body: { login: user, password } }),
    );
    if (res.response.status === 429 && attempt < 3) {
      const wait = Math.min(Number(res.response.headers.get("retry-after") ?? "5") || 5, 60);
      console.log(`  ..  ${"log in".padEnd(22)} rate limited, retrying in ${wait}s`);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      continue;
    }
    token = expect("log in", 200, res);
  }
  if (token.token_type.toLowerCase() !== "bearer" || !token.access_token) {
    fail(`log in: unexpected token type ${token.token_type}`);
  }
  step("log in", `${token.user.username} roles=${token.user.roles.join(",")} expires_in=${token.expires_in}s`);

  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token.access_token}` } });

  const team = expect("create team", 201, await call("create team", () =>
    api.POST("/api/teams", { body: { name: `Clients ts ${suffix}`, description: "generated TypeScript client scenario" } }),
  ));
  step("create team", `${team.name} (${team.id})`);

  // A provider account of our own at the Hetzner fake, so the catalog is known: saving tests its
  // token and compares the catalog with what the fake offers (location abilian, type medium).
  const hcloudUrl = (process.env.PROVISIO_HCLOUD_URL ?? "").trim();
  const hcloudToken = (process.env.PROVISIO_HCLOUD_TOKEN ?? "").trim();
  if (!hcloudUrl || !hcloudToken) fail("create provider: PROVISIO_HCLOUD_URL and PROVISIO_HCLOUD_TOKEN (scripts/fakes.sh) are not set");
  const account = expect("create provider", 201, await call("create provider", () =>
    api.POST("/api/provider-accounts", {
      body: {
        name: `Clients ts ${suffix}`,
        kind: "hetzner",
        endpoint: hcloudUrl,
        catalog: {
          currency: "EUR",
          locations: ["abilian"],
          images: ["debian-12"],
          server_types: [{ name: "medium", cpu: 2, ram_mb: 4096, disk_gb: 40, monthly_price_cents: 459 }],
        },
        settings: { images: { "debian-12": "debian-13" }, wait_for_ssh: false },
        credentials: { api_token: hcloudToken },
      },
    }),
  ));
  if (!account.ready) fail(`create provider: the account is not offered to requesters: ${account.not_ready_reason ?? ""}`);
  step("create provider", `${account.name} (${account.kind}, ${account.id})`);

  const accounts = expect("read catalog", 200, await call("read catalog", () => api.GET("/api/provider-accounts")));
  const mine = accounts.find((a) => a.id === account.id) ?? fail(`read catalog: provider account ${account.id} is not listed`);
  const location = mine.catalog.locations[0] ?? fail("read catalog: no location");
  const image = mine.catalog.images[0] ?? fail("read catalog: no image");
  const serverType = mine.catalog.server_types?.[0] ?? fail("read catalog: no server type");
  step("read catalog", `${accounts.length} accounts; using ${location}/${image}/${serverType.name}`);

  const created = expect("create request", 201, await call("create request", () =>
    api.POST("/api/requests", {
      body: {
        hostname: `cli-ts-${suffix}`,
        team_id: team.id,
        provider_account_id: account.id,
        location,
        image,
        server_type: serverType.name,
        purpose: "generated TypeScript client scenario",
        notes: "created by clients/typescript/scenario.ts",
      },
    }),
  ));
  const request = created.request;
  if (request.status !== "pending") fail(`create request: expected status pending, got ${request.status}`);
  if (!request.allowed_actions.includes("approve")) {
    fail(`create request: the admin may not approve it (allowed: ${request.allowed_actions.join(",")})`);
  }
  step("create request", `${request.hostname} (${request.id}) status=${request.status} ` +
    `estimate=${JSON.stringify(request.estimated_monthly ?? null)}`);

  const approved = expect("approve", 200, await call("approve", () =>
    api.POST("/api/requests/{id}/approve", { params: { path: { id: request.id } } }),
  ));
  if (!isRequestDetail(approved)) fail("approve: the body is not a ServerRequestDetail");
  if (!AFTER_APPROVAL.includes(approved.request.status)) {
    fail(`approve: expected an approved state, got ${approved.request.status}`);
  }
  step("approve", `status=${approved.request.status}`);

  const again = expect("read back", 200, await call("read back", () =>
    api.GET("/api/requests/{id}", { params: { path: { id: request.id } } }),
  ));
  if (!isRequestDetail(again)) fail("read back: the body is not a ServerRequestDetail");
  const status = again.request.status;
  if (!AFTER_APPROVAL.includes(status)) fail(`read back: expected an approved state, got ${status}`);
  const approval = again.timeline.find((e) => e.to_status === "approved") ??
    fail(`read back: no transition to approved in the timeline (${again.timeline.map((e) => e.kind).join(",")})`);
  if (!again.approval_steps.every((s) => s.done)) fail("read back: an approval step is still open");
  step("read back", `status=${status} (${again.timeline.length} timeline events, approved by ${approval.actor?.username ?? "?"})`);

  const page = expect("list deployments", 200, await call("list deployments", () =>
    api.GET("/api/deployments", { params: { query: { page: 1, per_page: 5 } } }),
  ));
  if (!Array.isArray(page.items) || page.page !== 1 || page.per_page !== 5 || page.items.length > 5 ||
    page.total < page.items.length) {
    fail(`list deployments: inconsistent page page=${page.page} per_page=${page.per_page} ` +
      `items=${page.items?.length} total=${page.total}`);
  }
  for (const d of page.items) {
    if (typeof d.id !== "string" || typeof d.status !== "string" || typeof d.team?.id !== "string") {
      fail(`list deployments: an item does not look like a Deployment: ${JSON.stringify(d).slice(0, 300)}`);
    }
  }
  step("list deployments", `total=${page.total} on this page=${page.items.length}`);
}

const started = performance.now();
try {
  await run();
  console.log(`typescript client scenario passed in ${((performance.now() - started) / 1000).toFixed(1)}s`);
} catch (err) {
  const message = err instanceof StepFailed ? err.message : err instanceof Error ? err.stack ?? err.message : String(err);
  console.error(`FAIL typescript client: ${message}`);
  process.exitCode = 1;
}
