// Browser end-to-end tests in Debian's headless Chromium, driven by playwright-core.
// Env: E2E_BASE_URL, E2E_ADMIN_USER, E2E_ADMIN_PASSWORD, E2E_ARTIFACTS (screenshots).
import { chromium } from 'playwright-core';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const base = process.env.E2E_BASE_URL ?? 'http://127.0.0.1:18080';
const adminUser = process.env.E2E_ADMIN_USER ?? 'e2eadmin';
const adminPassword = process.env.E2E_ADMIN_PASSWORD ?? 'e2e-admin-password-1';
const artifacts = process.env.E2E_ARTIFACTS ?? 'e2e/artifacts';
mkdirSync(artifacts, { recursive: true });

// What each role must see in the main navigation (shared::nav with the shared permission matrix).
const NAV = {
  admin: ['Dashboard', 'Requests', 'Resources', 'Approvals', 'Servers', 'Scripts', 'Projects', 'Deployments', 'Clients', 'Revenue', 'Teams', 'Resource types', 'Administration', 'Providers', 'Users', 'Audit log'],
  technical_agent: ['Dashboard', 'Requests', 'Resources', 'Servers', 'Scripts', 'Projects', 'Deployments', 'Teams', 'Resource types'],
  sales_agent: ['Dashboard', 'Requests', 'Resources', 'Clients', 'Revenue', 'Teams', 'Resource types'],
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const problems = [];
const external = [];
// Every live-stream and terminal URL Chromium opened: each must carry a single-use ticket and
// never a token (URLs end up in proxy and browser logs).
const streamUrls = [];
const STREAM_URL = /\/api\/.+\/(events|terminal)(\?|$)/;
let failures = 0;

// Content-Security-Policy violations fail the test they happen in: Chromium logs them to the
// console ("Refused to execute inline script because it violates the following Content Security
// Policy directive ...") and fires `securitypolicyviolation`, reported here through a binding
// (bindings and init scripts are injected by the driver, so the page's own CSP cannot block them).
const CSP_CONSOLE = /Content Security Policy|Refused to (execute|load|apply|connect|frame|evaluate|compile|create)/i;

async function test(name, fn) {
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
  const cspViolations = [];
  await context.exposeBinding('__reportCspViolation', (_source, v) => {
    cspViolations.push(`${v.directive} blocked ${v.blocked || '(inline)'} in ${v.source}:${v.line}${v.sample ? ` "${v.sample}"` : ''}`);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__reportCspViolation({ directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample });
    });
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`[${name}] page error: ${e.message}`));
  // Expected 401/422 answers show up as "Failed to load resource"; anything else logged as an error is a bug.
  page.on('console', (m) => {
    if (CSP_CONSOLE.test(m.text())) cspViolations.push(`console: ${m.text()}`);
    else if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`[${name}] console: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('data:')) external.push(r.url());
    if (STREAM_URL.test(new URL(r.url()).pathname)) streamUrls.push(r.url());
  });
  page.on('websocket', (ws) => streamUrls.push(ws.url()));
  const started = Date.now();
  try {
    await fn(page, { takeCspViolations: () => cspViolations.splice(0) });
    // Violations are reported asynchronously; give the last ones a moment to arrive.
    await page.waitForTimeout(100);
    if (cspViolations.length) throw new Error(`Content-Security-Policy violations:\n    ${cspViolations.join('\n    ')}`);
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: ${e.message}`);
    await page.screenshot({ path: `${artifacts}/failure-${name.replace(/\W+/g, '-')}.png`, fullPage: true }).catch(() => {});
  } finally {
    await context.close();
  }
}

function assert(cond, message) { if (!cond) throw new Error(message); }

async function signIn(page, login, password) {
  await page.goto(base + '/dashboard', { waitUntil: 'domcontentloaded' });
  await page.getByLabel('Username or e-mail').waitFor({ timeout: 15000 });
  assert(new URL(page.url()).pathname === '/login', `expected /login, got ${page.url()}`);
  await page.getByLabel('Username or e-mail').fill(login);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 15000 });
}

// Signing out is in the account menu behind one's name.
async function signOut(page) {
  await page.getByRole('button', { name: 'Your account' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
}

async function navLabels(page) {
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link').first().waitFor();
  return (await nav.getByRole('link').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
}

function sameList(a, b) { return a.length === b.length && a.every((x, i) => x === b[i]); }

const newUser = `tech${Date.now().toString(36)}`;
const newPassword = 'technical-password-42';

await test('sign-in page rejects a wrong password with a clear message', async (page) => {
  await page.goto(base + '/users', { waitUntil: 'domcontentloaded' });
  await page.getByLabel('Username or e-mail').waitFor({ timeout: 15000 });
  await page.getByLabel('Username or e-mail').fill(adminUser);
  await page.getByLabel('Password', { exact: true }).fill('definitely-wrong');
  await page.getByLabel('Password', { exact: true }).press('Enter');
  await page.getByText('the username or password is wrong').waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${artifacts}/login.png` });
});

await test('admin signs in, sees the admin navigation and creates a technical agent', async (page) => {
  await signIn(page, adminUser, adminPassword);
  const labels = await navLabels(page);
  assert(sameList(labels, NAV.admin), `admin nav was ${JSON.stringify(labels)}`);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  // A fresh install: the first steps, none done, each leading to its screen.
  const firstSteps = page.getByTestId('first-steps');
  await firstSteps.waitFor({ timeout: 10000 });
  assert((await firstSteps.innerText()).includes('4 of 4 left'), await firstSteps.innerText());
  await firstSteps.getByRole('link', { name: 'Add a provider account and test its connection' }).waitFor();
  await page.waitForTimeout(300);
  await page.screenshot({ path: `${artifacts}/dashboard-admin.png` });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  await page.getByRole('button', { name: 'New user' }).click();
  await page.getByLabel('Username', { exact: true }).fill(newUser);
  await page.getByLabel('E-mail', { exact: true }).fill(`${newUser}@example.com`);
  await page.getByLabel('Full name', { exact: true }).fill('Tess Technical');
  await page.getByLabel('Password', { exact: true }).fill(newPassword);
  await page.getByLabel('Technical agent', { exact: true }).check();
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByRole('cell', { name: newUser, exact: true }).waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${artifacts}/users.png` });

  await signOut(page);
  await page.getByTestId('landing-sign-in').waitFor({ timeout: 10000 });
});

await test('the new technical agent sees only their role navigation and no users page', async (page) => {
  await signIn(page, newUser, newPassword);
  const labels = await navLabels(page);
  assert(sameList(labels, NAV.technical_agent), `technical nav was ${JSON.stringify(labels)}`);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await page.screenshot({ path: `${artifacts}/dashboard-technical.png` });
  await page.goto(base + '/users', { waitUntil: 'domcontentloaded' });
  await page.getByText("You don't have access to this page").waitFor({ timeout: 15000 });
});

await test('signed out, / shows what Provisio does and its frameworks; signing in leads to the dashboard and signing out back here', async (page) => {
  await page.goto(base + '/', { waitUntil: 'domcontentloaded' });
  await page.getByRole('heading', { name: /Servers and apps for your teams/ }).waitFor({ timeout: 15000 });
  // The heading is static; the frameworks arrive with /api/frameworks a moment later.
  await page.getByTestId('landing-framework').first().waitFor({ timeout: 15000 });
  const frameworks = await page.getByTestId('landing-framework').allInnerTexts();
  for (const name of ['Flask', 'Next.js', 'Laravel']) {
    assert(frameworks.some((f) => f.startsWith(name)), `${name} is among ${frameworks.join(', ')}`);
  }
  assert(await page.getByTestId('landing-statistics').count() === 0, 'no statistics unless an administrator shows them');
  await page.screenshot({ path: `${artifacts}/landing.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  const sideways = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert(!sideways, 'the landing page does not scroll sideways on a phone');
  await page.screenshot({ path: `${artifacts}/landing-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1360, height: 900 });
  await page.getByTestId('landing-sign-in').click();
  await page.getByLabel('Username or e-mail').fill(adminUser);
  await page.getByLabel('Password', { exact: true }).fill(adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor({ timeout: 15000 });
  assert(new URL(page.url()).pathname === '/dashboard', `signed in at ${page.url()}`);
  await signOut(page);
  await page.getByTestId('landing-sign-in').waitFor({ timeout: 15000 });
  const after = new URL(page.url());
  assert(after.pathname === '/' && after.search === '', `signed out at ${page.url()}`);
});

await test('a reload keeps the session through the refresh cookie', async (page) => {
  await signIn(page, adminUser, adminPassword);
  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 15000 });
  assert(new URL(page.url()).pathname !== '/login', 'reload signed the user out');
});


await test('the first load carries the main module only; a page brings its own code when first opened', async (page) => {
  const modules = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith('.wasm')) modules.push(path);
  });
  await signIn(page, adminUser, adminPassword);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  assert(modules.length === 1 && modules[0] === '/main_bg.wasm', `the first load fetched ${modules.join(', ')}`);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  await page.getByRole('button', { name: 'New user' }).waitFor({ timeout: 15000 });
  assert(
    modules.includes('/split_admin_pages.wasm'),
    `opening Users fetched ${modules.slice(1).join(', ') || 'nothing'}`,
  );
  const beforeReturn = modules.length;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  await page.getByRole('button', { name: 'New user' }).waitFor({ timeout: 15000 });
  assert(modules.length === beforeReturn, `reopening Users fetched ${modules.slice(beforeReturn).join(', ')}`);
  // Pointing at a navigation entry starts fetching its page's code before the click.
  const salesChunk = page.waitForRequest((r) => r.url().endsWith('/split_sales_pages.wasm'), { timeout: 5000 });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Clients' }).hover();
  await salesChunk;
});

await test('the app runs under its Content-Security-Policy and the policy has no unsafe-inline scripts', async (page, { takeCspViolations }) => {
  const res = await page.goto(base + '/', { waitUntil: 'domcontentloaded' });
  const policy = res.headers()['content-security-policy'] ?? '';
  const scripts = policy.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src ')) ?? '';
  assert(scripts && !scripts.includes("'unsafe-inline'"), `script-src was ${JSON.stringify(scripts)}`);
  assert(policy.includes("frame-ancestors 'none'"), `policy was ${policy}`);
  // The wasm started (the landing page is rendered by it), so the inline bootstrap's hash matched.
  await page.getByTestId('landing-sign-in').waitFor({ timeout: 15000 });
  // A script injected the way an XSS would be is refused, and the refusal is seen as a violation.
  const ran = await page.evaluate(() => new Promise((resolve) => {
    window.__injected = false;
    document.addEventListener('securitypolicyviolation', () => resolve(window.__injected), { once: true });
    const s = document.createElement('script');
    s.textContent = 'window.__injected = true';
    document.head.appendChild(s);
    setTimeout(() => resolve('no violation event'), 3000);
  }));
  assert(ran === false, `an injected inline script was not refused: ${ran}`);
  // That refusal was the point of this test (and proves violations are seen); any other still fails it.
  await page.waitForTimeout(100);
  const seen = takeCspViolations();
  assert(seen.length > 0 && seen.every((v) => /script-src/.test(v)), `violations seen: ${JSON.stringify(seen)}`);
});

