import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { AcknowledgeSignalMutation, SignalsQuery } from '../ops/signed-in/signals';
import { errorCode, signedInPartState } from '../errors';
import { categoryLabel, formatDate, formatDateTime, severityLabel, signalKindLabel, signalStatusLabel } from '../labels';
import { DataTable, type Column } from '../components/DataTable';
import { DataDate, Loading, Notice, PartNotice } from '../components/Notice';
import { useSession } from '../session';

const DAY = 24 * 60 * 60 * 1000;

export default function Signalen() {
  const { signedIn, auth } = useSession();
  return (
    <>
      <h1 className="utrecht-heading-1">Vroegsignalering</h1>
      <p className="lead">
        Signalen van zorgaanbieders dat een afdeling of team in gevaar komt. De coördinerend zorgverzekeraar bevestigt een
        signaal vóór de termijn afloopt.
      </p>
      {signedIn ? (
        <SignalList />
      ) : (
        <Notice kind="info">
          <p>Log in als zorgaanbieder of zorgverzekeraar om uw signalen te zien.</p>
          {auth.enabled && (
            <button type="button" className="utrecht-button utrecht-button--primary-action" onClick={() => void auth.signIn('/vroegsignalering')}>
              Inloggen
            </button>
          )}
        </Notice>
      )}
    </>
  );
}

function SignalList() {
  const [status, setStatus] = useState('OPEN');
  const [result, refetch] = useQuery({ query: SignalsQuery, variables: { status: status === 'ALL' ? null : (status as 'OPEN') } });
  const [ackState, acknowledge] = useMutation(AcknowledgeSignalMutation);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error' | 'warning'; text: string }>();
  const [now] = useState(() => Date.now());
  const [fetchedAt, setFetchedAt] = useState(() => new Date().toISOString());

  const signals = [...(result.data?.continuitySignals.nodes ?? [])].sort((a, b) => a.acknowledgementDeadline.localeCompare(b.acknowledgementDeadline));
  type Signal = (typeof signals)[number];
  const daysLeft = (s: Signal) => Math.ceil((new Date(s.acknowledgementDeadline).getTime() - now) / DAY);
  const daysText = (s: Signal) => {
    if (s.status !== 'OPEN') return '';
    const d = daysLeft(s);
    if (s.overdue || d <= 0 && new Date(s.acknowledgementDeadline).getTime() < now) {
      const late = Math.max(1, Math.ceil((now - new Date(s.acknowledgementDeadline).getTime()) / DAY));
      return `${late} ${late === 1 ? 'dag' : 'dagen'} te laat`;
    }
    if (d === 0) return 'vandaag';
    return `nog ${d} ${d === 1 ? 'dag' : 'dagen'}`;
  };

  const onAcknowledge = async (s: Signal) => {
    setMessage(undefined);
    const r = await acknowledge({ id: s.id, expectedVersion: s.version });
    const code = errorCode(r.error);
    const what = s.offer ? `${s.offer.unitName} (${s.offer.provider.name})` : `het signaal in ${s.regionCode}`;
    if (!r.error) setMessage({ kind: 'ok', text: `Bevestigd: ${what}.` });
    else if (code === 'CONFLICT')
      setMessage({
        kind: 'warning',
        text: `Dit signaal is net door iemand anders gewijzigd. We hebben de lijst opnieuw geladen. Kijk of bevestigen nog nodig is: ${what}.`,
      });
    else if (code === 'FORBIDDEN') setMessage({ kind: 'error', text: `Uw organisatie mag dit signaal niet bevestigen. Alleen de coördinerend zorgverzekeraar van de regio kan dat.` });
    else setMessage({ kind: 'error', text: `Bevestigen is niet gelukt. Probeer het later opnieuw. (${r.error.message})` });
    refetch({ requestPolicy: 'network-only' });
    setFetchedAt(new Date().toISOString());
  };

  const columns: Column<Signal>[] = [
    { key: 'offer', label: 'Afdeling of team', value: (s) => s.offer?.unitName ?? 'niet zichtbaar voor u' },
    { key: 'provider', label: 'Zorgaanbieder', value: (s) => s.offer?.provider.name ?? '' },
    { key: 'region', label: 'Regio', value: (s) => s.regionCode },
    { key: 'category', label: 'Categorie', value: (s) => (s.offer ? categoryLabel[s.offer.category] : '') },
    { key: 'kind', label: 'Soort', value: (s) => (s.kind ? signalKindLabel[s.kind] : '') },
    { key: 'severity', label: 'Ernst', value: (s) => (s.severity ? severityLabel[s.severity] : '') },
    { key: 'status', label: 'Status', value: (s) => signalStatusLabel[s.status] },
    { key: 'raised', label: 'Gemeld op', value: (s) => formatDate(s.raisedAt) },
    { key: 'deadline', label: 'Bevestigen vóór', value: (s) => formatDateTime(s.acknowledgementDeadline) },
    {
      key: 'left',
      label: 'Dagen over',
      value: daysText,
      render: (s) => <span className={s.overdue ? 'overdue' : undefined}>{daysText(s)}</span>,
    },
    {
      key: 'action',
      label: 'Actie',
      value: () => '',
      render: (s) =>
        s.status === 'OPEN' ? (
          <button
            type="button"
            className="utrecht-button utrecht-button--secondary-action"
            disabled={ackState.fetching}
            onClick={() => void onAcknowledge(s)}
          >
            Bevestigen<span className="visually-hidden">: {s.offer?.unitName ?? s.id}</span>
          </button>
        ) : s.acknowledgedAt ? (
          `bevestigd op ${formatDate(s.acknowledgedAt)}`
        ) : (
          ''
        ),
    },
  ];
  const overdue = signals.filter((s) => s.overdue).length;
  return (
    <>
      <DataDate asOf={fetchedAt} fetched />
      <div className="utrecht-form-field utrecht-form-field--select">
        <label className="utrecht-form-label" htmlFor="signal-status">
          Welke signalen
        </label>
        <select id="signal-status" className="utrecht-select utrecht-select--html-select" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="OPEN">Open signalen</option>
          <option value="ACKNOWLEDGED">Bevestigde signalen</option>
          <option value="ESCALATED">Naar de landelijke tafel</option>
          <option value="RESOLVED">Opgeloste signalen</option>
          <option value="ALL">Alle signalen</option>
        </select>
      </div>
      <div aria-live="polite">{message && <Notice kind={message.kind}><p>{message.text}</p></Notice>}</div>
      {result.fetching && !result.data && <Loading what="De signalen" />}
      <PartNotice state={signedInPartState(result.error, ['continuitySignals'])} what="Signalen" />
      {result.data && (
        <p>
          {signals.length} signalen, waarvan <strong>{overdue} te laat</strong> bevestigd.
        </p>
      )}
      <DataTable
        caption="Vroegsignalen met de termijn om te bevestigen"
        columns={columns}
        rows={signals}
        rowClass={(s) => (s.overdue ? 'row--overdue' : undefined)}
        filename={`vroegsignalen-${status.toLowerCase()}.csv`}
        empty="Geen signalen die u mag zien."
      />
    </>
  );
}
