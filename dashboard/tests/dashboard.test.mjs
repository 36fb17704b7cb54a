// Browser tests of the dashboard against a real hub (see harness.mjs): every view for the public and each
// kind of organisation, with no console error, no request leaving 127.0.0.1, axe-core 0 violations, a
// screenshot per view; what each kind sees follows the access matrix; keyboard use; acknowledging a
// signal with its CONFLICT; an expired session; the gateway stopped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { dashboardRoot, repoRoot, sessionEntry, startEnvironment } from './harness.mjs';

const MANIFEST = JSON.parse(readFileSync(join(dashboardRoot, 'operations.json'), 'utf8'));

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(repoRoot, 'target', 'dashboard-screenshots');
mkdirSync(SHOTS, { recursive: true });

let env;
let browser;

before(async () => {
  env = await startEnvironment();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
});

after(async () => {
  await browser?.close();
  await env?.stop();
});

const token = (kind) => {
  const t = env.tokens.find((x) => x.kind === kind);
  assert.ok(t, `no demo token for ${kind}`);
  return t;
};

/** Opens a page as `kind` ('ANON' = no sign-in) and records console errors and requests leaving the hub. */
async function open(kind, path, { viewport = { width: 1280, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport, locale: 'nl-NL', timezoneId: 'Europe/Amsterdam' });
  const page = await context.newPage();
  const problems = { console: [], external: [], graphql: [], untrusted: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') problems.console.push(m.text());
  });
  page.on('pageerror', (e) => problems.console.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (!['127.0.0.1', 'localhost'].includes(url.hostname) && !['data:', 'blob:'].includes(url.protocol)) problems.external.push(r.url());
    if (url.pathname === '/graphql') {
      problems.graphql.push(r);
      // Without a token, only the manifest's exact texts are admitted.
      if (!r.headers().authorization) {
        const query = JSON.parse(r.postData() ?? '{}').query ?? '';
        const hash = createHash('sha256').update(query, 'utf8').digest('hex');
        if (MANIFEST[hash] !== query) problems.untrusted.push(query.slice(0, 80));
      }
    }
  });
  if (kind !== 'ANON') {
    const entry = sessionEntry(env.issuer, token(kind));
    // Seed the session once (as the sign-in would leave it), not again after a sign-out.
    await context.addInitScript(
      ([k, v]) => {
        if (!window.sessionStorage.getItem('test-seeded')) {
          window.sessionStorage.setItem(k, v);
          window.sessionStorage.setItem('test-seeded', '1');
        }
      },
      [entry.key, entry.value],
    );
  }
  await page.goto(env.baseUrl + path, { waitUntil: 'networkidle' });
  await page.locator('main h1').first().waitFor();
  await page.waitForLoadState('networkidle');
  return { page, context, problems };
}

const VIEWS = [
  { name: 'land', path: '/', heading: /Land/ },
  { name: 'regio', path: '/regio/utrecht', heading: /Utrecht/ },
  { name: 'landelijke-tafel', path: '/landelijke-tafel', heading: /Landelijke tafel/ },
  { name: 'vroegsignalering', path: '/vroegsignalering', heading: /Vroegsignalering/ },
  { name: 'publiek', path: '/publiek/utrecht', heading: /Utrecht/ },
  { name: 'toegankelijkheid', path: '/toegankelijkheid', heading: /Toegankelijkheid/ },
];
const KINDS = ['ANON', 'PROVIDER', 'INSURER', 'PATIENT_ORGANISATION', 'MUNICIPALITY', 'NATIONAL_TABLE', 'HUB_OPERATOR'];

for (const kind of KINDS) {
  for (const view of VIEWS) {
    test(`${view.name} as ${kind}: loads without console error or outside request, axe 0 violations`, async () => {
      const { page, context, problems } = await open(kind, view.path);
      try {
        assert.match(await page.locator('main h1').first().innerText(), view.heading);
        // Each view states the date of its data (the accessibility page has no data).
        if (view.name !== 'toegankelijkheid' && !(view.name === 'vroegsignalering' && kind === 'ANON')) {
          await page.locator('.data-date').first().waitFor();
        }
        await page.screenshot({ path: join(SHOTS, `${view.name}-${kind.toLowerCase()}.png`), fullPage: true });
        assert.deepEqual(problems.external, [], 'requests leaving 127.0.0.1');
        assert.deepEqual(problems.untrusted, [], 'anonymous requests not in operations.json');
        assert.deepEqual(problems.console, [], 'console errors');
        const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
        assert.deepEqual(
          axe.violations.map((v) => `${v.id}: ${v.nodes.length} × ${v.nodes[0]?.target}`),
          [],
          'axe violations',
        );
      } finally {
        await context.close();
      }
    });
  }
}