await test('Swagger UI renders the operations list under its own policy', async (page) => {
  const res = await page.goto(base + '/api/docs/', { waitUntil: 'domcontentloaded' });
  assert(res.status() === 200, `/api/docs/ answered ${res.status()}`);
  const policy = res.headers()['content-security-policy'] ?? '';
  assert(/script-src 'self'(;|$)/.test(policy), `docs policy was ${policy}`);
  await page.locator('.opblock').first().waitFor({ timeout: 20000 });
  const operations = await page.locator('.opblock').count();
  assert(operations > 50, `only ${operations} operations rendered`);
  await page.locator('.opblock-summary-path', { hasText: '/api/auth/login' }).first().waitFor();
  // Expanding an operation renders its schema (more React, more inline styles).
  await page.locator('.opblock-summary', { hasText: '/api/auth/login' }).first().click();
  await page.locator('.opblock-body').first().waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${artifacts}/api-docs.png` });
});

// --- Server request workflow: requester files, admin approves from the queue, requester is told.
async function api(path, { token, method = 'GET', body } = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// Provider fakes and the test sshd, started by scripts/test.sh.
const fakes = {
  pveUrl: process.env.PROVISIO_FAKEPVE_URL,
  pveToken: process.env.PROVISIO_FAKEPVE_TOKEN,
  pveNode: process.env.PROVISIO_FAKEPVE_NODE ?? 'pve1',
  pveTemplate: process.env.PROVISIO_FAKEPVE_TEMPLATE_VMID ?? '9000',
  sshPort: process.env.PROVISIO_TEST_SSH_PORT ?? '2222',
  hcloudUrl: process.env.PROVISIO_HCLOUD_URL,
  hcloudToken: process.env.PROVISIO_HCLOUD_TOKEN,
};
if (!fakes.pveUrl || !fakes.hcloudUrl) {
  console.log('FAIL the provider fakes are not running (PROVISIO_FAKEPVE_URL / PROVISIO_HCLOUD_URL unset)');
  process.exit(1);
}
// SHA-256 of the fake's self-signed certificate, pinned when the browser test talks TLS to it.
function pinOf(caFile) {
  const pem = readFileSync(caFile, 'utf8');
  const der = Buffer.from(pem.split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64');
  return createHash('sha256').update(der).digest('hex');
}
const AFTER_APPROVAL = /^(approved|provisioning|deployed)$/;
const requesterName = `req${Date.now().toString(36)}`;
const requesterPassword = 'requester-password-42';
const hostname = `web-${Date.now().toString(36)}`;
const pveName = `PVE ${requesterName}`;
const vmName = `vm-${Date.now().toString(36)}`;

await test('from the first steps an admin sets up a Proxmox account from what the cluster offers, typing no catalogue', async (page) => {
  await signIn(page, adminUser, adminPassword);
  await page.goto(base + '/dashboard', { waitUntil: 'domcontentloaded' });
  const firstSteps = page.getByTestId('first-steps');
  await firstSteps.getByRole('link', { name: 'Add a provider account and test its connection' }).click();
  await page.getByTestId('provider-add').click();
  const form = page.getByTestId('provider-form');
  await form.waitFor({ timeout: 10000 });
  await form.locator('[name=name]').fill(pveName);
  await form.locator('[name=kind]').selectOption('proxmox');
  await form.locator('[name=endpoint]').fill(fakes.pveUrl);
  await form.locator('[name=api_token]').fill(fakes.pveToken);
  await form.locator('[name=ssh_port]').fill(String(fakes.sshPort));
  if (fakes.pveUrl.startsWith('https')) {
    await form.locator('[name=tls_fingerprint]').fill(pinOf(process.env.PROVISIO_FAKEPVE_CA));
  }
  // The cluster says what it has: its node, the template VM and the LXC template, storages, bridges.
  await form.getByTestId('discover-run').click();
  await form.locator('[data-testid=connection-report][data-ok=true]').waitFor({ timeout: 15000 });
  const found = form.getByTestId('discovered');
  await found.getByTestId('discovered-locations').getByLabel(new RegExp(`^${fakes.pveNode} `)).waitFor();
  const vmTemplate = found.getByTestId('discovered-images').getByLabel(new RegExp(`VM template ${fakes.pveTemplate}$`));
  assert(await vmTemplate.isChecked(), 'the template VM is ticked');
  // Only VMs from the template are offered here: untick the LXC template.
  await found.getByTestId('discovered-images').getByLabel(/LXC template/).uncheck();
  assert((await found.locator('#discovered-bridge').inputValue()) === 'vmbr0', 'the bridge is read from the node');
  await page.screenshot({ path: `${artifacts}/provider-discovered.png`, fullPage: true });
  await found.getByTestId('discover-apply').click();
  assert((await form.locator('[name=locations]').inputValue()) === fakes.pveNode, 'locations filled from the cluster');
  assert((await form.locator('[name=images]').inputValue()) === 'debian12-cloudinit', 'images filled from the cluster');
  assert((await form.locator('[name="image_map.provider"]').last().inputValue()) === fakes.pveTemplate, 'the image maps to the template');
  assert(Number(await form.locator('[name=max_cpu]').inputValue()) >= 1, 'custom sizes bounded by the node');
  await form.getByRole('button', { name: 'Add account' }).click();
  const card = page.locator(`[data-testid=provider-card][data-name="${pveName}"]`);
  await card.waitFor({ timeout: 10000 });
  // Saving tested it: requesters are offered it at once.
  await card.getByTestId('provider-ready').waitFor({ timeout: 10000 });
  await card.getByTestId('provider-test').click();
  await page.locator('[data-testid=connection-report][data-ok=true]').waitFor({ timeout: 15000 });
  await page.screenshot({ path: `${artifacts}/provider-test.png`, fullPage: true });
  assert(await page.locator('[data-testid=connection-check][data-ok=false]').count() === 0, 'a connection check failed');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
  await page.getByTestId('first-steps').locator('[data-done=true]', { hasText: 'Add a provider account' }).waitFor({ timeout: 10000 });
});

{
  const admin = await api('/api/auth/login', { method: 'POST', body: { login: adminUser, password: adminPassword } });
  const team = await api('/api/teams', { token: admin.access_token, method: 'POST', body: { name: `Shop ${requesterName}` } });
  await api('/api/users', { token: admin.access_token, method: 'POST', body: {
    username: requesterName, email: `${requesterName}@example.com`, full_name: 'Rita Requester',
    password: requesterPassword, roles: ['requester'], team_ids: [team.id] } });
  // The Hetzner fake (cloudalone behind Prism): approved requests really get provisioned.
  await api('/api/provider-accounts', { token: admin.access_token, method: 'POST', body: {
    name: `Hetzner ${requesterName}`, kind: 'hetzner', endpoint: fakes.hcloudUrl,
    catalog: { currency: 'EUR', locations: ['abilian'], images: ['debian-12'],
      server_types: [{ name: 'small', cpu: 2, ram_mb: 4096, disk_gb: 40, monthly_price_cents: 459 }] },
    settings: { images: { 'debian-12': 'debian-13' }, wait_for_ssh: false },
    credentials: { api_token: fakes.hcloudToken } } });
}

await test('signed out on an admin page, the next person to sign in lands on their own dashboard', async (page) => {
  await signIn(page, adminUser, adminPassword);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  await page.getByRole('heading', { name: 'Audit log' }).waitFor({ timeout: 10000 });
  // The log reads as sentences, with the target's name linked to its page and what changed.
  const created = page.getByTestId('audit-row').filter({ hasText: 'Provider account created' }).filter({ hasText: pveName });
  await created.first().waitFor({ timeout: 10000 });
  assert(await created.first().getByRole('link', { name: pveName }).getAttribute('href') === '/providers', 'the account links to Providers');
  assert((await created.first().getByTestId('audit-changes').innerText()).includes('name: — → ' + pveName), 'the created fields are listed');
  await signOut(page);
  await page.getByTestId('landing-sign-in').click();
  await page.getByLabel('Username or e-mail').fill(requesterName);
  await page.getByLabel('Password', { exact: true }).fill(requesterPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor({ timeout: 15000 });
  assert(new URL(page.url()).pathname === '/dashboard', `the requester landed on ${page.url()}`);
});

await test('a requester files a server request through the form', async (page) => {
  await signIn(page, requesterName, requesterPassword);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Requests' }).click();
  await page.getByRole('button', { name: 'New request' }).click();
  await page.getByLabel('Hostname', { exact: true }).fill(hostname);
  await page.getByLabel('Purpose', { exact: true }).fill('shop front end');
  await page.getByText('Estimated cost').filter({ hasText: '€4.59/mo' }).waitFor({ timeout: 10000 });
  await page.getByRole('button', { name: 'Submit request' }).click();
  await page.getByRole('heading', { name: hostname }).waitFor({ timeout: 10000 });
  // Statuses read in one casing; the code stays in data-status.
  await page.locator('main .badge[data-status=pending]', { hasText: /^Pending$/ }).first().waitFor();
  await page.screenshot({ path: `${artifacts}/request-detail.png`, fullPage: true });
});

await test('the admin approves it from the approvals queue', async (page) => {
  await signIn(page, adminUser, adminPassword);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Approvals' }).click();
  const row = page.getByRole('row').filter({ hasText: hostname });
  await row.waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${artifacts}/approvals.png`, fullPage: true });
  await row.getByRole('button', { name: 'Approve' }).click();
  await page.getByText('Nothing waits for your approval').waitFor({ timeout: 10000 });
});

await test('the requester sees the notification and the approved status', async (page) => {
  await signIn(page, requesterName, requesterPassword);
  const bell = page.getByRole('button', { name: /Notifications/ });
  await bell.waitFor({ timeout: 10000 });
  await bell.click();
  const item = page.getByText(`Request approved: ${hostname}`);
  await item.waitFor({ timeout: 15000 });
  await page.screenshot({ path: `${artifacts}/notifications.png` });
  await item.click();
  await page.getByRole('heading', { name: hostname }).waitFor({ timeout: 10000 });
  await page.getByText(AFTER_APPROVAL).first().waitFor({ timeout: 10000 });
});

