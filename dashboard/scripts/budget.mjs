// Budgets of issue 16, measured (not a test): JavaScript on first load (gzipped), the Land view's GraphQL
// requests, and the first render of Land (navigation start to the first tile on the map) in headless
// Chromium against the demo hub. Starts the hub like the browser tests (tests/harness.mjs).
//   BUDGET_KIND=ANON|PROVIDER|...  who opens the page (default ANON; the public, no sign-in)
//   BUDGET_RUNS=5                  first-render runs (the median is printed)
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { sessionEntry, startEnvironment } from '../tests/harness.mjs';

const KIND = process.env.BUDGET_KIND ?? 'ANON';
const RUNS = Number(process.env.BUDGET_RUNS ?? 5);
const LIMITS = { jsKb: 250, requests: 3, renderMs: 1000 };

const env = await startEnvironment();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
let failed = false;
try {
  const runs = [];
  let js = [];
  let graphql = 0;
  for (let i = 0; i < RUNS; i += 1) {
    const context = await browser.newContext();
    if (KIND !== 'ANON') {
      const entry = sessionEntry(env.issuer, env.tokens.find((t) => t.kind === KIND));
      await context.addInitScript(([k, v]) => window.sessionStorage.setItem(k, v), [entry.key, entry.value]);
    }
    await context.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (document.querySelector('.tile')) {
          window.__firstTile = performance.now();
          observer.disconnect();
        }
      }).observe(document, { childList: true, subtree: true });
    });
    const page = await context.newPage();
    const scripts = [];
    let requests = 0;
    page.on('response', async (r) => {
      if (r.request().resourceType() === 'script') scripts.push(r);
    });
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/graphql') requests += 1;
    });
    await page.goto(env.baseUrl + '/', { waitUntil: 'networkidle' });
    await page.waitForSelector('.tile', { timeout: 30_000 });
    runs.push(await page.evaluate(() => window.__firstTile));
    if (i === 0) {
      js = await Promise.all(scripts.map(async (r) => ({ url: new URL(r.url()).pathname, gz: gzipSync(await r.body(), { level: 9 }).length })));
      graphql = requests;
    }
    await context.close();
  }
  const totalKb = js.reduce((s, f) => s + f.gz, 0) / 1024;
  runs.sort((a, b) => a - b);
  const median = runs[Math.floor(runs.length / 2)];
  console.log(`caller: ${KIND}, dashboard: ${env.baseUrl}`);
  console.log(`first-load JavaScript (gzip -9): ${totalKb.toFixed(1)} KB in ${js.length} files (budget ${LIMITS.jsKb} KB)`);
  for (const f of js.sort((a, b) => b.gz - a.gz)) console.log(`  ${(f.gz / 1024).toFixed(1).padStart(7)} KB  ${f.url}`);
  console.log(`Land view GraphQL requests: ${graphql} (budget ${LIMITS.requests})`);
  console.log(`first render of Land (navigation start to first map tile), median of ${runs.length}: ${median.toFixed(0)} ms (budget ${LIMITS.renderMs} ms; runs ${runs.map((r) => r.toFixed(0)).join(', ')})`);
  failed = totalKb > LIMITS.jsKb || graphql > LIMITS.requests || median > LIMITS.renderMs;
  console.log(failed ? 'OVER BUDGET' : 'within budget');
} finally {
  await browser.close();
  await env.stop();
}
process.exit(failed ? 1 : 0);
