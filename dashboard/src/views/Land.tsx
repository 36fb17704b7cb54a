import { useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { LandPictureQuery } from '../ops/public/land';
import { partState } from '../errors';
import { CATEGORIES, STATUSES, categoryLabel, formatNumber, formatPercent, statusLabel } from '../labels';
import { DataTable, type Column } from '../components/DataTable';
import { DataDate, Loading, PartNotice } from '../components/Notice';
import { TileLegend, TileMap, type TileRegion } from '../components/TileMap';

interface Count {
  category: string;
  status: string;
  count: number;
}
interface RegionFigures {
  code: string;
  name: string;
  tile?: { row: number; column: number } | null;
  missingCategories: string[];
  counts: Count[];
  pauses: { category: string; count: number }[];
}

/** The figures of the Land view, from the national-picture aggregates (one request). */
function useLandFigures() {
  const [picture] = useQuery({ query: LandPictureQuery });
  return useMemo(() => {
    const p = picture.data?.nationalPicture;
    return {
      fetching: picture.fetching,
      error: picture.error,
      asOf: (p?.asOf as string | null) ?? null,
      fetched: false,
      regions: (p?.regions ?? []).map(
        (r): RegionFigures => ({
          code: r.code,
          name: r.name,
          tile: r.tile,
          missingCategories: r.missingCategories,
          counts: r.offerCounts,
          pauses: r.activeIntakePauses,
        }),
      ),
    };
  }, [picture]);
}

const countOf = (r: RegionFigures, category: string | null, statuses: readonly string[]) =>
  r.counts
    .filter((c) => (category === null || c.category === category) && statuses.includes(c.status))
    .reduce((sum, c) => sum + c.count, 0);

const ACTIVE = ['SECURED', 'UNDER_PRESSURE', 'CLOSING'] as const;
const PRESSURE = ['UNDER_PRESSURE', 'CLOSING'] as const;

export default function Land() {
  const figures = useLandFigures();
  const [category, setCategory] = useState<string>('ALL');
  const chosen = category === 'ALL' ? null : category;

  const rows = useMemo(
    () =>
      [...figures.regions]
        .sort((a, b) => a.name.localeCompare(b.name, 'nl'))
        .map((r) => {
          const active = countOf(r, chosen, ACTIVE);
          const pressure = countOf(r, chosen, PRESSURE);
          const missing = chosen === null ? r.missingCategories : r.missingCategories.filter((m) => m === chosen);
          return {
            region: r,
            active,
            underPressure: countOf(r, chosen, ['UNDER_PRESSURE']),
            closing: countOf(r, chosen, ['CLOSING']),
            share: active === 0 ? null : pressure / active,
            missing,
          };
        }),
    [figures.regions, chosen],
  );

  const tiles: TileRegion[] = rows.map((r) => ({
    code: r.region.code,
    name: r.region.name,
    tile: r.region.tile,
    share: r.share,
    missing: r.missing.length,
  }));

  const chosenLabel = chosen ? categoryLabel[chosen] : 'alle categorieën';
  type Row = (typeof rows)[number];
  const columns: Column<Row>[] = [
    { key: 'region', label: 'Regio', value: (r) => r.region.name },
    { key: 'active', label: 'Aanbod (niet gesloten)', numeric: true, value: (r) => r.active },
    { key: 'pressure', label: 'Onder druk', numeric: true, value: (r) => r.underPressure },
    { key: 'closing', label: 'Gaat sluiten', numeric: true, value: (r) => r.closing },
    {
      key: 'share',
      label: 'Deel onder druk of gaat sluiten',
      numeric: true,
      value: (r) => (r.share === null ? '' : formatPercent(r.share)),
      render: (r) => (r.share === null ? 'geen aanbod' : formatPercent(r.share)),
    },
    {
      key: 'missing',
      label: 'Ontbrekende categorieën',
      value: (r) => r.missing.map((m) => categoryLabel[m]).join(', '),
      render: (r) => (r.missing.length ? <strong>{r.missing.map((m) => categoryLabel[m]).join(', ')}</strong> : 'geen'),
    },
  ];

  type MatrixRow = RegionFigures;
  const matrixColumns: Column<MatrixRow>[] = [
    { key: 'region', label: 'Regio', value: (r) => r.name },
    ...CATEGORIES.map(
      (c): Column<MatrixRow> => ({
        key: c,
        label: categoryLabel[c],
        value: (r) =>
          STATUSES.map((s) => `${statusLabel[s]} ${countOf(r, c, [s])}`).join(', ') +
          (r.missingCategories.includes(c) ? ', ontbreekt' : ''),
        render: (r) => <MatrixCell region={r} category={c} />,
      }),
    ),
  ];
  const matrixRows = [...figures.regions].sort((a, b) => a.name.localeCompare(b.name, 'nl'));

  const national = STATUSES.map((s) => ({
    status: s,
    count: figures.regions.reduce((sum, r) => sum + countOf(r, chosen, [s]), 0),
  }));

  return (
    <>
      <h1 className="utrecht-heading-1">Land: cruciale ggz per regio</h1>
      <p className="lead">
        Hoeveel cruciale ggz is er per regio, en hoeveel daarvan staat onder druk of gaat sluiten? Kies een categorie om
        alleen die zorg te zien. De kaart is een schema: elk vakje is een zorgkantoorregio.
      </p>
      <DataDate asOf={figures.asOf} fetched={figures.fetched} />
      {figures.fetching && <Loading what="De gegevens van het land" />}
      <PartNotice state={figures.regions.length ? partState(figures.error, ['nationalPicture', 'regions']) : partState(figures.error, [])} what="Gegevens per regio" />

      <div className="utrecht-form-field utrecht-form-field--select">
        <label className="utrecht-form-label" htmlFor="land-category">
          Categorie
        </label>
        <select
          id="land-category"
          className="utrecht-select utrecht-select--html-select"
          value={category}
          onChange={(e) => setCategory(e.target.value)}
        >
          <option value="ALL">Alle categorieën</option>
          {CATEGORIES.map((c) => (
            <option key={c} value={c}>
              {categoryLabel[c]}
            </option>
          ))}
        </select>
      </div>

      <section aria-labelledby="land-national" className="summary">
        <h2 className="utrecht-heading-2" id="land-national">
          Heel Nederland ({chosenLabel})
        </h2>
        <ul className="figures">
          {national.map((n) => (
            <li key={n.status} className={`figure figure--${n.status.toLowerCase()}`}>
              <span className="figure__value">{formatNumber(n.count)}</span> <span className="figure__label">{statusLabel[n.status].toLowerCase()}</span>
            </li>
          ))}
        </ul>
      </section>

      <div className="map-and-table">
        <section aria-labelledby="land-map" className="map-block">
          <h2 className="utrecht-heading-2" id="land-map">
            Kaart: {chosenLabel}
          </h2>
          <p>Kies een regio om de details te zien. Het getal is het deel van het aanbod dat onder druk staat of gaat sluiten.</p>
          <TileMap regions={tiles} label={`Kaart van de regio's, ${chosenLabel}`} />
          <TileLegend />
        </section>
        <section aria-labelledby="land-table" className="table-block-wrap">
          <h2 className="utrecht-heading-2" id="land-table">
            Tabel: {chosenLabel}
          </h2>
          <DataTable caption={`Aanbod onder druk per regio, ${chosenLabel}`} columns={columns} rows={rows} filename={`land-${category.toLowerCase()}.csv`} />
        </section>
      </div>

      <section aria-labelledby="land-matrix">
        <h2 className="utrecht-heading-2" id="land-matrix">
          Overzicht per categorie en regio
        </h2>
        <p>
          Per regio en categorie: hoeveel aanbod geborgd is (G), onder druk staat (D), gaat sluiten (S) of gesloten is (X).
          ‘Ontbreekt’ betekent: geen aanbod in de regio en geen bovenregionaal aanbod dat de regio bedient.
        </p>
        <DataTable caption="Aanbod per categorie en regio, naar status" columns={matrixColumns} rows={matrixRows} filename="land-categorie-regio.csv" />
      </section>
    </>
  );
}

function MatrixCell({ region, category }: { region: RegionFigures; category: string }) {
  const letters: Record<string, string> = { SECURED: 'G', UNDER_PRESSURE: 'D', CLOSING: 'S', CLOSED: 'X' };
  const missing = region.missingCategories.includes(category);
  return (
    <span className={missing ? 'cell-missing' : undefined}>
      {STATUSES.map((s) => {
        const n = countOf(region, category, [s]);
        return (
          <abbr key={s} title={statusLabel[s]} className={`status-count${n > 0 && s !== 'SECURED' ? ' status-count--alert' : ''}`}>
            {letters[s]}&nbsp;{n}
          </abbr>
        );
      })}
      {missing && <strong className="missing-label"> ontbreekt</strong>}
    </span>
  );
}