await test('from Administration an admin sets a team approval policy with auto-approval, adds a webhook and allows a terminal program', async (page) => {
  await signIn(page, adminUser, adminPassword);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Administration' }).click();
  const areas = page.getByTestId('admin-areas');
  await areas.getByText(/of \d+ offered to requesters/).waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${artifacts}/administration.png`, fullPage: true });
  await areas.getByRole('link', { name: 'Review approval policies' }).click();
  const team = page.getByTestId('team-policy').filter({ hasText: `Shop ${requesterName}` });
  await team.getByText('Step 1: any administrator').waitFor({ timeout: 10000 });
  await team.getByRole('button', { name: 'Edit policy' }).click();
  await team.getByText('Auto-approve small requests').click();
  await team.getByLabel('Max vCPU').fill('2');
  await team.getByLabel('Max monthly cost (€)').fill('5');
  await team.getByRole('button', { name: 'Save policy' }).click();
  await team.getByText('Auto-approve up to 2 vCPU and €5.00/month.').waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${artifacts}/policy.png` });

  await page.getByRole('link', { name: '← Administration' }).click();
  await areas.getByRole('link', { name: 'Manage notifications' }).click();
  // This server sends e-mail through the test SMTP server: the page says where to.
  await page.getByTestId('email-channel').getByText('Sent through').waitFor({ timeout: 10000 });
  await page.getByLabel('Name', { exact: true }).fill('ops chat');
  await page.getByLabel('URL', { exact: true }).fill('http://127.0.0.1:9/hook');
  await page.getByLabel('Secret', { exact: true }).fill('an-hmac-secret-of-some-length');
  await page.getByRole('button', { name: 'Add webhook' }).click();
  await page.getByRole('cell', { name: 'ops chat', exact: true }).waitFor({ timeout: 10000 });

  await page.getByRole('link', { name: '← Administration' }).click();
  await areas.getByRole('link', { name: 'Edit the allowed programs' }).click();
  const programs = page.getByTestId('terminal-programs');
  await programs.getByText('git').waitFor({ timeout: 10000 });
  // A path is refused where it was typed; a name is added with Enter and kept after a reload.
  await page.getByLabel('Program to allow').fill('/bin/sh');
  await page.getByLabel('Program to allow').press('Enter');
  await page.getByText('a program name (letters, digits').waitFor();
  await page.getByLabel('Program to allow').fill('npm');
  await page.getByLabel('Program to allow').press('Enter');
  await page.getByTestId('terminal-save').click();
  await page.getByText('Terminal programs saved').waitFor({ timeout: 10000 });
  await page.reload({ waitUntil: 'domcontentloaded' });
  await programs.getByText('npm', { exact: true }).waitFor({ timeout: 15000 });
  const admin = await api('/api/auth/login', { method: 'POST', body: { login: adminUser, password: adminPassword } });
  const saved = await api('/api/terminal/settings', { token: admin.access_token });
  assert(saved.allowed_commands.includes('npm') && !saved.allowed_commands.includes('/bin/sh'), `saved ${JSON.stringify(saved)}`);

  await page.getByRole('link', { name: '← Administration' }).click();
  await areas.getByRole('link', { name: 'See the security settings' }).click();
  // The network policy this server was started with (PROVISIO_NETWORK_ALLOWLIST in test.sh).
  await page.getByTestId('security-network').getByText(/127\.0\.0\.0\/8, ::1(?!\/)/).first().waitFor({ timeout: 10000 });
  // User code runs in bubblewrap (the default PROVISIO_SANDBOX; setup.sh installs it).
  await page.getByTestId('security-sandbox').getByText(/in a bubblewrap sandbox/).waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${artifacts}/admin-security.png`, fullPage: true });
});

await test('with the new policy a small request is approved at once', async (page) => {
  await signIn(page, requesterName, requesterPassword);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Requests' }).click();
  await page.getByRole('button', { name: 'New request' }).click();
  await page.getByLabel('Hostname', { exact: true }).fill(`${hostname}-auto`);
  await page.getByLabel('Purpose', { exact: true }).fill('small cheap box');
  await page.getByRole('button', { name: 'Submit request' }).click();
  await page.getByRole('heading', { name: `${hostname}-auto` }).waitFor({ timeout: 10000 });
  await page.getByText(AFTER_APPROVAL).first().waitFor({ timeout: 10000 });
});


await test('a Proxmox account with a wrong token is saved but not offered to requesters', async (page) => {
  const admin = await api('/api/auth/login', { method: 'POST', body: { login: adminUser, password: adminPassword } });
  const wrong = `PVE wrong ${requesterName}`;
  await api('/api/provider-accounts', { token: admin.access_token, method: 'POST', body: {
    name: wrong, kind: 'proxmox', endpoint: fakes.pveUrl,
    catalog: { currency: 'EUR', locations: [fakes.pveNode], images: ['debian-12'],
      custom_limits: { max_cpu: 2, max_ram_mb: 2048, max_disk_gb: 20 } },
    settings: { images: { 'debian-12': fakes.pveTemplate } },
    credentials: { api_token: 'root@pam!ci=00000000-0000-0000-0000-000000000000' } } });
  await signIn(page, adminUser, adminPassword);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Providers' }).click();
  const card = page.locator(`[data-testid=provider-card][data-name="${wrong}"]`);
  await card.getByTestId('provider-not-ready').filter({ hasText: 'its last connection test failed' }).waitFor({ timeout: 10000 });
  const requester = await api('/api/auth/login', { method: 'POST', body: { login: requesterName, password: requesterPassword } });
  const offered = await api('/api/provider-accounts', { token: requester.access_token });
  assert(!offered.some((a) => a.name === wrong), `offered to requesters: ${offered.map((a) => a.name)}`);
  assert(offered.some((a) => a.name === pveName), 'the working account is offered');
});

await test('an approved request shows its provisioning steps live and lands in the inventory with its IP', async (page) => {
  const admin = await api('/api/auth/login', { method: 'POST', body: { login: adminUser, password: adminPassword } });
  const requester = await api('/api/auth/login', { method: 'POST', body: { login: requesterName, password: requesterPassword } });
  const accounts = await api('/api/provider-accounts', { token: admin.access_token });
  const account = accounts.find((a) => a.name === pveName);
  assert(account, 'the Proxmox account from the previous test exists');
  const teams = await api('/api/teams?per_page=200', { token: admin.access_token });
  const team = teams.items.find((t) => t.name === `Shop ${requesterName}`);
  // 4 vCPU is over the team's auto-approval limit: a person approves it.
  const filed = await api('/api/requests', { token: requester.access_token, method: 'POST', body: {
    hostname: vmName, team_id: team.id, provider_account_id: account.id, location: fakes.pveNode,
    cpu: 4, ram_mb: 2048, disk_gb: 10, image: 'debian12-cloudinit', purpose: 'live progress' } });
  const id = filed.request.id;

  await signIn(page, adminUser, adminPassword);
  await page.goto(`${base}/requests/${id}`, { waitUntil: 'domcontentloaded' });
  await page.getByRole('heading', { name: vmName }).waitFor({ timeout: 15000 });
  // Before Approve can be clicked, the cluster confirms it has what the request needs.
  await page.getByTestId('preflight-ok').waitFor({ timeout: 15000 });
  await page.getByRole('button', { name: 'Approve', exact: true }).click();
  // The tracker moves while we watch: some step is current before all are done.
  await page.locator('[data-testid=step][data-state=current]').first().waitFor({ timeout: 20000 });
  await page.locator('[data-testid=log-line]').first().waitFor({ timeout: 20000 });
  await page.screenshot({ path: `${artifacts}/provisioning-live.png`, fullPage: true });
  await page.locator('[data-testid=log-line][data-stream=step]', { hasText: 'deployed' }).waitFor({ timeout: 60000 });
  await page.locator('main .badge[data-status=deployed]', { hasText: /^Deployed$/ }).first().waitFor({ timeout: 20000 });
  assert(await page.locator('[data-testid=step][data-state=failed]').count() === 0, 'a step failed');
  assert(await page.locator('[data-testid=log-line]', { hasText: 'waiting for SSH' }).count() > 0, 'the SSH wait is logged');
  await page.screenshot({ path: `${artifacts}/provisioning-done.png`, fullPage: true });

  await page.getByTestId('view-server').click();
  await page.getByTestId('server-ipv4').first().filter({ hasText: '127.0.0.1' }).waitFor({ timeout: 15000 });
  await page.getByTestId('server-host-key').filter({ hasText: 'SHA256:' }).waitFor({ timeout: 10000 });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Servers' }).click();
  const row = page.locator('[data-testid=server-row]', { hasText: vmName });
  await row.waitFor({ timeout: 15000 });
  assert((await row.getByTestId('server-ipv4').innerText()).includes('127.0.0.1'), 'the inventory shows the IP');
  await page.screenshot({ path: `${artifacts}/servers.png`, fullPage: true });
});

// --- Ansible: a technical agent edits a script, runs it on two hosts and follows the run.

// The two sshd test hosts (scripts/sshd.sh) as registered servers of `teamId`, logged into with
// the test client key through an "existing SSH hosts" account.
async function registerTestHosts({ token, teamId, names }) {
  const ports = [process.env.PROVISIO_TEST_SSH_PORT, process.env.PROVISIO_TEST_SSH_PORT_B];
  assert(ports.every(Boolean) && process.env.PROVISIO_TEST_SSH_CLIENT_KEY, 'the sshd test hosts are not running');
  const existing = await api('/api/servers?per_page=200', { token });
  if (names.every((n) => existing.items.some((s) => s.name === n))) return;
  const account = await api('/api/provider-accounts', { token, method: 'POST', body: {
    name: 'E2E lab hosts', kind: 'ssh', endpoint: '',
    catalog: { currency: 'EUR', locations: [], images: [] },
    credentials: { private_key: readFileSync(process.env.PROVISIO_TEST_SSH_CLIENT_KEY, 'utf8') } } });
  for (const [i, name] of names.entries()) {
    await api('/api/servers/register', { token, method: 'POST', body: {
      name, team_id: teamId, provider_account_id: account.id, address: '127.0.0.1', port: Number(ports[i]), user: 'root' } });
  }
}
const touchScript = 'e2e-touch';
const touchHosts = ['e2e-host-a', 'e2e-host-b'];
const touchPlaybook = `- name: Touch a marker file
  hosts: all
  gather_facts: false
  tasks:
    - name: Write the marker
      ansible.builtin.copy:
        dest: /tmp/provisio-e2e-touch-{{ inventory_hostname }}
        content: "{{ message }}\\n"
