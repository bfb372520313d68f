// Time to first render of the dashboard in Debian's headless Chromium, for a signed-in user with
// an empty cache: navigation start → the Dashboard heading is on screen. Median of 5 fresh
// browser contexts, each given the sign-in cookie. Prints {"median_ms": …, "runs_ms": […],
// "fetched": […]}, the last being the same-origin paths other than /api/ the browser fetched for
// those renders: what a first visit to the dashboard downloads (the bench sums their sizes).
// Env: BENCH_BASE_URL, BENCH_USER, BENCH_PASSWORD. Uses playwright-core from e2e/node_modules.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../e2e/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const base = process.env.BENCH_BASE_URL;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const first = await browser.newContext();
  const page = await first.newPage();
  await page.goto(base + '/', { waitUntil: 'domcontentloaded' });
  await page.getByLabel('Username or e-mail').fill(process.env.BENCH_USER);
  await page.getByLabel('Password', { exact: true }).fill(process.env.BENCH_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor({ timeout: 20000 });
  // Refresh tokens rotate on use: each run hands the next one the cookie it was given.
  let signedIn = await first.storageState();
  await first.close();

  const runs = [];
  const fetched = new Set();
  for (let i = 0; i < 5; i++) {
    const context = await browser.newContext({ storageState: signedIn });
    const tab = await context.newPage();
    tab.on('request', (request) => {
      const url = new URL(request.url());
      if (url.origin === new URL(base).origin && !url.pathname.startsWith('/api/')) {
        fetched.add(url.pathname);
      }
    });
    const started = performance.now();
    await tab.goto(base + '/', { waitUntil: 'commit' });
    await tab.getByRole('heading', { name: 'Dashboard' }).waitFor({ timeout: 20000 });
    runs.push(performance.now() - started);
    signedIn = await context.storageState();
    await context.close();
  }
  const sorted = [...runs].sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      median_ms: sorted[2],
      runs_ms: runs.map((r) => Math.round(r)),
      fetched: [...fetched].sort(),
    }),
  );
} finally {
  await browser.close();
}
