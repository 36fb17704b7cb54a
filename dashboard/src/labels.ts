/** Dutch labels (B1) for the schema's enums, and number and date formats. */
export const CATEGORIES = ['ACUTE', 'OUTREACH', 'CLINICAL', 'SECURE', 'SPECIALIST_MHC', 'SPECIALIST_HOSPITAL'] as const;
export type Category = (typeof CATEGORIES)[number];

export const categoryLabel: Record<string, string> = {
  ACUTE: 'Acute ggz',
  OUTREACH: 'Zorg aan huis (outreach)',
  CLINICAL: 'Opname in een kliniek',
  SECURE: 'Beveiligde zorg',
  SPECIALIST_MHC: 'Hoogspecialistische ggz',
  SPECIALIST_HOSPITAL: 'Hoogspecialistische zorg in ziekenhuizen',
};

export const STATUSES = ['SECURED', 'UNDER_PRESSURE', 'CLOSING', 'CLOSED'] as const;
export const statusLabel: Record<string, string> = {
  SECURED: 'Geborgd',
  UNDER_PRESSURE: 'Onder druk',
  CLOSING: 'Gaat sluiten',
  CLOSED: 'Gesloten',
};

export const ESCALATION_STATUSES = ['SUBMITTED', 'IN_DISCUSSION', 'MEASURE_AGREED', 'RESOLVED', 'DECLINED'] as const;
export const escalationStatusLabel: Record<string, string> = {
  SUBMITTED: 'Ingediend',
  IN_DISCUSSION: 'In bespreking',
  MEASURE_AGREED: 'Maatregel afgesproken',
  RESOLVED: 'Opgelost',
  DECLINED: 'Afgewezen',
};

export const measureStatusLabel: Record<string, string> = {
  PLANNED: 'Gepland',
  IN_PROGRESS: 'Bezig',
  DONE: 'Klaar',
  CANCELLED: 'Gestopt',
};

export const signalStatusLabel: Record<string, string> = {
  OPEN: 'Open',
  ACKNOWLEDGED: 'Bevestigd',
  RESOLVED: 'Opgelost',
  ESCALATED: 'Naar de landelijke tafel',
};

export const signalKindLabel: Record<string, string> = {
  STAFFING: 'Personeel',
  FINANCE: 'Geld',
  HOUSING: 'Huisvesting',
  CLOSURE: 'Sluiting',
  INTAKE_PAUSE: 'Aanmeldstop',
  OTHER: 'Anders',
};

export const severityLabel: Record<string, string> = {
  LOW: 'Laag',
  MEDIUM: 'Middel',
  HIGH: 'Hoog',
  CRITICAL: 'Zeer hoog',
};

export const availabilityLabel: Record<string, string> = {
  TWENTY_FOUR_SEVEN: 'Dag en nacht',
  OFFICE_HOURS: 'Kantoortijden',
};

export const orgKindLabel: Record<string, string> = {
  PROVIDER: 'zorgaanbieder',
  INSURER: 'zorgverzekeraar',
  PATIENT_ORGANISATION: 'patiëntenorganisatie',
  MUNICIPALITY: 'gemeente',
  NATIONAL_TABLE: 'landelijke tafel',
  HUB_OPERATOR: 'beheerder',
};

const dateFormat = new Intl.DateTimeFormat('nl-NL', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Amsterdam' });
const dateTimeFormat = new Intl.DateTimeFormat('nl-NL', {
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'Europe/Amsterdam',
});
const monthFormat = new Intl.DateTimeFormat('nl-NL', { month: 'long', year: 'numeric', timeZone: 'UTC' });

export const formatDate = (iso: string | null | undefined): string => (iso ? dateFormat.format(new Date(iso)) : '—');
export const formatDateTime = (iso: string | Date): string => dateTimeFormat.format(typeof iso === 'string' ? new Date(iso) : iso);
export const formatMonth = (month: string): string => monthFormat.format(new Date(`${month}-01T00:00:00Z`));
export const formatPercent = (share: number): string => `${Math.round(share * 100)}%`;
export const formatNumber = (n: number, digits = 0): string =>
  n.toLocaleString('nl-NL', { maximumFractionDigits: digits, minimumFractionDigits: digits });