`;

await test('a technical agent edits a script, runs it on two hosts and sees the recap', async (page) => {
  const admin = await api('/api/auth/login', { method: 'POST', body: { login: adminUser, password: adminPassword } });
  // The technical agent created above belongs to the Global team: the hosts and the script live there.
  const teams = await api('/api/teams?per_page=200', { token: admin.access_token });
  const global = teams.items.find((t) => t.is_global);
  assert(global, 'the Global team exists');
  await registerTestHosts({ token: admin.access_token, teamId: global.id, names: touchHosts });
  // A fresh script each time, so that the edit below makes version 2.
  const existing = await api(`/api/scripts?q=${touchScript}&per_page=200`, { token: admin.access_token });
  for (const s of existing.items.filter((s) => s.name === touchScript)) {
    await api(`/api/scripts/${s.id}`, { token: admin.access_token, method: 'DELETE' });
  }
  await api('/api/scripts', { token: admin.access_token, method: 'POST', body: {
    name: touchScript, description: 'Writes a marker file (browser test)', content: touchPlaybook, team_id: global.id,
    variables: [{ name: 'message', kind: 'string', required: true, default: 'hello', description: 'What the file says' }] } });

  await signIn(page, newUser, newPassword);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Scripts' }).click();
  await page.getByLabel('Search scripts').fill(touchScript);
  await page.locator(`[data-testid=script-row][data-name="${touchScript}"]`).getByRole('link', { name: touchScript, exact: true }).click();
  const editor = page.getByTestId('script-content');
  await editor.waitFor({ timeout: 10000 });
  await page.locator('[data-testid=script-version][data-version="1"]').waitFor({ timeout: 10000 });
  const content = await editor.inputValue();
  assert(content.includes('name: Write the marker'), 'the editor shows the stored playbook');
  await editor.fill(content.replace('name: Write the marker', 'name: Write the e2e marker'));
  await page.getByTestId('script-save').click();
  await page.locator('[data-testid=script-version][data-version="2"]').waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${artifacts}/script-editor.png`, fullPage: true });

  await page.getByTestId('script-run').click();
  for (const host of touchHosts) await page.getByTestId(`run-server-${host}`).check();
  for (const host of touchHosts) rmSync(`/tmp/provisio-e2e-touch-${host}`, { force: true });
  await page.getByTestId('run-var-message').fill('hello from the browser');
  await page.getByTestId('run-submit').click();
  await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/, { timeout: 10000 });
  await page.getByTestId('log-panel').locator('[data-testid=log-line]').first().waitFor({ timeout: 30000 });
  await page.screenshot({ path: `${artifacts}/run-live.png`, fullPage: true });
  await page.getByTestId('run-status').filter({ hasText: 'Succeeded' }).waitFor({ timeout: 120000 });
  for (const host of touchHosts) {
    const row = page.getByTestId(`recap-row-${host}`);
    await row.waitFor({ timeout: 15000 });
    const failed = (await row.getByTestId('recap-failed').innerText()).trim();
    assert(failed === '0', `${host} failed ${failed} task(s)`);
  }
  assert(await page.locator('[data-testid=log-line]', { hasText: 'Write the e2e marker' }).count() > 0,
    'the log shows the edited task');
  for (const host of touchHosts) {
    const written = readFileSync(`/tmp/provisio-e2e-touch-${host}`, 'utf8');
    assert(written === 'hello from the browser\n', `${host} got ${JSON.stringify(written)}`);
  }
  await page.screenshot({ path: `${artifacts}/run-done.png`, fullPage: true });
});

// --- Deployments: a Flask app from a project onto a registered host, behind nginx.

// git with argv only (no shell), in `cwd`.
function git(cwd, args) {
  return execFileSync('git', ['-c', 'user.name=E2E', '-c', 'user.email=e2e@example.com', ...args],
    { cwd, encoding: 'utf8' }).trim();
}
// Whether nothing listens on 127.0.0.1:`port`.
function portFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
// A public port for nginx whose app port (10000 above it) is free too.
async function freeDeployPort() {
  for (let i = 0; i < 200; i++) {
    const port = 28100 + Math.floor(Math.random() * 800);
    if (await portFree(port) && await portFree(port + 10000)) return port;
  }
  throw new Error('no free port pair for the app');
}
// Polls `check` every 500 ms until it returns something truthy, for at most `ms`.
async function eventually(what, ms, check) {
  const until = Date.now() + ms;
  for (;;) {
    const got = await check();
    if (got) return got;
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
const flaskGreeting = `hello from the e2e flask app ${Date.now().toString(36)}`;
const flaskApp = `from flask import Flask
app = Flask(__name__)


@app.get('/')
def index():
    return '${flaskGreeting}'
`;
// A bare repository `name` under `root` whose main branch holds the e2e Flask app; its path.
function flaskRepository(root, name) {
  const bare = join(root, name);
  const work = join(root, `${name}-work`);
  mkdirSync(work);
  git(root, ['init', '-q', '--bare', '-b', 'main', name]);
  git(work, ['init', '-q', '-b', 'main']);
  writeFileSync(join(work, 'app.py'), flaskApp);
  writeFileSync(join(work, 'requirements.txt'), 'Flask>=3\n');
  git(work, ['add', '.']);
  git(work, ['commit', '-q', '-m', 'A Flask app']);
  git(work, ['remote', 'add', 'origin', bare]);
  git(work, ['push', '-q', 'origin', 'main']);
  return bare;
}

await test('a technical agent deploys a Flask app from the deploy form, watches it reach Running, opens it and deletes it', async (page) => {
  const admin = await api('/api/auth/login', { method: 'POST', body: { login: adminUser, password: adminPassword } });
  // The technical agent belongs to the Global team: the host and the project live there.
  const teams = await api('/api/teams?per_page=200', { token: admin.access_token });
  const global = teams.items.find((t) => t.is_global);
  assert(global, 'the Global team exists');
  await registerTestHosts({ token: admin.access_token, teamId: global.id, names: touchHosts });
  const servers = await api('/api/servers?per_page=200', { token: admin.access_token });
  const host = servers.items.find((s) => s.name === touchHosts[0]);
  assert(host, `${touchHosts[0]} is registered`);

  // A bare repository with the app, cloned by Provisio over SSH from the test host.
  const root = mkdtempSync(join(tmpdir(), 'provisio-e2e-deploy-'));
  try {
    const bare = flaskRepository(root, 'app.git');
    const suffix = Date.now().toString(36);
    const created = await api('/api/projects', { token: admin.access_token, method: 'POST', body: {
      name: `e2e-flask-${suffix}`, url: `ssh://root@127.0.0.1:${process.env.PROVISIO_TEST_SSH_PORT}${bare}`,
      team_id: global.id, deploy_key: readFileSync(process.env.PROVISIO_TEST_SSH_CLIENT_KEY, 'utf8') } });
    const projectId = created.project.id;
    await eventually('the project is cloned', 60000, async () => {
      const { project } = await api(`/api/projects/${projectId}`, { token: admin.access_token });
      assert(project.status !== 'error', `the clone failed: ${project.error}`);
      return project.status === 'ready';
    });

    const name = `flask-${suffix}`;
    const port = await freeDeployPort();
    // From the project's page: its Deploy button opens /deploy with the project chosen.
    await signIn(page, newUser, newPassword);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('link', { name: `e2e-flask-${suffix}`, exact: true }).click();
    // Its terminal first: git in the sandbox reaches the repository's host through the session's
    // proxy (the sandbox has no network of its own) and shows the checkout's history.
    await page.getByTestId('project-terminal').click();
    await page.locator('[data-testid=terminal][data-state=ready]').waitFor({ timeout: 15000 });
    const terminalOutput = page.getByTestId('terminal-output');
    for (const [line, expected] of [['git fetch origin', '[exit 0]'], ['git log --format=%s -1', 'A Flask app']]) {
      const before = (await terminalOutput.innerText()).split(expected).length;
      await page.getByTestId('terminal-command').fill(line);
      await page.getByTestId('terminal-command').press('Enter');
      await eventually(`the terminal shows ${expected} after ${line}`, 30000, async () =>
        (await terminalOutput.innerText()).split(expected).length > before);
    }
    assert(!(await terminalOutput.innerText()).includes('[exit 1'), 'no command failed in the terminal');
    await page.screenshot({ path: `${artifacts}/terminal-git.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    const terminalSideways = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert(!terminalSideways, 'the terminal page does not scroll sideways on a phone');
    await page.screenshot({ path: `${artifacts}/terminal-phone.png`, fullPage: true });
    await page.setViewportSize({ width: 1360, height: 860 });
    await page.getByTestId('terminal-back').click();
    await page.getByTestId('project-deploy').click();
    await page.waitForURL(new RegExp(`/deploy\\?project=${projectId}$`), { timeout: 10000 });
    const form = page.getByTestId('deploy-form');
    await form.waitFor({ timeout: 10000 });
    await page.locator('#deploy-name').fill(name);
    // The selects fill as their data loads: pick once the option is there.
    await page.locator(`#deploy-project option[value="${projectId}"]`).waitFor({ state: 'attached', timeout: 10000 });
    assert(await page.locator('#deploy-project').inputValue() === projectId, 'the project is chosen already');
    await page.locator('#deploy-framework option[value="flask"]').waitFor({ state: 'attached', timeout: 10000 });
    await page.locator('#deploy-framework').selectOption('flask');
    await page.locator(`#deploy-server option[value="${host.id}"]`).waitFor({ state: 'attached', timeout: 10000 });
    await page.locator('#deploy-server').selectOption(host.id);
    await page.locator('#deploy-port').fill(String(port));
    await page.screenshot({ path: `${artifacts}/deploy-form.png`, fullPage: true });
    await form.getByRole('button', { name: 'Deploy', exact: true }).click();

    await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/, { timeout: 10000 });
    await page.getByRole('heading', { name, exact: true }).waitFor({ timeout: 10000 });
    const status = page.locator('.status');
    const logLines = page.getByTestId('log-panel').first().locator('[data-testid=log-line]');
    await logLines.first().waitFor({ timeout: 60000 });
    await page.screenshot({ path: `${artifacts}/deployment-live.png`, fullPage: true });
    await status.filter({ hasText: /^Running$/ }).waitFor({ timeout: 180000 });
    assert(await logLines.count() > 0, 'the live log shows the lines of the deploy');
    assert(await page.locator('[data-testid=step][data-state=done]').count() === 5, 'every pipeline step is done');
    await page.screenshot({ path: `${artifacts}/deployment-running.png`, fullPage: true });

    const open = page.getByTestId('deployment-open');
    const url = await open.getAttribute('href');
    assert(url === `http://127.0.0.1:${port}/`, `the app is at ${url}`);
    const [app] = await Promise.all([page.context().waitForEvent('page'), open.click()]);
    await app.waitForLoadState('domcontentloaded');
    await app.getByText(flaskGreeting).waitFor({ timeout: 15000 });
    await app.close();

    await page.getByTestId('deployment-delete').click();
    await page.getByRole('button', { name: 'Delete deployment' }).click();
    await status.filter({ hasText: /^Deleted$/ }).waitFor({ timeout: 60000 });
    await page.screenshot({ path: `${artifacts}/deployment-deleted.png`, fullPage: true });
    const answered = await fetch(url, { signal: AbortSignal.timeout(5000) }).then(() => true, () => false);
    assert(!answered, `${url} still answers after the deletion`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

await test('a technical agent chooses a new VM in the deploy form, sees its cost, and the deployment waits for its server request', async (page) => {
  const admin = await api('/api/auth/login', { method: 'POST', body: { login: adminUser, password: adminPassword } });
  const accounts = await api('/api/provider-accounts', { token: admin.access_token });
  const account = accounts.find((a) => a.name === pveName);
  assert(account, 'the Proxmox account from the provider test exists');
  await signIn(page, newUser, newPassword);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Deployments' }).click();
  await page.getByRole('button', { name: 'Deploy an app' }).click();
  const form = page.getByTestId('deploy-form');
  await form.waitFor({ timeout: 10000 });
  // No name: the repository's. The URL is only checked against the network policy here.
  await page.locator('#deploy-git-url').fill(`ssh://git@127.0.0.1:${fakes.sshPort}/srv/new-vm-app.git`);
  await page.locator('#deploy-target').selectOption('vm');
  await page.locator(`#deploy-account option[value="${account.id}"]`).waitFor({ state: 'attached', timeout: 10000 });
  await page.locator('#deploy-account').selectOption(account.id);
  await page.locator('#deploy-image option[value="debian12-cloudinit"]').waitFor({ state: 'attached', timeout: 10000 });
  await page.getByTestId('deploy-cpu').fill('2');
  await page.getByTestId('deploy-ram').fill('2048');
  await page.getByTestId('deploy-disk').fill('20');
  const estimate = await page.getByTestId('deploy-estimate').innerText();
  assert(/a month|no prices/.test(estimate), `the cost is estimated: ${estimate}`);
  await page.screenshot({ path: `${artifacts}/deploy-new-vm.png`, fullPage: true });
  await form.getByRole('button', { name: 'Deploy', exact: true }).click();
  await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/, { timeout: 10000 });
  const id = page.url().split('/').pop();
  await page.getByRole('heading', { name: 'new-vm-app', exact: true }).waitFor({ timeout: 10000 });
  const guest = await page.getByTestId('deployment-guest').innerText();
  assert(guest.startsWith('VM · 2 cores, 2048 MB, 20 GB'), `the guest is described: ${guest}`);
  const deployment = await api(`/api/deployments/${id}`, { token: admin.access_token });
  assert(deployment.request_id, 'a server request was filed for the new VM');
  // It waits for its server request (unless the team's policy approved it at once) and offers
  // the generated private key, once.
  if (deployment.status === 'PENDING') {
    // The approvers are named once the server request's policy has loaded.
    const waiting = page.getByTestId('deployment-waiting');
    await waiting.getByText(/^Waiting for approval by /).waitFor({ timeout: 10000 })
      .catch(async () => assert(false, `the wait is explained: ${await waiting.innerText()}`));
  }
  assert(deployment.private_key_available, 'a key pair was generated for the new VM');
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 10000 }),
    page.getByTestId('deployment-key-download').click(),
  ]);
  const keyFile = await download.path();
  assert(readFileSync(keyFile, 'utf8').startsWith('-----BEGIN OPENSSH PRIVATE KEY-----'), 'the download is the private key');
  await page.getByTestId('deployment-key-download').waitFor({ state: 'detached', timeout: 10000 });
  await page.screenshot({ path: `${artifacts}/deploy-new-vm-waiting.png`, fullPage: true });
  // Deleted while it waits (the request may already be approved by the team's policy: then the
  // deployment follows it and is no longer PENDING, and the request is left to run).
  if (deployment.status === 'PENDING') {
    const res = await fetch(`${base}/api/deployments/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin.access_token}` } });
    assert(res.status === 202, `DELETE answered ${res.status}`);
    const request = await api(`/api/requests/${deployment.request_id}`, { token: admin.access_token });
    assert(request.request.status === 'cancelled', `the request was cancelled: ${request.request.status}`);
  }
});

