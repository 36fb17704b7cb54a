import { useState } from 'react';
import { useQuery } from 'urql';
import { TablePublicQuery, TableUncoveredQuery } from '../ops/public/table';
import { TableMeasuresQuery } from '../ops/signed-in/table';
import { partState, signedInPartState } from '../errors';
import { ESCALATION_STATUSES, categoryLabel, escalationStatusLabel, formatDate, formatNumber, measureStatusLabel } from '../labels';
import { DataTable, type Column } from '../components/DataTable';
import { DataDate, Loading, Notice, PartNotice } from '../components/Notice';
import { Chart } from '../components/Chart';
import { useSession } from '../session';

export default function Tafel() {
  const { signedIn } = useSession();
  const [fetchedAt] = useState(() => new Date().toISOString());
  const [result] = useQuery({ query: TablePublicQuery });
  const [uncoveredResult] = useQuery({ query: TableUncoveredQuery });
  const [measures] = useQuery({ query: TableMeasuresQuery, pause: !signedIn });
  if (result.fetching && !result.data) return <Loading what="De gegevens van de landelijke tafel" />;
  const escalations = result.data?.escalations.nodes ?? [];
  const kpis = result.data?.nationalKpis ?? [];
  const uncovered = (uncoveredResult.data?.regions.nodes ?? []).filter((r) => r.uncoveredTargetGroups.length > 0);

  return (
    <>
      <h1 className="utrecht-heading-1">Landelijke tafel</h1>
      <p className="lead">
        Knelpunten die regio’s niet zelf kunnen oplossen, de afgesproken maatregelen en hoe het land op weg is naar de doelen
        voor 2027.
      </p>
      <DataDate asOf={fetchedAt} fetched />
      <PartNotice state={partState(result.error, [])} what="Een deel van de gegevens van de landelijke tafel" />

      <section aria-labelledby="t-board">
        <h2 className="utrecht-heading-2" id="t-board">Knelpunten per status</h2>
        <PartNotice state={partState(result.error, ['escalations'])} what="Knelpunten" />
        <div className="board">
          {ESCALATION_STATUSES.map((s) => {
            const items = escalations.filter((e) => e.status === s);
            return (
              <section key={s} className="board__column" aria-labelledby={`board-${s}`}>
                <h3 className="utrecht-heading-3" id={`board-${s}`}>
                  {escalationStatusLabel[s]} <span className="count">({items.length})</span>
                </h3>
                <ul className="board__list">
                  {items.map((e) => (
                    <li key={e.id} className="card">
                      <p className="card__title">{e.targetGroup}</p>
                      <p>
                        {e.region.name} · {categoryLabel[e.category]}
                      </p>
                      {e.publicSummary && <p className="small">{e.publicSummary}</p>}
                    </li>
                  ))}
                </ul>
              </section>
            );
          })}
        </div>
        <DataTable
          caption="Knelpunten"
          columns={[
            { key: 'group', label: 'Doelgroep', value: (e: (typeof escalations)[number]) => e.targetGroup },
            { key: 'region', label: 'Regio', value: (e) => e.region.name },
            { key: 'category', label: 'Categorie', value: (e) => categoryLabel[e.category] },
            { key: 'status', label: 'Status', value: (e) => escalationStatusLabel[e.status] },
            { key: 'decided', label: 'Besloten op', value: (e) => (e.decidedAt ? formatDate(e.decidedAt) : '') },
            { key: 'summary', label: 'Samenvatting', value: (e) => e.publicSummary ?? '' },
          ]}
          rows={escalations}
          filename="landelijke-tafel-knelpunten.csv"
        />
      </section>

      <MeasuresSection signedIn={signedIn} measures={measures} />

      <section aria-labelledby="t-kpi">
        <h2 className="utrecht-heading-2" id="t-kpi">Landelijke doelen tot 2027</h2>
        <PartNotice state={partState(result.error, ['nationalKpis'])} what="Landelijke doelen" />
        {kpis.map((k) => {
          const years = [...new Set([...k.targets.map((t) => t.year), ...k.measurements.map((m) => m.year)])].filter((y) => y <= 2027).sort();
          const rows = years.map((year) => ({
            year,
            target: k.targets.find((t) => t.year === year)?.value,
            value: k.measurements.find((m) => m.year === year)?.value,
          }));
          type Row = (typeof rows)[number];
          const option = {
            tooltip: { trigger: 'axis' },
            legend: { top: 0 },
            grid: { left: 8, right: 24, bottom: 8, top: 40, containLabel: true },
            xAxis: { type: 'category', data: years.map(String) },
            yAxis: { type: 'value', name: k.unit },
            series: [
              { name: 'Doel', type: 'line', data: rows.map((r) => r.target ?? null), color: '#555555', lineStyle: { type: 'dashed' } },
              { name: 'Gemeten', type: 'bar', data: rows.map((r) => r.value ?? null), color: '#1f5aa6' },
            ],
          };
          return (
            <article key={k.code} className="kpi" aria-labelledby={`kpi-${k.code}`}>
              <h3 className="utrecht-heading-3" id={`kpi-${k.code}`}>
                {k.name}
              </h3>
              <p>{k.direction === 'HIGHER_IS_BETTER' ? 'Hoger is beter.' : 'Lager is beter.'} Eenheid: {k.unit}.</p>
              <Chart option={option} label={`${k.name}: doel en gemeten waarde per jaar tot 2027. De cijfers staan ook in de tabel.`} height={260} />
              <DataTable
                caption={`${k.name} per jaar`}
                columns={[
                  { key: 'year', label: 'Jaar', value: (r: Row) => r.year },
                  { key: 'target', label: 'Doel', numeric: true, value: (r) => (r.target === undefined ? '' : formatNumber(r.target, 1)) },
                  { key: 'value', label: 'Gemeten', numeric: true, value: (r) => (r.value === undefined ? '' : formatNumber(r.value, 1)) },
                ]}
                rows={rows}
                filename={`kpi-${k.code.toLowerCase()}.csv`}
              />
            </article>
          );
        })}
      </section>

      <section aria-labelledby="t-uncovered">
        <h2 className="utrecht-heading-2" id="t-uncovered">Doelgroepen zonder bovenregionaal aanbod</h2>
        <p>Per regio: doelgroepen waarvoor geen bovenregionaal aanbod op de landelijke lijst de regio bedient.</p>
        <PartNotice state={partState(uncoveredResult.error, [])} what="Doelgroepen zonder dekking" />
        <DataTable
          caption="Doelgroepen zonder dekking, per regio"
          columns={[
            { key: 'region', label: 'Regio', value: (r: (typeof uncovered)[number]) => r.name },
            { key: 'groups', label: 'Doelgroepen zonder dekking', value: (r) => r.uncoveredTargetGroups.join(', ') },
          ]}
          rows={uncovered}
          filename="doelgroepen-zonder-dekking.csv"
          empty="Alle doelgroepen hebben bovenregionaal aanbod."
        />
      </section>
    </>
  );
}

