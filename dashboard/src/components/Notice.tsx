import type { ReactNode } from 'react';
import type { PartState } from '../errors';

/** A clear Dutch message for a part the gateway hid or a subgraph did not answer. */
export function Notice({ kind, children }: { kind: 'info' | 'warning' | 'error' | 'ok'; children: ReactNode }) {
  const role = kind === 'error' ? 'alert' : 'status';
  return (
    <div className={`notice notice--${kind}`} role={role}>
      {children}
    </div>
  );
}

export function PartNotice({ state, what }: { state: PartState; what: string }) {
  if (state === 'forbidden') {
    return (
      <Notice kind="info">
        <p>
          <strong>{what}: geen toegang.</strong> Uw organisatie mag deze gegevens niet zien. Dat beslist de hub, niet dit
          dashboard.
        </p>
      </Notice>
    );
  }
  if (state === 'unavailable') {
    return (
      <Notice kind="warning">
        <p>
          <strong>{what}: deze gegevens zijn nu niet beschikbaar.</strong> Een deel van de hub gaf geen antwoord. De rest van
          de pagina klopt wel. Probeer het later opnieuw.
        </p>
      </Notice>
    );
  }
  return null;
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      {what} worden geladen…
    </p>
  );
}

/** "Gegevens van …": every view states the date of its data. */
export function DataDate({ asOf, fetched }: { asOf?: string | null; fetched?: boolean }) {
  return (
    <p className="data-date">
      {fetched ? 'Gegevens opgehaald op ' : 'Stand van de gegevens: '}
      <time dateTime={asOf ?? undefined}>{asOf ? formatDateTimeSafe(asOf) : '—'}</time>
    </p>
  );
}

import { formatDateTime } from '../labels';
const formatDateTimeSafe = (iso: string) => {
  try {
    return formatDateTime(iso);
  } catch {
    return iso;
  }
};