await test('from a project page a technical agent deploys onto a new VM at the Proxmox fake, watches it built and deployed, opens the app, and deleting it removes the VM', async (page) => {
  const admin = await api('/api/auth/login', { method: 'POST', body: { login: adminUser, password: adminPassword } });
  const accounts = await api('/api/provider-accounts', { token: admin.access_token });
  const account = accounts.find((a) => a.name === pveName);
  assert(account, 'the Proxmox account from the provider test exists');
  const teams = await api('/api/teams?per_page=200', { token: admin.access_token });
  const global = teams.items.find((t) => t.is_global);
  // The guest is the sshd test host: Provisio logs in to it with its service key, which cloud-init
  // would have put there; the test host takes it from its authorized_keys file.
  const keys = await api('/api/ssh-keys', { token: admin.access_token });
  const service = keys.find((k) => k.service);
  const authorized = join(dirname(process.env.PROVISIO_TEST_SSH_CLIENT_KEY), 'authorized_keys');
  if (!readFileSync(authorized, 'utf8').includes(service.public_key.trim())) {
    appendFileSync(authorized, `${service.public_key.trim()}\n`);
  }
  const root = mkdtempSync(join(tmpdir(), 'provisio-e2e-vm-'));
  try {
    const bare = flaskRepository(root, 'vm-app.git');
    const suffix = Date.now().toString(36);
    const projectName = `e2e-vm-${suffix}`;
    const created = await api('/api/projects', { token: admin.access_token, method: 'POST', body: {
      name: projectName, url: `ssh://root@127.0.0.1:${process.env.PROVISIO_TEST_SSH_PORT}${bare}`,
      team_id: global.id, deploy_key: readFileSync(process.env.PROVISIO_TEST_SSH_CLIENT_KEY, 'utf8') } });
    const projectId = created.project.id;

    await signIn(page, newUser, newPassword);
    await page.goto(`${base}/projects/${projectId}`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('project-deploy').click();
    const form = page.getByTestId('deploy-form');
    await form.waitFor({ timeout: 10000 });
    const name = `vm-${suffix}`;
    await page.locator('#deploy-name').fill(name);
    await page.locator('#deploy-framework option[value="flask"]').waitFor({ state: 'attached', timeout: 10000 });
    await page.locator('#deploy-framework').selectOption('flask');
    await page.locator('#deploy-target').selectOption('vm');
    await page.locator(`#deploy-account option[value="${account.id}"]`).waitFor({ state: 'attached', timeout: 10000 });
    await page.locator('#deploy-account').selectOption(account.id);
    await page.locator('#deploy-image option[value="debian12-cloudinit"]').waitFor({ state: 'attached', timeout: 10000 });
    await page.getByTestId('deploy-cpu').fill('2');
    await page.getByTestId('deploy-ram').fill('2048');
    await page.getByTestId('deploy-disk').fill('20');
    await form.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/, { timeout: 10000 });
    const id = page.url().split('/').pop();
    const deployment = await api(`/api/deployments/${id}`, { token: admin.access_token });
    if (deployment.status === 'PENDING') {
      await api(`/api/requests/${deployment.request_id}/approve`, { token: admin.access_token, method: 'POST', body: {} });
    }
    // One tracker: the server is built (at the fake that takes a second or two), then the app is
    // deployed with its live log.
    await page.getByTestId('log-panel').first().locator('[data-testid=log-line]').first().waitFor({ timeout: 60000 });
    await page.screenshot({ path: `${artifacts}/deploy-new-vm-live.png`, fullPage: true });
    const status = page.locator('.status');
    await status.filter({ hasText: /^Running$/ }).waitFor({ timeout: 240000 });
    assert(await page.locator('[data-testid=step][data-state=done]').count() === 5, 'every pipeline stage is done');
    const guest = await page.getByTestId('deployment-guest').innerText();
    assert(/^VM · 2 cores, 2048 MB, 20 GB · [0-9.]+ · VM id \d+$/.test(guest), `the guest shows its address and VM id: ${guest}`);
    await page.screenshot({ path: `${artifacts}/deploy-new-vm-running.png`, fullPage: true });
    // The server's provisioning is one of the deployment's steps, its log one click away.
    const built = page.getByTestId('deployment-step').filter({ hasText: 'Build the server' });
    await built.getByRole('button', { name: 'View log' }).click();
    await page.getByTestId('log-panel').last().getByText(/deployed|SSH/).first().waitFor({ timeout: 10000 });
    await page.screenshot({ path: `${artifacts}/deploy-new-vm-provisioning-log.png`, fullPage: true });
    const open = page.getByTestId('deployment-open');
    const [app] = await Promise.all([page.context().waitForEvent('page'), open.click()]);
    await app.waitForLoadState('domcontentloaded');
    await app.getByText(flaskGreeting).waitFor({ timeout: 15000 });
    await app.close();

    const running = await api(`/api/deployments/${id}`, { token: admin.access_token });
    const vms = async () => {
      const res = await fetch(`${fakes.pveUrl}/cluster/resources?type=vm`, { headers: { authorization: `PVEAPIToken=${fakes.pveToken}` } });
      return (await res.json()).data.map((g) => g.vmid);
    };
    assert((await vms()).includes(running.vmid), `VM ${running.vmid} is at the fake`);
    await page.getByTestId('deployment-delete').click();
    await page.getByRole('button', { name: 'Delete deployment' }).click();
    await status.filter({ hasText: /^Deleted$/ }).waitFor({ timeout: 60000 });
    await eventually(`VM ${running.vmid} is removed at the fake`, 60000, async () => !(await vms()).includes(running.vmid));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// --- Clients and revenue: a sales agent signs a client up and sees the revenue follow.

const salesName = `sales${Date.now().toString(36)}`;
const salesPassword = 'sales-password-42';
// A date `days` from now as the API counts days (UTC), for the date inputs.
const utcDay = (days) => new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);
// The EUR amount in `text` (`EUR 1,049.90`) in cents; 0 when there is none.
function eurCents(text) {
  const m = text.match(/EUR ([\d,]+)\.(\d\d)/);
  return m ? Number(m[1].replace(/,/g, '')) * 100 + Number(m[2]) : 0;
}

await test('a sales agent creates a client and a subscription and sees MRR change on the chart', async (page) => {
  const admin = await api('/api/auth/login', { method: 'POST', body: { login: adminUser, password: adminPassword } });
  const team = await api('/api/teams', { token: admin.access_token, method: 'POST', body: { name: `Sales ${salesName}` } });
  await api('/api/users', { token: admin.access_token, method: 'POST', body: {
    username: salesName, email: `${salesName}@example.com`, full_name: 'Sam Sales',
    password: salesPassword, roles: ['sales_agent'], team_ids: [team.id] } });
  const company = `Acme ${salesName}`;
  const plan = 'Shop hosting S';
  const thisMonth = utcDay(0).slice(0, 7);

  await signIn(page, salesName, salesPassword);
  const labels = await navLabels(page);
  assert(sameList(labels, NAV.sales_agent), `sales nav was ${JSON.stringify(labels)}`);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Revenue' }).click();
  const mrr = page.getByTestId('mrr');
  await mrr.waitFor({ timeout: 10000 });
  const before = eurCents(await mrr.innerText());

  await nav.getByRole('link', { name: 'Clients' }).click();
  await page.getByRole('heading', { name: 'Clients' }).waitFor({ timeout: 10000 });
  await page.getByRole('button', { name: 'New client' }).click();
  const clientForm = page.getByTestId('client-form');
  await clientForm.waitFor({ timeout: 10000 });
  await page.locator('#client-company').fill(company);
  await page.locator(`#client-team option[value="${team.id}"]`).waitFor({ state: 'attached', timeout: 10000 });
  await page.locator('#client-team').selectOption(team.id);
  await page.locator('#client-email').fill(`billing@${salesName}.example.com`);
  await clientForm.getByRole('button', { name: 'Add contact' }).click();
  await clientForm.getByLabel('Name 1').fill('Carla Contact');
  await clientForm.getByLabel('E-mail 1').fill(`carla@${salesName}.example.com`);
  await page.screenshot({ path: `${artifacts}/client-form.png`, fullPage: true });
  await clientForm.getByRole('button', { name: 'Create client' }).click();
  const row = page.locator(`[data-testid=client-row][data-company="${company}"]`);
  await row.waitFor({ timeout: 10000 });
  await row.getByRole('link', { name: company }).click();
  await page.getByRole('heading', { name: company }).waitFor({ timeout: 10000 });
  await page.getByText('Carla Contact').waitFor({ timeout: 10000 });

  await page.getByRole('button', { name: 'New subscription' }).click();
  const subForm = page.getByTestId('subscription-form');
  await subForm.waitFor({ timeout: 10000 });
  await page.locator('#sub-plan').fill(plan);
  await page.locator('#sub-price').fill('49.90');
  await page.locator('#sub-currency').selectOption('EUR');
  await page.locator('#sub-period').selectOption('1');
  await page.locator('#sub-start').fill(utcDay(0));
  await page.locator('#sub-end').fill(utcDay(30));
  await page.screenshot({ path: `${artifacts}/subscription-form.png`, fullPage: true });
  await subForm.getByRole('button', { name: 'Create subscription' }).click();
  const subRow = page.locator(`[data-testid=subscription-row][data-plan="${plan}"]`);
  await subRow.waitFor({ timeout: 10000 });
  const price = (await subRow.getByTestId('subscription-price').innerText()).trim();
  assert(price === 'EUR 49.90', `the subscription costs ${price}`);
  assert((await subRow.getByTestId('subscription-status').innerText()).trim() === 'Active', 'the subscription is active');
  await page.screenshot({ path: `${artifacts}/client-detail.png`, fullPage: true });

  await nav.getByRole('link', { name: 'Revenue' }).click();
  await eventually('the MRR grows by EUR 49.90', 10000, async () => eurCents(await mrr.innerText()) === before + 4990);
  const bar = page.locator(`[data-testid=revenue-chart] [data-testid=bar][data-key="${thisMonth}"]`);
  await bar.waitFor({ state: 'attached', timeout: 10000 });
  const value = Number(await bar.getAttribute('data-value'));
  assert(value > 0, `the bar of ${thisMonth} is ${value}`);
  // Each column says its value, and the axis its scale.
  assert(/EUR [\d,]+\.\d\d/.test(await bar.getByTestId('bar-value').textContent()), 'the column shows its value');
  assert((await page.locator('[data-testid=revenue-chart] .chart-axis').count()) === 2, 'the chart has a value axis');
  await page.screenshot({ path: `${artifacts}/revenue.png`, fullPage: true });

  // The margins table leads to the subscription, whose history starts with its creation.
  await page.getByTestId('revenue-margins').getByRole('link', { name: plan }).click();
  await page.getByRole('heading', { name: plan }).waitFor({ timeout: 10000 });
  await page.locator('[data-testid=subscription-event][data-kind=created]', { hasText: 'Sam Sales' }).waitFor({ timeout: 10000 });

  // The server it pays for is linked from the subscription's own page, by name (a sales agent
  // has no server pages).
  const hosts = (await api('/api/provider-accounts', { token: admin.access_token })).find((a) => a.name === 'E2E lab hosts');
  assert(hosts, 'the SSH hosts account of the script test exists');
  const billed = `billed-${salesName}`;
  await api('/api/servers/register', { token: admin.access_token, method: 'POST', body: {
    // By name: the host's 127.0.0.1 address is already registered to the script test's team.
    name: billed, team_id: team.id, provider_account_id: hosts.id, address: 'localhost',
    port: Number(process.env.PROVISIO_TEST_SSH_PORT), user: 'root' } });
  await page.reload({ waitUntil: 'domcontentloaded' });
  const links = page.getByTestId('subscription-links');
  await links.getByTestId('link-servers').getByLabel(new RegExp(billed)).check({ timeout: 15000 });
  await links.getByTestId('links-save').click();
  await page.getByTestId('subscription-facts').getByText('1 server', { exact: true }).waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${artifacts}/subscription-links.png`, fullPage: true });
});

await test('a requester asks for storage set up by hand, a technical agent of the team enters its connection, and the requester reveals the key (also at phone width)', async (page) => {
  const admin = await api('/api/auth/login', { method: 'POST', body: { login: adminUser, password: adminPassword } });
  const me = await api('/api/auth/login', { method: 'POST', body: { login: requesterName, password: requesterPassword } });
  const profile = await api('/api/auth/me', { token: me.access_token });
  const fixer = `fixer${Date.now().toString(36)}`;
  await api('/api/users', { token: admin.access_token, method: 'POST', body: {
    username: fixer, email: `${fixer}@example.com`, full_name: 'Frank Fixer', password: requesterPassword,
    roles: ['technical_agent'], team_ids: [profile.teams[0].id] } });
  const name = `media_${Date.now().toString(36)}`;

  await signIn(page, requesterName, requesterPassword);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Resources', exact: true }).click();
  await page.getByRole('heading', { name: 'Resources' }).waitFor({ timeout: 15000 });
  await page.getByTestId('new-resource').click();
  const form = page.getByTestId('resource-form');
  await form.getByLabel('Type', { exact: true }).selectOption('storage-ceph');
  // A type set up by hand asks for no server and no settings.
  assert(await form.getByLabel('Server', { exact: true }).count() === 0, 'a type set up by hand asks for a server');
  await form.getByLabel('Name', { exact: true }).fill('Media Pool');
  await form.getByLabel('Purpose', { exact: true }).fill('product images, about 200 GB');
  await page.getByTestId('resource-submit').click();
  await form.locator('#resource-name-error').waitFor({ timeout: 10000 });
  await form.getByLabel('Name', { exact: true }).fill(name);
  await page.getByTestId('resource-submit').click();
  await page.waitForURL(/\/resources\/[0-9a-f-]{36}$/, { timeout: 15000 });
  await page.locator('[data-status=pending]').first().waitFor({ timeout: 10000 });
  const id = page.url().split('/').pop();
  await api(`/api/resources/${id}/approve`, { token: admin.access_token, method: 'POST', body: {} });
  await signOut(page);

  await signIn(page, fixer, requesterPassword);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Resources', exact: true }).click();
  await page.getByTestId('fulfil-queue').click();
  await page.getByRole('link', { name, exact: true }).click();
  const fulfil = page.getByTestId('fulfil-form');
  await fulfil.getByLabel('Host', { exact: true }).fill('ceph-mon.internal');
  await fulfil.getByLabel('Port', { exact: true }).fill('6789');
  await fulfil.getByLabel('User', { exact: true }).fill('client.media');
  await fulfil.getByLabel('Password or key', { exact: true }).fill('AQBe2e-ceph-key==');
  await page.getByTestId('fulfil-submit').click();
  await page.locator('[data-status=ready]').first().waitFor({ timeout: 10000 });
  await signOut(page);

  await signIn(page, requesterName, requesterPassword);
  await page.goto(`${base}/resources/${id}`, { waitUntil: 'domcontentloaded' });
  await page.getByTestId('resource-reveal').click();
  const secret = page.getByTestId('resource-secret');
  await secret.waitFor({ timeout: 10000 });
  assert(await secret.getByLabel('Password', { exact: true }).inputValue() === 'AQBe2e-ceph-key==', 'the revealed key differs');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(200);
  const sideways = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(sideways <= 0, `the resource page scrolls ${sideways} px sideways at 390 px`);
  await page.screenshot({ path: `${artifacts}/phone-resource-revealed.png`, fullPage: true });
  const reveals = await api(`/api/audit?action=resource.reveal`, { token: admin.access_token });
  assert(reveals.items.some((e) => e.target_id === id), 'the reveal is not in the audit log');
});

await test('a requester asks for a PostgreSQL database on the team\'s server, an administrator approves it on its page, the recipe runs live, and the requester reveals the connection', async (page) => {
  const admin = await api('/api/auth/login', { method: 'POST', body: { login: adminUser, password: adminPassword } });
  const me = await api('/api/auth/login', { method: 'POST', body: { login: requesterName, password: requesterPassword } });
  const profile = await api('/api/auth/me', { token: me.access_token });
  const account = await api('/api/provider-accounts', { token: admin.access_token, method: 'POST', body: {
    name: 'E2E database hosts', kind: 'ssh', endpoint: '',
    catalog: { currency: 'EUR', locations: [], images: [] },
    credentials: { private_key: readFileSync(process.env.PROVISIO_TEST_SSH_CLIENT_KEY, 'utf8') } } });
  await api('/api/servers/register', { token: admin.access_token, method: 'POST', body: {
    name: 'e2e-db-host', team_id: profile.teams[0].id, provider_account_id: account.id,
    address: '127.0.0.1', port: Number(fakes.sshPort), user: 'root' } });
  let port = 0;
  for (let i = 0; i < 200 && !port; i++) {
    const candidate = 47000 + Math.floor(Math.random() * 2000);
    if (await portFree(candidate)) port = candidate;
  }
  // Named after the Rust tests' clusters ("pv…"), so it never sorts before the suite's own "main".
  const cluster = `pve2e${Date.now().toString(36)}`;
  try {
    await signIn(page, requesterName, requesterPassword);
    await page.goto(`${base}/resources`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('new-resource').click();
    const form = page.getByTestId('resource-form');
    await form.getByLabel('Type', { exact: true }).selectOption('db-postgresql');
    await form.getByLabel('Server', { exact: true }).selectOption({ label: 'e2e-db-host' });
    await form.getByLabel('Port', { exact: true }).fill(String(port));
    await form.getByLabel('Cluster', { exact: true }).fill(cluster);
    await form.getByLabel('Name', { exact: true }).fill('orders');
    await form.getByLabel('Purpose', { exact: true }).fill('the shop\'s orders');
    await page.getByTestId('resource-submit').click();
    await page.waitForURL(/\/resources\/[0-9a-f-]{36}$/, { timeout: 15000 });
    await page.locator('[data-status=pending]').first().waitFor({ timeout: 10000 });
    const id = page.url().split('/').pop();
    await signOut(page);

    await signIn(page, adminUser, adminPassword);
    await page.goto(`${base}/resources/${id}`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('resource-approve').click();
    // The recipe's log streams in while it runs, then the page shows it ready.
    await page.getByText('TASK [Create the cluster]').first().waitFor({ timeout: 60000 });
    await page.locator('[data-status=ready]').first().waitFor({ timeout: 90000 });
    await signOut(page);

    await signIn(page, requesterName, requesterPassword);
    await page.goto(`${base}/resources/${id}`, { waitUntil: 'domcontentloaded' });
    const shown = await page.getByTestId('resource-connection').innerText();
    assert(shown === `postgres://orders@127.0.0.1:${port}/orders`, `the page shows ${shown}`);
    await page.getByTestId('resource-reveal').click();
    const full = await page.getByTestId('resource-connection-full').inputValue();
    assert(/^postgres:\/\/orders:[A-Za-z0-9]{32}@127\.0\.0\.1:\d+\/orders$/.test(full), `revealed ${full}`);
    const rows = execFileSync('psql', ['-X', '-q', '-At', full, '-c', 'SELECT 1 + 1'], { encoding: 'utf8' }).trim();
    assert(rows === '2', `psql with the revealed connection answered ${rows}`);
    await page.screenshot({ path: `${artifacts}/resource-postgresql-ready.png`, fullPage: true });
  } finally {
    const version = execFileSync('ls', ['/usr/lib/postgresql'], { encoding: 'utf8' }).trim().split('\n').pop();
    try { execFileSync('pg_dropcluster', ['--stop', version, cluster]); } catch { /* never created */ }
  }
});

await test('a requester asks for a SQLite file on a new server (at phone width), one approval builds both, and the deploy form offers a database with the app', async (page) => {
  const admin = await api('/api/auth/login', { method: 'POST', body: { login: adminUser, password: adminPassword } });
  const accounts = await api('/api/provider-accounts', { token: admin.access_token });
  const account = accounts.find((a) => a.name === pveName);
  assert(account, 'the Proxmox account from the provider test exists');
  const name = `notes_${Date.now().toString(36)}`;
  const hostname = name.replace('_', '-');
  await signIn(page, requesterName, requesterPassword);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/resources`, { waitUntil: 'domcontentloaded' });
  await page.getByTestId('new-resource').click();
  const form = page.getByTestId('resource-form');
  await form.getByLabel('Type', { exact: true }).selectOption('db-sqlite');
  await form.getByLabel('Server', { exact: true }).selectOption('new');
  const fields = page.getByTestId('resource-new-server');
  await fields.waitFor({ timeout: 10000 });
  await page.locator(`#deploy-account option[value="${account.id}"]`).waitFor({ state: 'attached', timeout: 10000 });
  await page.locator('#deploy-account').selectOption(account.id);
  await page.getByTestId('deploy-cpu').fill('1');
  await page.getByTestId('deploy-ram').fill('1024');
  await page.getByTestId('deploy-disk').fill('10');
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Purpose', { exact: true }).fill('the shop\'s notes');
  const sideways = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(sideways <= 0, `the resource form scrolls ${sideways} px sideways at 390 px`);
  await page.screenshot({ path: `${artifacts}/resource-new-server-form.png`, fullPage: true });
  await page.getByTestId('resource-submit').click();
  await page.waitForURL(/\/resources\/[0-9a-f-]{36}$/, { timeout: 15000 });
  const id = page.url().split('/').pop();
  const waiting = await page.getByTestId('resource-server-request').innerText();
  // Pending, unless the team's policy auto-approves a server this small.
  assert(new RegExp(`^${hostname}, a new server \\(request (pending|approved|provisioning)\\)`).test(waiting), `the page names the server request: ${waiting}`);
  await page.screenshot({ path: `${artifacts}/resource-new-server-waiting.png`, fullPage: true });
  await page.setViewportSize({ width: 1360, height: 860 });
  await signOut(page);

  await signIn(page, adminUser, adminPassword);
  await page.goto(`${base}/resources/${id}`, { waitUntil: 'domcontentloaded' });
  await page.getByTestId('resource-approve').click();
  await page.locator('[data-status=ready]').first().waitFor({ timeout: 120000 });
  const details = await page.locator('.details').last().innerText();
  assert(details.includes(hostname), `the resource names its new server: ${details}`);
  await page.screenshot({ path: `${artifacts}/resource-new-server-ready.png`, fullPage: true });
  await api(`/api/resources/${id}/delete`, { token: admin.access_token, method: 'POST', body: { confirm: name, final_backup: false } });
  await signOut(page);

  // The deploy form: a Flask app onto a running server of a team without a PostgreSQL database
  // offers to ask for one; asked, it is ticked to bind and shown as on its way.
  const servers = await api('/api/servers?per_page=200', { token: admin.access_token });
  const host = servers.items.find((s) => s.name === touchHosts[0]);
  assert(host, `${touchHosts[0]} is registered`);
  const existing = await api('/api/resources?per_page=200', { token: admin.access_token });
  const usual = existing.items.filter((r) => r.team.id === host.team.id && r.resource_type.slug === 'db-postgresql'
    && ['ready', 'pending', 'provisioning', 'updating'].includes(r.status));
  assert(usual.length === 0, 'the host\'s team has no PostgreSQL database yet');
  await signIn(page, newUser, newPassword);
  await page.goto(`${base}/deploy`, { waitUntil: 'domcontentloaded' });
  await page.locator('#deploy-framework option[value="flask"]').waitFor({ state: 'attached', timeout: 10000 });
  await page.locator('#deploy-framework').selectOption('flask');
  await page.locator('#deploy-name').fill('shop');
  await page.locator(`#deploy-server option[value="${host.id}"]`).waitFor({ state: 'attached', timeout: 10000 });
  await page.locator('#deploy-server').selectOption(host.id);
  const offer = page.getByTestId('deploy-offer-database');
  await offer.getByText('has no PostgreSQL database yet').waitFor({ timeout: 10000 });
  assert(await page.locator('#deploy-offer-name').inputValue() === 'shop_db', 'the database is named after the app');
  await page.getByTestId('deploy-offer-ask').click();
  const bound = page.getByTestId('deploy-resources').getByLabel(/^shop_db — PostgreSQL \(DATABASE_URL\) · (waiting for approval|being set up)$/);
  await bound.waitFor({ timeout: 10000 });
  assert(await bound.isChecked(), 'the database asked for is ticked to bind');
  await page.screenshot({ path: `${artifacts}/deploy-offer-database.png`, fullPage: true });
  const asked = (await api('/api/resources?per_page=200', { token: admin.access_token })).items.find((r) => r.name === 'shop_db');
  assert(asked && asked.server.id === host.id, 'the database was asked for on the app\'s server');
  await api(`/api/resources/${asked.id}/cancel`, { token: admin.access_token, method: 'POST', body: {} });
});