test('GraphiQL at /graphql in a browser: served by the hub itself, no console error, nothing from another origin', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  const external = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (!['127.0.0.1', 'localhost'].includes(url.hostname) && !['data:', 'blob:'].includes(url.protocol)) external.push(r.url());
  });
  try {
    const response = await page.goto(`${env.baseUrl}/graphql`, { waitUntil: 'networkidle' });
    assert.equal(response.status(), 200);
    await page.locator('.graphiql-container').first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(SHOTS, 'graphiql.png'), fullPage: true });
    assert.deepEqual(external, [], 'requests leaving 127.0.0.1');
    assert.deepEqual(errors, [], 'console errors');
  } finally {
    await context.close();
  }
});

test('Land: the data in at most 3 GraphQL requests, tiles and table agree, category switch', async () => {
  const { page, context, problems } = await open('ANON', '/');
  try {
    assert.ok(problems.graphql.length <= 3, `${problems.graphql.length} GraphQL requests`);
    const tiles = page.locator('.tile-map .tile');
    assert.equal(await tiles.count(), 31);
    const rows = page.locator('table').first().locator('tbody tr');
    assert.equal(await rows.count(), 31);
    await page.getByLabel('Categorie', { exact: true }).selectOption('SECURE');
    await page.getByRole('heading', { name: 'Kaart: Beveiligde zorg' }).waitFor();
    assert.match(await page.locator('table caption').first().innerText(), /Beveiligde zorg/);
  } finally {
    await context.close();
  }
});

test('access matrix: capacity for a participant, no access for a patient organisation and an insurer outside the region', async () => {
  const capacityCaption = 'Capaciteit per afdeling of team';
  const caption = (page) => page.locator('caption', { hasText: capacityCaption });
  {
    const { page, context } = await open('PROVIDER', '/regio/utrecht');
    await caption(page).waitFor();
    await context.close();
  }
  {
    const { page, context } = await open('PATIENT_ORGANISATION', '/regio/utrecht');
    await page.getByText('Capaciteit: geen toegang.').waitFor();
    assert.equal(await caption(page).count(), 0);
    await context.close();
  }
  {
    const { page, context } = await open('INSURER', '/regio/zeeland');
    await page.getByText('Capaciteit: geen toegang.').waitFor();
    assert.equal(await caption(page).count(), 0);
    await context.close();
  }
  {
    // The public view never sends a token, even when signed in.
    const { page, context, problems } = await open('NATIONAL_TABLE', '/publiek/utrecht');
    // The header's `me` goes with the token; every request of the view itself goes without.
    const viewRequests = problems.graphql.filter((r) => /query (RegionPublic|RegionWaiting|RegionTrend|RegionList)\b/.test(r.postData() ?? ''));
    assert.ok(viewRequests.length >= 2, `${viewRequests.length} requests of the public view`);
    for (const r of viewRequests) assert.equal(r.headers().authorization, undefined, 'public view sent a token');
    assert.equal(await caption(page).count(), 0);
    await context.close();
  }
});

test('signed in: shows who is signed in and for which organisation; sign-out', async () => {
  const { page, context } = await open('INSURER', '/');
  try {
    const who = page.locator('.account__who');
    await who.waitFor();
    assert.match(await who.innerText(), /Zorgverzekeraar Polder/);
    await page.getByRole('button', { name: 'Uitloggen' }).click();
    await page.getByRole('button', { name: 'Inloggen' }).first().waitFor({ timeout: 15_000 });
  } finally {
    await context.close();
  }
});

test('sign-in through the development identity provider (Authorization Code + PKCE), then sign-out', async () => {
  // Needs the hub's development OpenID Connect provider (discovery at the issuer) and the gateway serving the app.
  const { page, context } = await open('ANON', '/landelijke-tafel');
  try {
    await page.getByRole('button', { name: 'Inloggen' }).first().click();
    await page.waitForURL((url) => url.origin === new URL(env.issuer).origin, { timeout: 15_000 });
    const insurer = token('INSURER').name;
    await page.locator('fieldset', { hasText: insurer }).locator('input[type=radio]').first().check();
    await page.getByRole('button', { name: 'Inloggen' }).click();
    await page.waitForURL(`${env.baseUrl}/landelijke-tafel`, { timeout: 15_000 });
    const who = page.locator('.account__who');
    await who.waitFor();
    assert.match(await who.innerText(), new RegExp(insurer));
    await page.getByRole('button', { name: 'Uitloggen' }).click();
    await page.waitForLoadState('networkidle');
    await page.goto(env.baseUrl + '/');
    await page.getByRole('button', { name: 'Inloggen' }).first().waitFor();
  } finally {
    await context.close();
  }
});

