import { useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { RegionListQuery, RegionNationalQuery, RegionPublicQuery, RegionTrendQuery, RegionWaitingQuery } from '../ops/public/region';
import { RegionCapacityQuery } from '../ops/signed-in/region';
import { partState, signedInPartState } from '../errors';
import {
  CATEGORIES,
  STATUSES,
  availabilityLabel,
  categoryLabel,
  escalationStatusLabel,
  formatDate,
  formatMonth,
  formatNumber,
  formatPercent,
  statusLabel,
} from '../labels';
import { DataTable, type Column } from '../components/DataTable';
import { DataDate, Loading, Notice, PartNotice } from '../components/Notice';
import { Chart } from '../components/Chart';
import { TileMap } from '../components/TileMap';
import { Link, navigate } from '../router';
import { useSession } from '../session';

const TREEKNORM_INTAKE = 4;
const TREEKNORM_TOTAL = 14;

export function RegionPicker({ base, label }: { base: string; label: string }) {
  const [list] = useQuery({ query: RegionListQuery });
  const [choice, setChoice] = useState('');
  const regions = list.data?.regions.nodes ?? [];
  return (
    <form
      className="region-picker"
      onSubmit={(e) => {
        e.preventDefault();
        if (choice) navigate(`${base}/${choice}`);
      }}
    >
      <div className="utrecht-form-field utrecht-form-field--select">
        <label className="utrecht-form-label" htmlFor={`picker-${base}`}>
          {label}
        </label>
        <select id={`picker-${base}`} className="utrecht-select utrecht-select--html-select" value={choice} onChange={(e) => setChoice(e.target.value)}>
          <option value="">Kies een regio</option>
          {[...regions]
            .sort((a, b) => a.name.localeCompare(b.name, 'nl'))
            .map((r) => (
              <option key={r.code} value={r.code}>
                {r.name}
              </option>
            ))}
        </select>
      </div>
      <button type="submit" className="utrecht-button utrecht-button--primary-action">
        Toon regio
      </button>
      <PartNotice state={partState(list.error, [])} what="De lijst met regio’s" />
    </form>
  );
}

export default function Regio({ code }: { code: string }) {
  if (!code) {
    return (
      <>
        <h1 className="utrecht-heading-1">Regio</h1>
        <p className="lead">Kies een regio. U ziet dan het aanbod, de wachttijden en het regiobeeld van die regio.</p>
        <RegionPicker base="/regio" label="Regio" />
      </>
    );
  }
  return <RegionPage code={code} base="/regio" />;
}

/** The Dutch calendar month `n` months before now, as `YYYY-MM` (the hub's months are Dutch
 * dates: in the first hour or two of a month, UTC is still in the month before). */
const monthsBack = (n: number) => {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Amsterdam', year: 'numeric', month: 'numeric' })
    .formatToParts(new Date());
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const index = part('year') * 12 + (part('month') - 1) - n;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
};

/** One region's page. `publicOnly`: only the public operations (the Publiek view). */
export function RegionPage({ code, base, publicOnly = false }: { code: string; base: string; publicOnly?: boolean }) {
  const { signedIn } = useSession();
  const year = new Date().getFullYear();
  const [fetchedAt] = useState(() => new Date().toISOString());
  const [result] = useQuery({ query: RegionPublicQuery, variables: { code, year } });
  const [national] = useQuery({ query: RegionNationalQuery, variables: { code } });
  const [waiting] = useQuery({ query: RegionWaitingQuery, variables: { code } });
  const [capacity] = useQuery({ query: RegionCapacityQuery, variables: { code }, pause: publicOnly || !signedIn });
  const trendRange = useMemo(() => ({ from: monthsBack(24), to: monthsBack(0) }), []);
  const [trend] = useQuery({ query: RegionTrendQuery, variables: { code, ...trendRange } });

  const region = result.data?.region;
  if (result.fetching && !result.data) return <Loading what="De gegevens van de regio" />;
  if (!region) {
    return (
      <>
        <h1 className="utrecht-heading-1">Regio</h1>
        {result.data ? (
          <Notice kind="warning">
            <p>Deze regio bestaat niet. Kies een andere regio.</p>
          </Notice>
        ) : (
          <PartNotice state={partState(result.error, []) === 'ok' ? 'unavailable' : partState(result.error, [])} what="De regio" />
        )}
        <RegionPicker base={base} label="Regio" />
      </>
    );
  }

  const offers = [...region.offers.nodes].sort(
    (a, b) => CATEGORIES.indexOf(a.category) - CATEGORIES.indexOf(b.category) || a.unitName.localeCompare(b.unitName, 'nl'),
  );
  type Offer = (typeof offers)[number];
  const offerColumns: Column<Offer>[] = [
    { key: 'unit', label: 'Afdeling of team', value: (o) => o.unitName },
    { key: 'category', label: 'Categorie', value: (o) => categoryLabel[o.category] },
    { key: 'form', label: 'Zorgvorm', value: (o) => o.careForm.name },
    { key: 'provider', label: 'Zorgaanbieder', value: (o) => o.provider.name },
    { key: 'location', label: 'Plaats', value: (o) => o.location },
    { key: 'availability', label: 'Bereikbaar', value: (o) => availabilityLabel[o.availability] },
    {
      key: 'status',
      label: 'Status',
      value: (o) => statusLabel[o.status],
      render: (o) => <span className={`status status--${o.status.toLowerCase()}`}>{statusLabel[o.status]}</span>,
    },
    {
      key: 'pause',
      label: 'Aanmeldstop',
      value: (o) => (o.intakePause ? `vanaf ${formatDate(o.intakePause.from)}${o.intakePause.until ? ` tot en met ${formatDate(o.intakePause.until)}` : ''}: ${o.intakePause.reason}` : ''),
      render: (o) =>
        o.intakePause ? (
          <strong>
            vanaf {formatDate(o.intakePause.from)}
            {o.intakePause.until ? ` tot en met ${formatDate(o.intakePause.until)}` : ''}: {o.intakePause.reason}
          </strong>
        ) : (
          'geen'
        ),
    },
    { key: 'supra', label: 'Bovenregionaal', value: (o) => (o.supraRegional ? 'ja' : 'nee') },
  ];

  const summary = CATEGORIES.map((c) => {
    const inCategory = offers.filter((o) => o.category === c);
    return {
      category: c,
      counts: STATUSES.map((s) => inCategory.filter((o) => o.status === s).length),
      pauses: inCategory.filter((o) => o.intakePause).length,
      missing: region.missingCategories.includes(c),
    };
  });
  type Summary = (typeof summary)[number];
  const summaryColumns: Column<Summary>[] = [
    { key: 'category', label: 'Categorie', value: (s) => categoryLabel[s.category] },
    ...STATUSES.map((st, i): Column<Summary> => ({ key: st, label: statusLabel[st], numeric: true, value: (s) => s.counts[i] })),
    { key: 'pauses', label: 'Met aanmeldstop', numeric: true, value: (s) => s.pauses },
    { key: 'missing', label: 'Ontbreekt in de regio', value: (s) => (s.missing ? 'ja' : 'nee'), render: (s) => (s.missing ? <strong>ja</strong> : 'nee') },
  ];

  // Waiting times: the latest month reported.
  const reports = waiting.data?.waitingTimes.nodes ?? [];
  const latestMonth = reports.reduce((m, r) => (r.month > m ? r.month : m), '');
  const latest = reports.filter((r) => r.month === latestMonth);
  const groupName = new Map((waiting.data?.diagnosisGroups ?? []).map((g) => [g.code, g.name]));
  const byGroup = [...new Set(latest.map((r) => r.diagnosisGroup))].sort().map((g) => {
    const rs = latest.filter((r) => r.diagnosisGroup === g);
    const avg = (f: (r: (typeof rs)[number]) => number) => rs.reduce((s, r) => s + f(r), 0) / rs.length;
    return {
      group: groupName.get(g) ?? g,
      intake: avg((r) => r.registrationToIntakeWeeks),
      total: avg((r) => r.totalWeeks),
      over: rs.filter((r) => r.exceedsTreeknorm).length,
      reports: rs.length,
    };
  });
  type Group = (typeof byGroup)[number];
  const waitColumns: Column<Group>[] = [
    { key: 'group', label: 'Hoofddiagnosegroep', value: (g) => g.group },
    { key: 'intake', label: 'Aanmelding tot intake (weken, gemiddeld)', numeric: true, value: (g) => formatNumber(g.intake, 1) },
    { key: 'total', label: 'Aanmelding tot behandeling (weken, gemiddeld)', numeric: true, value: (g) => formatNumber(g.total, 1) },
    { key: 'over', label: 'Meldingen boven de Treeknorm', numeric: true, value: (g) => `${g.over} van ${g.reports}` },
  ];
  const waitOption = {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 8, right: 24, bottom: 8, top: 40, containLabel: true },
    xAxis: { type: 'value', name: 'weken' },
    yAxis: { type: 'category', data: byGroup.map((g) => g.group), axisLabel: { width: 160, overflow: 'truncate' } },
    series: [
      {
        name: 'Tot intake',
        type: 'bar',
        data: byGroup.map((g) => Number(g.intake.toFixed(1))),
        itemStyle: { color: '#1f5aa6' },
        markLine: { symbol: 'none', label: { formatter: 'Treeknorm intake: 4 weken' }, lineStyle: { color: '#1f5aa6', type: 'dashed' }, data: [{ xAxis: TREEKNORM_INTAKE }] },
      },
      {
        name: 'Tot behandeling',
        type: 'bar',
        data: byGroup.map((g) => Number(g.total.toFixed(1))),
        itemStyle: { color: '#b3541e' },
        markLine: { symbol: 'none', label: { formatter: 'Treeknorm totaal: 14 weken' }, lineStyle: { color: '#b3541e', type: 'dashed' }, data: [{ xAxis: TREEKNORM_TOTAL }] },
      },
    ],
  };

  const overview = region.overview;
  const nationalPart = national.data?.region;
  const nationalState = nationalPart ? partState(national.error, ['region']) : national.fetching ? 'ok' : partState(national.error, []) === 'ok' ? 'unavailable' : partState(national.error, []);
  const escalations = nationalPart?.escalations ?? [];
  const coverage = nationalPart?.supraRegionalCoverage ?? [];
  const uncoveredGroups = nationalPart?.uncoveredTargetGroups ?? [];
  const neighbours = region.neighbours.map((n) => ({ code: n.code, name: n.name, tile: n.tile, share: null, missing: n.missingCategories.length }));

  return (
    <>
      <h1 className="utrecht-heading-1">{region.name}</h1>
      <p className="lead">
        Het aanbod van cruciale ggz in {region.name}, de wachttijden en wat de regio zelf over de zorg zegt.
        {region.coordinatingInsurer && <> Coördinerend zorgverzekeraar: {region.coordinatingInsurer.name}.</>}
      </p>
      <DataDate asOf={fetchedAt} fetched />
      <PartNotice state={partState(result.error, ['region'])} what="Een deel van de regiogegevens" />
      {region.missingCategories.length > 0 && (
        <Notice kind="warning">
          <p>
            <strong>Ontbreekt in deze regio:</strong> {region.missingCategories.map((c) => categoryLabel[c]).join(', ')}. Er is hier geen
            aanbod en ook geen bovenregionaal aanbod dat de regio bedient.
          </p>
        </Notice>
      )}

      <section aria-labelledby="r-summary">
        <h2 className="utrecht-heading-2" id="r-summary">Aanbod per categorie</h2>
        <DataTable caption={`Aanbod in ${region.name} per categorie en status`} columns={summaryColumns} rows={summary} filename={`${code}-aanbod-per-categorie.csv`} />
      </section>

      <section aria-labelledby="r-offers">
        <h2 className="utrecht-heading-2" id="r-offers">Alle afdelingen en teams</h2>
        <DataTable caption={`Afdelingen en teams in ${region.name}`} columns={offerColumns} rows={offers} filename={`${code}-aanbod.csv`} />
      </section>

      {!publicOnly && signedIn && <CapacitySection capacity={capacity} code={code} />}

      <section aria-labelledby="r-wait">
        <h2 className="utrecht-heading-2" id="r-wait">Wachttijden en de Treeknorm</h2>
        <p>
          De Treeknorm: binnen 4 weken een intake, binnen 14 weken behandeling. Cijfers van {latestMonth ? formatMonth(latestMonth) : '—'},
          gemiddeld over de locaties in de regio.
        </p>
        {waiting.fetching && !waiting.data ? <Loading what="De wachttijden" /> : <PartNotice state={partState(waiting.error, ['waitingTimes'])} what="Wachttijden" />}
        {byGroup.length > 0 && <Chart option={waitOption} label={`Wachttijden in ${region.name} per hoofddiagnosegroep, tegen de Treeknorm. De cijfers staan ook in de tabel.`} height={Math.max(240, byGroup.length * 48 + 60)} />}
        <DataTable caption={`Wachttijden in ${region.name}, ${latestMonth ? formatMonth(latestMonth) : ''}`} columns={waitColumns} rows={byGroup} filename={`${code}-wachttijden.csv`} />
      </section>

      <TrendSection trend={trend} regionName={region.name} code={code} />

      <section aria-labelledby="r-overview">
        <h2 className="utrecht-heading-2" id="r-overview">Regiobeeld {year}</h2>
        {overview ? (
          <>
            <p>
              {overview.status === 'PUBLISHED' ? `Gepubliceerd op ${formatDate(overview.publishedAt)}.` : 'Dit is een concept: nog niet gepubliceerd.'}
            </p>
            <p className="overview-summary">{overview.publicSummary}</p>
            <DataTable
              caption={`Regiobeeld ${year}: beoordeling per categorie`}
              columns={[
                { key: 'c', label: 'Categorie', value: (a: (typeof overview.assessments)[number]) => categoryLabel[a.category] },
                { key: 'have', label: 'Wat we hebben', value: (a) => a.whatWeHave },
                { key: 'problems', label: 'Problemen', value: (a) => a.problems },
                { key: 'missing', label: 'Wat ontbreekt', value: (a) => a.missing },
                { key: 'neighbour', label: 'Gedekt door buurregio', value: (a) => a.coveredByNeighbour ?? '' },
                { key: 'supra', label: 'Bovenregionale rol', value: (a) => a.supraRegionalRole },
              ]}
              rows={overview.assessments}
              filename={`${code}-regiobeeld-${year}.csv`}
            />
          </>
        ) : (
          <p>Er is voor {year} nog geen gepubliceerd regiobeeld.</p>
        )}
      </section>

      <section aria-labelledby="r-escalations">
        <h2 className="utrecht-heading-2" id="r-escalations">Knelpunten bij de landelijke tafel</h2>
        <PartNotice state={nationalState} what="Knelpunten" />
        <DataTable
          caption={`Knelpunten die ${region.name} naar de landelijke tafel bracht`}
          columns={[
            { key: 'group', label: 'Doelgroep', value: (e: (typeof escalations)[number]) => e.targetGroup },
            { key: 'category', label: 'Categorie', value: (e) => categoryLabel[e.category] },
            { key: 'status', label: 'Status', value: (e) => escalationStatusLabel[e.status] },
            { key: 'decided', label: 'Besloten op', value: (e) => (e.decidedAt ? formatDate(e.decidedAt) : '') },
            { key: 'summary', label: 'Samenvatting van het besluit', value: (e) => e.publicSummary ?? '' },
          ]}
          rows={escalations}
          filename={`${code}-knelpunten.csv`}
          empty="Geen knelpunten die u mag zien."
        />
      </section>

      <section aria-labelledby="r-supra">
        <h2 className="utrecht-heading-2" id="r-supra">Bovenregionaal aanbod voor deze regio</h2>
        <PartNotice state={nationalState} what="Bovenregionaal aanbod" />
        <DataTable
          caption={`Bovenregionaal aanbod dat ${region.name} bedient`}
          columns={[
            { key: 'group', label: 'Doelgroep', value: (l: (typeof coverage)[number]) => l.targetGroup },
            { key: 'unit', label: 'Afdeling of team', value: (l) => l.offer.unitName },
            { key: 'provider', label: 'Zorgaanbieder', value: (l) => l.offer.provider.name },
            { key: 'location', label: 'Plaats', value: (l) => l.offer.location },
            { key: 'hs8', label: 'HS-8', value: (l) => (l.hs8 ? 'ja' : 'nee') },
          ]}
          rows={coverage}
          filename={`${code}-bovenregionaal.csv`}
        />
        {uncoveredGroups.length > 0 && (
          <p>
            <strong>Doelgroepen zonder bovenregionaal aanbod:</strong> {uncoveredGroups.join(', ')}.
          </p>
        )}
      </section>

      {region.signalCounts && (
        <section aria-labelledby="r-signals">
          <h2 className="utrecht-heading-2" id="r-signals">Vroegsignalen</h2>
          <p>
            Open: {region.signalCounts.open}, waarvan te laat bevestigd: {region.signalCounts.overdue}. Bevestigd: {region.signalCounts.acknowledged}.
            Naar de landelijke tafel: {region.signalCounts.escalated}. Opgelost: {region.signalCounts.resolved}.
          </p>
        </section>
      )}

      <section aria-labelledby="r-neighbours">
        <h2 className="utrecht-heading-2" id="r-neighbours">Buurregio’s</h2>
        <TileMap regions={neighbours} label={`Buurregio’s van ${region.name}`} small />
        <ul className="neighbour-list">
          {region.neighbours.map((n) => (
            <li key={n.code}>
              <Link href={`${base}/${n.code}`}>{n.name}</Link>
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

function CapacitySection({ capacity, code }: { capacity: ReturnType<typeof useQuery<import('../gql/graphql').RegionCapacityQuery>>[0]; code: string }) {
  const offers = capacity.data?.region?.offers.nodes ?? [];
  const state = signedInPartState(capacity.error, ['region', 'offers']);
  const shown = offers.filter((o) => o.capacity);
  type O = (typeof shown)[number];
  return (
    <section aria-labelledby="r-capacity">
      <h2 className="utrecht-heading-2" id="r-capacity">Capaciteit</h2>
      {capacity.fetching && !capacity.data && <Loading what="De capaciteit" />}
      <PartNotice state={state} what="Capaciteit" />
      {state === 'ok' && capacity.data && (
        <DataTable
          caption="Capaciteit per afdeling of team"
          columns={[
            { key: 'unit', label: 'Afdeling of team', value: (o: O) => o.unitName },
            { key: 'category', label: 'Categorie', value: (o) => categoryLabel[o.category] },
            { key: 'beds', label: 'Bedden', numeric: true, value: (o) => o.capacity?.beds ?? '' },
            { key: 'places', label: 'Plaatsen', numeric: true, value: (o) => o.capacity?.places ?? '' },
            { key: 'teams', label: 'Teams', numeric: true, value: (o) => o.capacity?.teams ?? '' },
            { key: 'fte', label: 'Fte', numeric: true, value: (o) => (o.capacity?.fte == null ? '' : formatNumber(o.capacity.fte, 1)) },
          ]}
          rows={shown}
          filename={`${code}-capaciteit.csv`}
        />
      )}
    </section>
  );
}

function TrendSection({ trend, regionName, code }: { trend: ReturnType<typeof useQuery<import('../gql-public/graphql').RegionTrendQuery>>[0]; regionName: string; code: string }) {
  const picture = trend.data?.nationalPicture;
  if (!picture) {
    return (
      <section aria-labelledby="r-trend">
        <h2 className="utrecht-heading-2" id="r-trend">Ontwikkeling in 24 maanden</h2>
        {trend.fetching ? <Loading what="De ontwikkeling" /> : <PartNotice state="unavailable" what="De ontwikkeling in 24 maanden" />}
      </section>
    );
  }
  const periods = [...new Set(picture.offerTrend.map((p) => p.period))].sort();
  const rows = periods.map((period) => ({
    period,
    counts: STATUSES.map((s) => picture.offerTrend.filter((p) => p.period === period && p.status === s).reduce((a, p) => a + p.count, 0)),
    wait: (picture.waitingTimeTrend ?? []).find((w) => w.period === period),
  }));
  type Row = (typeof rows)[number];
  const option = {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 8, right: 24, bottom: 8, top: 40, containLabel: true },
    xAxis: { type: 'category', data: periods.map(formatMonth) },
    yAxis: { type: 'value', name: 'aanbod' },
    series: STATUSES.map((s, i) => ({ name: statusLabel[s], type: 'line', data: rows.map((r) => r.counts[i]), color: ['#2b7a3d', '#b3541e', '#a3162b', '#555555'][i] })),
  };
  return (
    <section aria-labelledby="r-trend">
      <h2 className="utrecht-heading-2" id="r-trend">Ontwikkeling in 24 maanden</h2>
      <DataDate asOf={picture.asOf} />
      <Chart option={option} label={`Aanbod in ${regionName} per status, per maand. De cijfers staan ook in de tabel.`} />
      <DataTable
        caption={`Aanbod en wachttijden in ${regionName} per maand`}
        columns={[
          { key: 'period', label: 'Maand', value: (r: Row) => formatMonth(r.period) },
          ...STATUSES.map((s, i): Column<Row> => ({ key: s, label: statusLabel[s], numeric: true, value: (r) => r.counts[i] })),
          { key: 'over', label: 'Wachttijd boven Treeknorm', numeric: true, value: (r) => (r.wait ? formatPercent(r.wait.shareOverTreeknorm) : '') },
          { key: 'median', label: 'Mediaan wachttijd (weken)', numeric: true, value: (r) => (r.wait ? formatNumber(r.wait.medianWeeks, 1) : '') },
        ]}
        rows={rows}
        filename={`${code}-ontwikkeling.csv`}
      />
    </section>
  );
}
