import { Link } from '../router';
import { formatPercent } from '../labels';

export interface TileRegion {
  code: string;
  name: string;
  tile?: { row: number; column: number } | null;
  /** Share of offers under pressure or closing, null when the region has no offers (in the chosen category). */
  share: number | null;
  /** Categories without any available offer. */
  missing: number;
  /** Short extra text for the tile (e.g. "2 van 8"). */
  detail?: string;
}

/** Colour classes with clear thresholds; every tile also carries its figure as text. */
export const SHARE_CLASSES: { max: number; className: string; label: string }[] = [
  { max: 0, className: 'share-0', label: 'geen aanbod onder druk' },
  { max: 0.1, className: 'share-1', label: 'minder dan 10%' },
  { max: 0.25, className: 'share-2', label: '10% tot 25%' },
  { max: 0.5, className: 'share-3', label: '25% tot 50%' },
  { max: 1, className: 'share-4', label: '50% of meer' },
];

export function shareClass(share: number | null): string {
  if (share === null) return 'share-none';
  if (share === 0) return 'share-0';
  if (share < 0.1) return 'share-1';
  if (share < 0.25) return 'share-2';
  if (share < 0.5) return 'share-3';
  return 'share-4';
}

/** Schematic tile map of the Netherlands: one square per region, each a link to the region's page. */
export function TileMap({ regions, label, small = false }: { regions: TileRegion[]; label: string; small?: boolean }) {
  const placed = regions.filter((r) => r.tile);
  const rows = Math.max(0, ...placed.map((r) => r.tile!.row)) + 1;
  const columns = Math.max(0, ...placed.map((r) => r.tile!.column)) + 1;
  const sorted = [...placed].sort((a, b) => a.tile!.row - b.tile!.row || a.tile!.column - b.tile!.column);
  return (
    <nav aria-label={label} className={`tile-map${small ? ' tile-map--small' : ''}`}>
      <ul className="tile-map__grid" style={{ gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))`, gridTemplateRows: `repeat(${rows}, auto)` }}>
        {sorted.map((r) => {
          const figure = r.share === null ? 'geen aanbod' : `${formatPercent(r.share)} onder druk of gaat sluiten`;
          const missing = r.missing > 0 ? `, ${r.missing} ${r.missing === 1 ? 'categorie' : 'categorieën'} ontbreekt` : '';
          return (
            <li key={r.code} className="tile-map__cell" style={{ gridRow: r.tile!.row + 1, gridColumn: r.tile!.column + 1 }}>
              <Link
                href={`/regio/${r.code}`}
                className={`tile ${shareClass(r.share)}${r.missing > 0 ? ' tile--missing' : ''}`}
                aria-label={`${r.name}: ${figure}${missing}`}
              >
                <span className="tile__name" aria-hidden="true">
                  {r.name}
                </span>
                {!small && (
                  <span className="tile__figure" aria-hidden="true">
                    {r.share === null ? '–' : formatPercent(r.share)}
                    {r.missing > 0 ? ' ⚠' : ''}
                  </span>
                )}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

export function TileLegend() {
  return (
    <div className="tile-legend">
      <p className="tile-legend__title">Deel van het aanbod dat onder druk staat of gaat sluiten</p>
      <ul>
        {SHARE_CLASSES.map((c) => (
          <li key={c.className}>
            <span className={`tile-legend__swatch ${c.className}`} aria-hidden="true" /> {c.label}
          </li>
        ))}
        <li>
          <span className="tile-legend__swatch share-none" aria-hidden="true" /> geen aanbod in deze categorie
        </li>
        <li>
          <span className="tile-legend__swatch tile--missing" aria-hidden="true">⚠</span> een categorie ontbreekt in de regio
        </li>
      </ul>
    </div>
  );
}
