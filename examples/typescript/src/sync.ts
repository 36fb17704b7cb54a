// A provider's planning system syncing with ggzhub, step by step (docs/partners.md):
//
//   1. tokens with client credentials, for a provider and for its region's coordinating insurer;
//   2. a first sync: the change feed's position, then all of the provider's care offers, page by page;
//   3. a month of waiting-time reports in one call (reportWaitingTimes), refused items printed;
//   4. a change made on a stale version: CONFLICT, read again, retried once;
//   5. the insurer acknowledges an open continuity signal in the region;
//   6. the next sync: only what changed since the kept cursor, each record once.
//
// Run against `ggzhub dev` (README, "Run the hub"):
//   npm ci && npm run build
//   node dist/src/sync.js --data-dir ../../data --gateway http://127.0.0.1:4000/graphql
import { parseArgs } from 'node:util';
import { Hub, HubError, clientCredentialsToken, readDemoClients, type DemoClients } from './hub.js';
import type { ProviderOffersQuery, WaitingTimeInput } from './gql/graphql.js';
import * as op from './operations.js';

const USAGE = `usage: node dist/src/sync.js --data-dir DIR --gateway URL [--provider NAME|CLIENT_ID] [--month YYYY-MM] [--page-size N]
  --data-dir  ggzhub dev's data directory, with demo-clients.json (or GGZHUB_DATA_DIR)
  --gateway   the gateway's GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql (or GGZHUB_GATEWAY)
  --provider  the demo provider to sync as, by organisation name or client id (default: the first)
  --month     the month to report waiting times for (default: next month)
  --page-size records per page when reading lists and changes (default: 100, the most a list gives)`;

/** A care offer as our copy keeps it. */
type Offer = ProviderOffersQuery['careOffers']['nodes'][number];

interface Options {
  dataDir: string;
  gateway: string;
  provider?: string;
  month: string;
  pageSize: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      gateway: { type: 'string' },
      provider: { type: 'string' },
      month: { type: 'string' },
      'page-size': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const dataDir = values['data-dir'] ?? process.env.GGZHUB_DATA_DIR;
  const gateway = values.gateway ?? process.env.GGZHUB_GATEWAY;
  const missing = [!dataDir && '--data-dir (or GGZHUB_DATA_DIR)', !gateway && '--gateway (or GGZHUB_GATEWAY)'].filter(Boolean);
  if (!dataDir || !gateway) throw new UsageError(`missing ${missing.join(' and ')}\n${USAGE}`);
  const pageSize = Number(values['page-size'] ?? 100);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) throw new UsageError(`--page-size must be 1 to 100\n${USAGE}`);
  return { dataDir, gateway, provider: values.provider, month: values.month ?? nextMonth(), pageSize };
}

class UsageError extends Error {}

function nextMonth(): string {
  const now = new Date();
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return next.toISOString().slice(0, 7);
}

function step(text: string) {
  console.log(`\n== ${text}`);
}

/** A demo client by kind and organisation name (or client id). */
function demoClient(demo: DemoClients, kind: string, nameOrId?: string) {
  const client = demo.clients.find(
    (c) => c.kind === kind && c.client_secret && (!nameOrId || c.organisation === nameOrId || c.client_id === nameOrId),
  );
  if (!client) throw new Error(`no ${kind} client${nameOrId ? ` for ${nameOrId}` : ''} in demo-clients.json`);
  return client;
}

/** Reads a change feed from `since` to its end, page by page; returns the changes and the cursor to keep. */
async function readFeed<C>(page: (since: string) => Promise<{ changes: C[]; next: string; hasMore: boolean }>, since: string) {
  const changes: C[] = [];
  let cursor = since;
  for (;;) {
    const answer = await page(cursor);
    changes.push(...answer.changes);
    cursor = answer.next; // keep it, also when the page brought no changes
    if (!answer.hasMore) return { changes, next: cursor };
  }
}

