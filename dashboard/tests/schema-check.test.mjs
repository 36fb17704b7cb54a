// The hub's schema checks (scripts/schema-check.mjs): what a partner's operation would feel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDeclarations, compare, manifestDocuments, validateOperations } from '../scripts/schema-check.mjs';

const RELEASED = `
type Query {
  offers: [Offer!]!
  oldOffers: [Offer!]! @deprecated(reason: "Use offers. Removal on or after 2027-01-01.")
  legacy: Int @deprecated(reason: "Use offers.")
}
type Offer { id: ID! name: String! status: Status! }
enum Status { OPEN CLOSED }
`;

test('an additive change passes', async () => {
  const current = RELEASED.replace('status: Status!', 'status: Status! waitingWeeks: Int');
  const result = await compare(RELEASED, current, { today: '2026-12-06' });
  assert.deepEqual(result.breaking, []);
  assert.equal(result.safe.length, 1);
});

test('removing a field a partner may use is breaking', async () => {
  const current = RELEASED.replace('name: String! ', '');
  const result = await compare(RELEASED, current, { today: '2026-12-06' });
  assert.deepEqual(result.breaking.map((c) => c.path), ['Offer.name']);
});

test('changing a type or removing an enum value is breaking', async () => {
  const current = RELEASED.replace('name: String!', 'name: Int!').replace('OPEN CLOSED', 'OPEN');
  const result = await compare(RELEASED, current, { today: '2026-12-06' });
  assert.deepEqual(result.breaking.map((c) => c.path).sort(), ['Offer.name', 'Status.CLOSED']);
});

test('a declared breaking change passes, and says why', async () => {
  const current = RELEASED.replace('name: String! ', '');
  const declared = [{ path: 'Offer.name', reason: 'agreed with all partners', announced: '2026-11-01' }];
  const result = await compare(RELEASED, current, { declared, today: '2026-12-06' });
  assert.deepEqual(result.breaking, []);
  assert.match(result.allowed[0][1], /declared \(announced 2026-11-01\): agreed with all partners/);
});

test('a deprecated field goes only after its removal date', async () => {
  const current = RELEASED.replace(/ {2}oldOffers.*\n/, '');
  const early = await compare(RELEASED, current, { today: '2026-12-31' });
  assert.deepEqual(early.breaking.map((c) => c.path), ['Query.oldOffers']);
  const due = await compare(RELEASED, current, { today: '2027-01-01' });
  assert.deepEqual(due.breaking, []);
  assert.match(due.allowed[0][1], /removal on or after 2027-01-01/);
  // Deprecated without a date: never removable without a declaration.
  const undated = await compare(RELEASED, RELEASED.replace(/ {2}legacy.*\n/, ''), { today: '2030-01-01' });
  assert.deepEqual(undated.breaking.map((c) => c.path), ['Query.legacy']);
});

test('operations are validated against the new schema', () => {
  const current = RELEASED.replace('name: String! ', '');
  const documents = [
    { name: 'ok', text: 'query Ids { offers { id status } }' },
    { name: 'uses name', text: 'query Names { offers { id name } }' },
    { name: 'broken', text: 'query {' },
  ];
  const failures = validateOperations(current, documents);
  assert.deepEqual(failures.map((f) => f.name), ['uses name', 'broken']);
  assert.match(failures[0].messages[0], /Cannot query field "name" on type "Offer"/);
});

test('both manifest formats are read', () => {
  const flat = manifestDocuments('operations.json', { abcdef0123456789: '{ offers { id } }' });
  assert.deepEqual(flat.map((d) => d.text), ['{ offers { id } }']);
  const gateway = manifestDocuments('trusted.json', { '*': { aa: '{ offers { id } }' }, 'org-1': { bb: '{ legacy }' } });
  assert.deepEqual(gateway.map((d) => d.text), ['{ offers { id } }', '{ legacy }']);
});

test('declarations need a path, a reason and an announcement date', () => {
  assert.deepEqual(checkDeclarations([{ path: 'Offer.name', reason: 'x', announced: '2026-11-01' }]), []);
  assert.equal(checkDeclarations([{ path: 'Offer.name' }]).length, 2);
  assert.deepEqual(checkDeclarations([{ path: 'a', reason: 'b', announced: 'soon' }]), ['entry 0: "announced" is not a date (YYYY-MM-DD)']);
  assert.equal(checkDeclarations({}).length, 1);
});