await test('a user turns on two-factor sign-in from the profile (also at phone width) and signs in with the app\'s code; a role the policy names is sent to set it up', async (page) => {
  const admin = await api('/api/auth/login', { method: 'POST', body: { login: adminUser, password: adminPassword } });
  const name = `otp${Date.now().toString(36)}`;
  const password = 'otp-user-password-42';
  await api('/api/users', { token: admin.access_token, method: 'POST', body: {
    username: name, email: `${name}@example.com`, full_name: 'Otto Two', password, roles: ['requester'] } });
  const totp = (secret, offset = 0) => execFileSync('oathtool',
    ['--totp', '-b', '-N', `@${Math.floor(Date.now() / 1000) + offset}`, secret], { encoding: 'utf8' }).trim();

  await signIn(page, name, password);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/profile`, { waitUntil: 'domcontentloaded' });
  const card = page.getByTestId('two-factor');
  await card.getByTestId('two-factor-start').click();
  const secret = (await card.getByTestId('two-factor-secret').innerText()).trim();
  assert(/^[A-Z2-7]{32}$/.test(secret), `the key is shown for typing: ${secret}`);
  assert(await card.locator('.qr-code svg').count() === 1, 'the QR code is shown');
  await page.screenshot({ path: `${artifacts}/two-factor-setup-phone.png`, fullPage: true });
  const sideways = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(sideways <= 0, `the profile scrolls ${sideways} px sideways at 390 px`);
  await card.getByLabel('Code from the app').fill('000000');
  await card.getByTestId('two-factor-confirm').click();
  await card.locator('#two-factor-code-error').waitFor({ timeout: 10000 });
  await card.getByLabel('Code from the app').fill(totp(secret));
  await card.getByTestId('two-factor-confirm').click();
  const codes = card.getByTestId('recovery-codes').locator('li');
  await codes.first().waitFor({ timeout: 10000 });
  assert(await codes.count() === 10, 'ten recovery codes are shown once');
  await page.screenshot({ path: `${artifacts}/two-factor-recovery-codes.png`, fullPage: true });
  await card.getByRole('button', { name: 'I have saved them' }).click();
  await card.getByTestId('two-factor-status').getByText('10 recovery codes left').waitFor({ timeout: 10000 });
  await page.setViewportSize({ width: 1360, height: 860 });
  await signOut(page);

  // Signing in: the password, then the code the form asks for.
  await page.goto(`${base}/dashboard`, { waitUntil: 'domcontentloaded' });
  await page.getByLabel('Username or e-mail').fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const code = page.getByLabel('Code from your authenticator app');
  await code.waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${artifacts}/two-factor-sign-in.png`, fullPage: true });
  // The set-up used this step's code: the next step's is inside the window.
  await code.fill(totp(secret, 30));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 15000 });
  await signOut(page);

  // The policy names requesters: one without a second factor is sent to set it up.
  await signIn(page, adminUser, adminPassword);
  await page.goto(`${base}/admin/security`, { waitUntil: 'domcontentloaded' });
  const policy = page.getByTestId('two-factor-policy');
  await policy.getByLabel('Requester').check();
  await policy.getByTestId('two-factor-policy-save').click();
  await page.getByText('Two-factor policy saved').waitFor({ timeout: 10000 });
  await signOut(page);
  try {
    await signIn(page, requesterName, requesterPassword);
    await page.getByTestId('must-enrol').getByRole('link', { name: 'Set up two-factor sign-in' }).waitFor({ timeout: 10000 });
    await page.screenshot({ path: `${artifacts}/two-factor-required.png`, fullPage: true });
    await signOut(page);
  } finally {
    await api('/api/two-factor/policy', { token: admin.access_token, method: 'PUT', body: { required_roles: [] } });
  }
});