function MeasuresSection({
  signedIn,
  measures,
}: {
  signedIn: boolean;
  measures: ReturnType<typeof useQuery<import('../gql/graphql').TableMeasuresQuery>>[0];
}) {
  const rows = (measures.data?.escalations.nodes ?? []).flatMap((e) =>
    (e.measures ?? []).map((m) => ({ ...m, targetGroup: e.targetGroup, regionCode: e.regionCode })),
  );
  rows.sort((a, b) => Number(b.overdue) - Number(a.overdue) || a.dueDate.localeCompare(b.dueDate));
  const overdue = rows.filter((r) => r.overdue).length;
  type Row = (typeof rows)[number];
  const columns: Column<Row>[] = [
    { key: 'title', label: 'Maatregel', value: (m) => m.title },
    { key: 'group', label: 'Knelpunt (doelgroep)', value: (m) => m.targetGroup },
    { key: 'owner', label: 'Uitvoerder', value: (m) => m.owner.name },
    { key: 'due', label: 'Klaar op', value: (m) => formatDate(m.dueDate) },
    { key: 'status', label: 'Status', value: (m) => measureStatusLabel[m.status] },
    { key: 'overdue', label: 'Te laat', value: (m) => (m.overdue ? 'ja' : 'nee'), render: (m) => (m.overdue ? <strong className="overdue">te laat</strong> : 'nee') },
  ];
  return (
    <section aria-labelledby="t-measures">
      <h2 className="utrecht-heading-2" id="t-measures">Maatregelen</h2>
      {!signedIn ? (
        <Notice kind="info">
          <p>Maatregelen ziet u na inloggen, als uw organisatie meedoet in de regio of aan de landelijke tafel.</p>
        </Notice>
      ) : (
        <>
          {measures.fetching && !measures.data && <Loading what="De maatregelen" />}
          <PartNotice state={signedInPartState(measures.error, ['escalations'])} what="Maatregelen" />
          <p>
            {rows.length} maatregelen, waarvan <strong>{overdue} te laat</strong>.
          </p>
          <DataTable
            caption="Maatregelen met hun datum"
            columns={columns}
            rows={rows}
            rowClass={(m) => (m.overdue ? 'row--overdue' : undefined)}
            filename="landelijke-tafel-maatregelen.csv"
            empty="Geen maatregelen die u mag zien."
          />
        </>
      )}
    </section>
  );
}