test('keyboard: skip link first, every control reachable, focus visible, a tile opens its region', async () => {
  const { page, context } = await open('PATIENT_ORGANISATION', '/');
  try {
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Naar de inhoud');
    const seen = new Set();
    let outlineMissing = [];
    for (let i = 0; i < 120; i += 1) {
      await page.keyboard.press('Tab');
      const info = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return null;
        const style = getComputedStyle(el);
        return {
          key: el.tagName + ':' + (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 60),
          visible: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
        };
      });
      if (!info) continue;
      seen.add(info.key);
      if (!info.visible) outlineMissing.push(info.key);
    }
    const keys = [...seen];
    for (const expected of ['A:Land', 'A:Regio', 'SELECT:', 'BUTTON:Download als CSV']) {
      assert.ok(keys.some((k) => k.startsWith(expected)), `${expected} not reached by Tab: ${keys.slice(0, 20).join(' | ')}`);
    }
    assert.ok(keys.some((k) => k.startsWith('A:') && k.includes('onder druk of gaat sluiten')), 'no tile reached by Tab');
    assert.deepEqual(outlineMissing, [], 'focus not visible');
    // Enter on a tile opens the region.
    await page.locator('.tile').first().focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/regio\//);
    await page.locator('main h1').first().waitFor();
  } finally {
    await context.close();
  }
});

test('CSV download of a table', async () => {
  const { page, context } = await open('PATIENT_ORGANISATION', '/');
  try {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Download als CSV/ }).first().click()]);
    assert.equal(download.suggestedFilename(), 'land-all.csv');
    const chunks = [];
    for await (const c of await download.createReadStream()) chunks.push(c);
    const text = Buffer.concat(chunks).toString('utf8');
    assert.match(text, /^\uFEFFRegio;Aanbod \(niet gesloten\);Onder druk/);
    assert.equal(text.trim().split('\r\n').length, 32);
  } finally {
    await context.close();
  }
});

test('Vroegsignalering: acknowledge a signal, and a stale version gives a clear CONFLICT message', async () => {
  const { page, context } = await open('INSURER', '/vroegsignalering');
  try {
    const buttons = page.getByRole('button', { name: /^Bevestigen/ });
    await buttons.first().waitFor();
    assert.ok((await buttons.count()) >= 2, 'the insurer needs two open signals');
    await buttons.first().click();
    await page.getByText(/^Bevestigd:/).waitFor();

    // Someone else acknowledges the next signal meanwhile: the page's version is stale.
    const query = `{ continuitySignals(first: 100, status: OPEN) { nodes { id version acknowledgementDeadline } } }`;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token('INSURER').token}` };
    const list = await (await fetch(`${env.baseUrl}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query }) })).json();
    const first = list.data.continuitySignals.nodes.sort((a, b) => a.acknowledgementDeadline.localeCompare(b.acknowledgementDeadline))[0];
    const mutation = `mutation($id: ID!, $v: Int!) { acknowledgeContinuitySignal(id: $id, expectedVersion: $v) { version } }`;
    const done = await (
      await fetch(`${env.baseUrl}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query: mutation, variables: { id: first.id, v: first.version } }) })
    ).json();
    assert.equal(done.errors, undefined, JSON.stringify(done.errors));
    await page.getByRole('button', { name: /^Bevestigen/ }).first().click();
    await page.getByText(/net door iemand anders gewijzigd/).waitFor();
  } finally {
    await context.close();
  }
});

test('a partner web app on another origin calls the hub with a token (CORS); an origin not allowed cannot read the answer', async () => {
  assert.ok(env.partnerPorts && env.gatewayUrl, 'this test needs the hub the harness starts (not DASHBOARD_URL)');
  // A partner's page: a blank HTML document on its own origin, nothing from the hub.
  const servePage = (port) =>
    new Promise((resolveListen) => {
      const server = createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><html lang="nl"><title>Planningssysteem</title><h1>Partner</h1></html>');
      });
      server.listen(port, '127.0.0.1', () => resolveListen(server));
    });
  const allowed = await servePage(env.partnerPorts.allowed);
  const refused = await servePage(env.partnerPorts.refused);
  const call = async (port) => {
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${port}/`);
      return await page.evaluate(
        async ({ gateway, bearer }) => {
          try {
            const response = await fetch(`${gateway}/graphql`, {
              method: 'POST',
              headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
              body: JSON.stringify({ query: '{ regions(first: 2) { nodes { name } } }' }),
            });
            return { status: response.status, requestId: response.headers.get('x-request-id'), body: await response.json() };
          } catch (error) {
            return { error: String(error) };
          }
        },
        { gateway: env.gatewayUrl, bearer: token('INSURER').token },
      );
    } finally {
      await page.close();
    }
  };
  try {
    const ok = await call(env.partnerPorts.allowed);
    assert.equal(ok.error, undefined, JSON.stringify(ok));
    assert.equal(ok.status, 200, JSON.stringify(ok));
    assert.equal(ok.body.errors, undefined, JSON.stringify(ok.body));
    assert.ok(ok.body.data.regions.nodes.length > 0, JSON.stringify(ok.body));
    assert.ok(ok.requestId, 'X-Request-Id is readable by the allowed origin');
    const blocked = await call(env.partnerPorts.refused);
    assert.equal(blocked.status, undefined, JSON.stringify(blocked));
    assert.match(blocked.error, /TypeError|Failed to fetch/, JSON.stringify(blocked));
  } finally {
    allowed.close();
    refused.close();
  }
});