async function main() {
  const opts = options();
  const demo = await readDemoClients(opts.dataDir);

  step('1. A token for the provider (client credentials)');
  const providerClient = demoClient(demo, 'PROVIDER', opts.provider);
  const provider = new Hub(opts.gateway, await clientCredentialsToken(demo.token_endpoint, providerClient));
  // `me` says who the hub thinks we are: check it first when something is refused.
  const { me } = await provider.execute(op.Me, {});
  if (!me.organisation || me.kind !== 'PROVIDER') throw new Error(`${providerClient.client_id} is not a provider: ${JSON.stringify(me)}`);
  const providerId = me.organisation.id;
  console.log(`${providerClient.client_id}: ${me.organisation.name} (${me.kind}), regions ${me.regions.join(', ')}`);

  step('2. First sync: the feed position, then all of our care offers');
  // Take the position *before* reading everything: nothing committed after it is missed.
  const { changeFeedPosition: cursor } = await provider.execute(op.ChangeFeedPosition, {});
  const offers = new Map<string, Offer>();
  let pages = 0;
  for (let after: string | null = null; ; ) {
    const { careOffers: page }: ProviderOffersQuery = await provider.execute(op.ProviderOffers, { providerId, first: opts.pageSize, after });
    pages++;
    for (const offer of page.nodes) offers.set(offer.id, offer);
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor ?? null;
  }
  console.log(`${offers.size} offers in ${pages} page(s); cursor kept: ${cursor}`);
  // We work in the region of our first offer that is not closed.
  const offer = [...offers.values()].find((o) => o.status !== 'CLOSED' && me.regions.includes(o.region.code));
  if (!offer) throw new Error(`${me.organisation.name} has no open care offer in its regions`);
  const region = offer.region.code;
  console.log(`region ${region}; the offer we will change: "${offer.unitName}" (version ${offer.version})`);

  step(`   A token for the coordinating insurer of ${region}`);
  const { region: regionInfo } = await provider.execute(op.CoordinatingInsurer, { region });
  const insurerOrg = regionInfo?.coordinatingInsurer;
  if (!insurerOrg) throw new Error(`region ${region} has no coordinating insurer`);
  const insurerClient = demoClient(demo, 'INSURER', insurerOrg.name);
  const insurer = new Hub(opts.gateway, await clientCredentialsToken(demo.token_endpoint, insurerClient));
  console.log(`${insurerClient.client_id}: ${insurerOrg.name} coordinates ${regionInfo.name}`);

  step(`3. Waiting times for ${opts.month}: every location × diagnosis group, in one call`);
  const locations = [...new Set([...offers.values()].filter((o) => o.region.code === region).map((o) => o.location))];
  const { diagnosisGroups } = await provider.execute(op.DiagnosisGroups, {});
  const reports: WaitingTimeInput[] = locations.flatMap((location, l) =>
    diagnosisGroups.map(({ code }, g) => ({
      providerId,
      regionCode: region,
      location,
      diagnosisGroup: code,
      month: opts.month,
      // Figures of the example; a planning system takes them from its own records.
      registrationToIntakeWeeks: 2 + ((l + g) % 5),
      intakeToTreatmentWeeks: 3 + (g % 4),
      waitingCount: 12 + 3 * g,
    })),
  );
  let reported;
  try {
    ({ reportWaitingTimes: reported } = await provider.execute(op.ReportWaitingTimes, { reports }));
  } catch (e) {
    // All or nothing: when any report is refused, none is stored, and `extensions.items` says
    // which and why. Fix those (a report that exists already: correctWaitingTime) and send again.
    const items = e instanceof HubError ? (e.errors[0]?.extensions?.items ?? []) : [];
    if (items.length) {
      console.error(`refused (${(e as HubError).code}), nothing stored:`);
      for (const item of items) {
        const r = reports[item.index];
        const field = item.field ? `, field ${item.field}` : '';
        console.error(`  report ${item.index} (${r?.location}, ${r?.diagnosisGroup}, ${r?.month})${field}: ${item.reason} [${item.code ?? ''}]`);
      }
    }
    throw e;
  }
  console.log(`${reported.length} reports stored (${locations.length} location(s) × ${diagnosisGroups.length} diagnosis groups)`);

  step('4. A change on a stale version: CONFLICT, read again, retry');
  const base = offer.unitName.split(' · ')[0];
  // Someone else (a colleague in the dashboard) renames the offer after we read it ...
  await provider.execute(op.UpdateUnitName, { id: offer.id, expectedVersion: offer.version, unitName: `${base} · renamed elsewhere` });
  // ... so our change, made on the version we read, is refused with CONFLICT.
  const ourName = `${base} · synced ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`;
  let updated;
  try {
    await provider.execute(op.UpdateUnitName, { id: offer.id, expectedVersion: offer.version, unitName: ourName });
    throw new Error('expected CONFLICT for a stale version');
  } catch (e) {
    if (!(e instanceof HubError && e.code === 'CONFLICT')) throw e;
    console.log(`version ${offer.version} is stale: ${e.code}`);
    // Read the offer again, apply our change to what is there now, and send it once more.
    const { careOffer: current } = await provider.execute(op.CareOffer, { id: offer.id });
    if (!current) throw new Error(`offer ${offer.id} is gone`);
    ({ updateCareOffer: updated } = await provider.execute(op.UpdateUnitName, {
      id: current.id,
      expectedVersion: current.version,
      unitName: ourName,
    }));
    console.log(`retried on version ${current.version}: "${updated.unitName}" is version ${updated.version}`);
  }

  step(`5. The insurer acknowledges an open continuity signal in ${region}`);
  let [signal] = (await insurer.execute(op.OpenSignals, { region })).continuitySignals.nodes;
  if (!signal) {
    // None open: the provider raises one on its offer (an early warning; no personal data).
    ({ raiseContinuitySignal: signal } = await provider.execute(op.RaiseSignal, {
      input: { offerId: offer.id, kind: 'STAFFING', severity: 'MEDIUM', description: 'Two vacancies for nurses from next month.' },
    }));
    console.log(`none open: ${me.organisation.name} raised one`);
  }
  const { acknowledgeContinuitySignal: acknowledged } = await insurer.execute(op.AcknowledgeSignal, {
    id: signal.id,
    expectedVersion: signal.version,
    response: 'Discussed at the regional table this week; we look for capacity nearby.',
  });
  console.log(`signal on "${signal.offer?.unitName}" (${signal.offer?.provider.name}): ${acknowledged.status}, version ${acknowledged.version}`);

  step('6. Next sync: what changed since the kept cursor');
  // Each type's feed has its own `next`: keep one cursor per type for the sync after this one.
  const offerFeed = await readFeed(async (since) => (await provider.execute(op.CareOfferChanges, { since, first: opts.pageSize })).careOfferChanges, cursor);
  const reportFeed = await readFeed(async (since) => (await provider.execute(op.WaitingTimeReportChanges, { since, first: opts.pageSize })).waitingTimeReportChanges, cursor);
  // Apply them to our copy: a change holds the record as it is now; a tombstone removes it.
  const arrivals = new Map<string, number>();
  for (const change of offerFeed.changes) {
    arrivals.set(change.id, (arrivals.get(change.id) ?? 0) + 1);
    if (change.tombstone || !change.node) offers.delete(change.id);
    else offers.set(change.id, change.node);
  }
  for (const change of reportFeed.changes) arrivals.set(change.id, (arrivals.get(change.id) ?? 0) + 1);
  console.log(
    `careOfferChanges: ${offerFeed.changes.length} (cursor kept: ${offerFeed.next}), ` +
      `waitingTimeReportChanges: ${reportFeed.changes.length} (cursor kept: ${reportFeed.next})`,
  );

  const problems: string[] = [];
  if (arrivals.get(offer.id) !== 1) problems.push(`our offer arrived ${arrivals.get(offer.id) ?? 0} times`);
  const copy = offers.get(offer.id);
  if (copy?.version !== updated.version || copy.unitName !== ourName) problems.push(`our copy of the offer is ${JSON.stringify(copy)}`);
  const missed = reported.filter((r) => arrivals.get(r.id) !== 1);
  if (missed.length) problems.push(`${missed.length} of our ${reported.length} reports did not arrive exactly once`);
  if (problems.length) throw new Error(`the next sync is not what we wrote: ${problems.join('; ')}`);
  console.log(`our offer arrived once (version ${updated.version}), each of our ${reported.length} reports once`);

  step('Summary');
  console.log(
    `${me.organisation.name} in ${region}: read ${pages} page(s) of offers, reported ${reported.length} waiting times for ${opts.month}, ` +
      `changed an offer after a CONFLICT, ${insurerOrg.name} acknowledged a signal, the next sync brought ` +
      `${offerFeed.changes.length} offer and ${reportFeed.changes.length} report change(s).`,
  );
}

main().catch((e: unknown) => {
  if (e instanceof UsageError) console.error(e.message);
  else console.error(`\nFAILED: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