// The last message aiosmtpd wrote into the Maildir for `address`, its body decoded (lettre sends
// long lines quoted-printable or base64).
function lastMailTo(address) {
  const dir = join(process.env.E2E_MAILDIR ?? '', 'new');
  let files = [];
  try { files = readdirSync(dir).map((f) => join(dir, f)); } catch { return null; }
  const mails = files.map((f) => readFileSync(f, 'utf8'))
    .filter((m) => m.split(/\r?\n/).some((l) => l.trim() === `X-RcptTo: ${address}`));
  if (!mails.length) return null;
  const raw = mails[mails.length - 1].replace(/\r\n/g, '\n');
  const split = raw.indexOf('\n\n');
  const headers = raw.slice(0, split).toLowerCase();
  const body = raw.slice(split + 2);
  if (headers.includes('content-transfer-encoding: base64')) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (headers.includes('content-transfer-encoding: quoted-printable')) {
    return body.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  }
  return body;
}

await test('someone creates their own account on a phone, confirms the address from the e-mail and is let in by an administrator', async (page) => {
  assert(process.env.E2E_MAILDIR, 'E2E_MAILDIR names the SMTP server\'s Maildir');
  const admin = await api('/api/auth/login', { method: 'POST', body: { login: adminUser, password: adminPassword } });
  // Closed on a fresh install: the sign-in page offers no account.
  await page.goto(`${base}/login`, { waitUntil: 'domcontentloaded' });
  await page.getByLabel('Username or e-mail').waitFor({ timeout: 15000 });
  assert(await page.getByTestId('register-link').count() === 0, 'no "Create an account" while registration is closed');

  await signIn(page, adminUser, adminPassword);
  await page.goto(`${base}/admin/security`, { waitUntil: 'domcontentloaded' });
  const card = page.getByTestId('registration-policy');
  await card.getByLabel('Who may register').selectOption('email_and_approval');
  await card.getByLabel('Role of new accounts').selectOption('requester');
  await card.getByTestId('registration-policy-save').click();
  await page.getByText('Registration settings saved').waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${artifacts}/registration-policy.png`, fullPage: true });
  await signOut(page);

  const name = `reg${Date.now().toString(36)}`;
  const email = `${name}@example.com`;
  const password = 'registered-password-42';
  try {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/login`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('register-link').click();
    const form = page.getByTestId('register-form');
    await form.waitFor({ timeout: 10000 });
    await form.getByLabel('Username').fill(name);
    await form.getByLabel('E-mail').fill(email);
    await form.getByLabel('Full name').fill('Rena Gist');
    await form.getByLabel('Password').fill('short');
    await page.getByTestId('register-submit').click();
    await page.locator('#register-password-error').waitFor({ timeout: 10000 });
    await form.getByLabel('Password').fill(password);
    await page.getByTestId('register-submit').click();
    await page.getByTestId('registered').getByText(`We sent a link to ${email}`).waitFor({ timeout: 10000 });
    await page.screenshot({ path: `${artifacts}/registration-phone.png`, fullPage: true });
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(sideways <= 0, `the registration page scrolls ${sideways} px sideways at 390 px`);

    // Signing in before confirming says what to do.
    await page.goto(`${base}/login`, { waitUntil: 'domcontentloaded' });
    await page.getByLabel('Username or e-mail').fill(name);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('confirm your e-mail address first').waitFor({ timeout: 10000 });

    let mail = null;
    for (let i = 0; i < 50 && !mail; i++) {
      mail = lastMailTo(email);
      if (!mail) await page.waitForTimeout(100);
    }
    assert(mail, `an e-mail reached ${email}`);
    const link = mail.match(/http:\/\/\S+\/confirm-email\?token=\S+/);
    assert(link, `the e-mail has the link: ${mail}`);
    await page.goto(link[0], { waitUntil: 'domcontentloaded' });
    await page.getByTestId('email-confirmed').getByText('An administrator now has to let the account in').waitFor({ timeout: 10000 });
    await page.screenshot({ path: `${artifacts}/registration-confirmed-phone.png`, fullPage: true });
    await page.goto(`${base}/login`, { waitUntil: 'domcontentloaded' });
    await page.getByLabel('Username or e-mail').fill(name);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('an administrator has not approved this account yet').waitFor({ timeout: 10000 });

    // The administrator finds it among the accounts waiting and approves it.
    await page.setViewportSize({ width: 1360, height: 860 });
    await signIn(page, adminUser, adminPassword);
    await page.goto(`${base}/users`, { waitUntil: 'domcontentloaded' });
    await page.getByLabel('Status').selectOption('waiting');
    const row = page.getByRole('row').filter({ hasText: name });
    await row.getByText('Waiting for approval').waitFor({ timeout: 10000 });
    await page.screenshot({ path: `${artifacts}/registration-waiting.png`, fullPage: true });
    await row.getByTestId('approve-user').click();
    await page.getByText(`${name} is approved and can sign in`).waitFor({ timeout: 10000 });
    await signOut(page);

    await signIn(page, name, password);
    const labels = await navLabels(page);
    assert(labels.includes('Requests') && !labels.includes('Users'), `a requester's navigation: ${labels}`);
    await signOut(page);
  } finally {
    await api('/api/registration/policy', { token: admin.access_token, method: 'PUT', body: { mode: 'off', role: 'requester' } });
  }
});