test('expired session: a clear message and a way back to sign in, the page stays', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    const entry = sessionEntry(env.issuer, { ...token('PROVIDER'), token: token('PROVIDER').token.replace(/\.[^.]+$/, '.invalidsignature') });
    await context.addInitScript(([k, v]) => window.sessionStorage.setItem(k, v), [entry.key, entry.value]);
    await page.goto(`${env.baseUrl}/regio/utrecht`);
    await page.getByText('Uw sessie is verlopen.').waitFor();
    await page.getByRole('button', { name: 'Opnieuw inloggen' }).waitFor();
    assert.match(page.url(), /\/regio\/utrecht$/);
  } finally {
    await context.close();
  }
});

test('one subgraph not answering: the rest of the region is shown, with a clear message for the missing part', async () => {
  // ggzhub dev runs every subgraph in one process, so the national-table subgraph's failure is played by
  // answering its request the way the gateway does when a subgraph is down: the entity null, an error at its path.
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.route('**/graphql', async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}');
      if (body.operationName !== 'RegionNational') return route.fallback();
      await route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({
          data: { region: null },
          errors: [{ message: 'subgraph national-table did not answer', path: ['region'], extensions: { code: 'SUBREQUEST_HTTP_ERROR', serviceName: 'national-table' } }],
        }),
      });
    });
    const entry = sessionEntry(env.issuer, token('PATIENT_ORGANISATION'));
    await context.addInitScript(([k, v]) => window.sessionStorage.setItem(k, v), [entry.key, entry.value]);
    await page.goto(`${env.baseUrl}/regio/utrecht`, { waitUntil: 'networkidle' });
    await page.getByRole('heading', { name: 'Utrecht', level: 1 }).waitFor();
    await page.getByText('Knelpunten: deze gegevens zijn nu niet beschikbaar.').waitFor();
    await page.getByText('Bovenregionaal aanbod: deze gegevens zijn nu niet beschikbaar.').waitFor();
    assert.ok((await page.locator('caption', { hasText: 'Afdelingen en teams in Utrecht' }).locator('xpath=../tbody/tr').count()) > 3);
    await page.screenshot({ path: join(SHOTS, 'regio-subgraph-down.png'), fullPage: true });
  } finally {
    await context.close();
  }
});

test('Land on a phone: one column, no sideways scrolling of the page, axe 0 violations', async () => {
  const { page, context } = await open('PATIENT_ORGANISATION', '/', { viewport: { width: 360, height: 740 } });
  try {
    await page.locator('.tile').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
    await page.screenshot({ path: join(SHOTS, 'land-phone.png'), fullPage: true });
    const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    assert.deepEqual(axe.violations.map((v) => v.id), []);
  } finally {
    await context.close();
  }
});

test('the gateway stopped: a clear message instead of a broken page', async () => {
  // Load the region page's code first (the hub may be the one serving it), then stop the hub.
  const { page, context } = await open('PATIENT_ORGANISATION', '/regio');
  try {
    await page.getByRole('link', { name: 'Land', exact: true }).click();
    await page.locator('.tile').first().waitFor();
    await env.stopHub();
    await page.locator('.tile').nth(3).click();
    await page.getByText(/niet beschikbaar/).first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(SHOTS, 'gateway-stopped.png'), fullPage: true });
  } finally {
    await context.close();
  }
});
