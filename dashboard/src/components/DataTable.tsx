import { useId, type ReactNode } from 'react';

export interface Column<Row> {
  key: string;
  label: string;
  numeric?: boolean;
  /** Plain value for the CSV file (and the cell when `render` is absent). */
  value: (row: Row) => string | number | null | undefined;
  render?: (row: Row) => ReactNode;
}

const csvCell = (v: string | number | null | undefined) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[";\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** CSV with `;` as separator (as Dutch spreadsheets expect) and a byte-order mark for UTF-8. */
export function toCsv<Row>(columns: Column<Row>[], rows: Row[]): string {
  const lines = [columns.map((c) => csvCell(c.label)).join(';')];
  for (const row of rows) lines.push(columns.map((c) => csvCell(c.value(row))).join(';'));
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}

function download(filename: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** An accessible table with a caption and a CSV download button. */
export function DataTable<Row>({
  caption,
  columns,
  rows,
  filename,
  rowClass,
  empty = 'Geen gegevens.',
}: {
  caption: string;
  columns: Column<Row>[];
  rows: Row[];
  filename: string;
  rowClass?: (row: Row) => string | undefined;
  empty?: string;
}) {
  const id = useId();
  return (
    <div className="table-block">
      <div className="table-scroll" role="region" aria-labelledby={id} tabIndex={0}>
        <table className="utrecht-table utrecht-table--html-table">
          <caption id={id} className="utrecht-table__caption">
            {caption}
          </caption>
          <thead className="utrecht-table__header">
            <tr className="utrecht-table__row">
              {columns.map((c) => (
                <th
                  key={c.key}
                  scope="col"
                  className={`utrecht-table__header-cell${c.numeric ? ' utrecht-table__header-cell--numeric' : ''}`}
                >
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody className="utrecht-table__body">
            {rows.length === 0 ? (
              <tr className="utrecht-table__row">
                <td className="utrecht-table__cell" colSpan={columns.length}>
                  {empty}
                </td>
              </tr>
            ) : (
              rows.map((row, i) => (
                <tr key={i} className={`utrecht-table__row ${rowClass?.(row) ?? ''}`}>
                  {columns.map((c, j) =>
                    j === 0 ? (
                      <th key={c.key} scope="row" className="utrecht-table__cell utrecht-table__header-cell--row">
                        {c.render ? c.render(row) : c.value(row)}
                      </th>
                    ) : (
                      <td key={c.key} className={`utrecht-table__cell${c.numeric ? ' utrecht-table__cell--numeric' : ''}`}>
                        {c.render ? c.render(row) : c.value(row)}
                      </td>
                    ),
                  )}
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
      <button
        type="button"
        className="utrecht-button utrecht-button--secondary-action csv-button"
        onClick={() => download(filename, toCsv(columns, rows))}
      >
        Download als CSV<span className="visually-hidden">: {caption}</span>
      </button>
    </div>
  );
}