// Every page of a role's navigation at phone and desktop width: no sideways scroll, the page's
// header actions on screen (measured, not looked at).
async function walkEveryPage(page, login, password, shotPrefix) {
  await signIn(page, login, password);
  const labels = await navLabels(page);
  const problems = [];
  for (const [width, height] of [[390, 844], [1360, 860]]) {
    await page.setViewportSize({ width, height });
    for (const label of labels) {
      const nav = page.getByRole('navigation', { name: 'Main' });
      const menu = page.getByRole('button', { name: 'Menu', exact: true });
      if (width < 900) {
        // Folded behind the menu button on a phone; the button opens it.
        assert(!(await nav.isVisible()), `the navigation is folded at ${width} px`);
        await menu.click();
      } else {
        assert(!(await menu.isVisible()), `no menu button at ${width} px`);
      }
      await nav.getByRole('link', { name: label, exact: true }).click();
      await page.locator('main h1').first().waitFor({ timeout: 15000 });
      // Let the page's data arrive: tables and charts set the width.
      await page.waitForLoadState('networkidle');
      const measured = await page.evaluate(() => ({
        sideways: document.documentElement.scrollWidth - window.innerWidth,
        offscreen: [...document.querySelectorAll('main .page-header .actions :is(a, button)')]
          .filter((el) => el.getClientRects().length)
          .filter((el) => { const r = el.getBoundingClientRect(); return r.right > window.innerWidth + 1 || r.left < -1; })
          .map((el) => el.textContent.trim()),
      }));
      if (measured.sideways > 0) problems.push(`${label} at ${width} px scrolls ${measured.sideways} px sideways`);
      if (measured.offscreen.length) problems.push(`${label} at ${width} px has actions off screen: ${measured.offscreen.join(', ')}`);
      if (width < 900 && shotPrefix) await page.screenshot({ path: `${artifacts}/${shotPrefix}-${label.replace(/\W+/g, '-').toLowerCase()}.png`, fullPage: true });
    }
  }
  // The pages off the sidebar: the account menu's and, for administrators, the areas of the
  // Administration page.
  const extra = ['/profile', '/tokens'].concat(labels.includes('Administration')
    ? ['/admin/policies', '/admin/webhooks', '/admin/terminal', '/admin/security'] : []);
  for (const [width, height] of [[390, 844], [1360, 860]]) {
    await page.setViewportSize({ width, height });
    for (const path of extra) {
      await page.goto(base + path, { waitUntil: 'domcontentloaded' });
      await page.locator('main h1').first().waitFor({ timeout: 15000 });
      await page.waitForLoadState('networkidle');
      const sideways = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (sideways > 0) problems.push(`${path} at ${width} px scrolls ${sideways} px sideways`);
      if (width < 900 && shotPrefix) await page.screenshot({ path: `${artifacts}/${shotPrefix}${path.replace(/\W+/g, '-')}.png`, fullPage: true });
    }
  }
  // The account menu opens from the name at phone width too, and leads to one's account.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('button', { name: 'Your account' }).click();
  await page.locator('#account-menu').getByRole('link', { name: 'API tokens' }).click();
  await page.getByRole('heading', { name: 'API tokens' }).waitFor({ timeout: 15000 });
  await page.setViewportSize({ width: 1360, height: 860 });
  assert(problems.length === 0, problems.join('; '));
  return labels;
}

await test('every page of the admin navigation fits a phone (390 px) and a desktop (1360 px): no sideways scroll, its header actions on screen', async (page) => {
  const labels = await walkEveryPage(page, adminUser, adminPassword, 'phone');
  assert(sameList(labels, NAV.admin), `admin nav was ${JSON.stringify(labels)}`);
});

await test('every page fits a phone and a desktop for a technical agent, a sales agent and a requester too', async (page) => {
  const tech = await walkEveryPage(page, newUser, newPassword, null);
  assert(sameList(tech, NAV.technical_agent), `technical nav was ${JSON.stringify(tech)}`);
  await page.context().clearCookies();
  const sales = await walkEveryPage(page, salesName, salesPassword, null);
  assert(sameList(sales, NAV.sales_agent), `sales nav was ${JSON.stringify(sales)}`);
  await page.context().clearCookies();
  const requester = await walkEveryPage(page, requesterName, requesterPassword, 'phone-requester');
  assert(requester.includes('Requests') && !requester.includes('Users'), `requester nav was ${JSON.stringify(requester)}`);
});

await browser.close();

const tokenInUrl = streamUrls.filter((u) => /access_token=|[?&]token=|Bearer/i.test(u) || !/[?&]ticket=pvt_/.test(u));
if (tokenInUrl.length) { failures++; console.log('FAIL live streams opened without a ticket or with a token in the URL:\n  ' + tokenInUrl.join('\n  ')); }
if (!streamUrls.some((u) => /\/events\?ticket=/.test(u))) { failures++; console.log('FAIL no live stream was opened during the run'); }
else console.log(`ok   ${streamUrls.length} live-stream and terminal URLs carried a single-use ticket and no token`);
if (external.length) { failures++; console.log('FAIL requests left the machine:', [...new Set(external)].join(', ')); }
if (problems.length) { failures++; console.log('FAIL browser errors:\n  ' + problems.join('\n  ')); }
console.log(failures ? `${failures} e2e failure(s)` : 'e2e: all passed');
process.exit(failures ? 1 : 0);
