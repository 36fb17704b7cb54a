// The operations this example sends. `npm run codegen` checks each against the hub's API schema
// and generates its result and variable types (src/gql/).
import { graphql } from './gql/index.js';

export const Me = graphql(`
  query Me {
    me { organisation { id name } kind regions }
  }
`);

export const CoordinatingInsurer = graphql(`
  query CoordinatingInsurer($region: String!) {
    region(code: $region) { name coordinatingInsurer { id name } }
  }
`);

export const ChangeFeedPosition = graphql(`
  query ChangeFeedPosition {
    changeFeedPosition
  }
`);

export const ProviderOffers = graphql(`
  query ProviderOffers($providerId: ID!, $first: Int!, $after: String) {
    careOffers(providerId: $providerId, first: $first, after: $after) {
      nodes { id unitName location status version region { code } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const CareOffer = graphql(`
  query CareOffer($id: ID!) {
    careOffer(id: $id) { id unitName location status version region { code } }
  }
`);

export const DiagnosisGroups = graphql(`
  query DiagnosisGroups {
    diagnosisGroups { code }
  }
`);

export const ReportWaitingTimes = graphql(`
  mutation ReportWaitingTimes($reports: [WaitingTimeInput!]!) {
    reportWaitingTimes(input: $reports) { id location diagnosisGroup month version }
  }
`);

export const UpdateUnitName = graphql(`
  mutation UpdateUnitName($id: ID!, $expectedVersion: Int!, $unitName: String!) {
    updateCareOffer(id: $id, expectedVersion: $expectedVersion, input: { unitName: $unitName }) {
      id unitName location status version region { code }
    }
  }
`);

export const OpenSignals = graphql(`
  query OpenSignals($region: String!) {
    continuitySignals(region: $region, status: OPEN, first: 10) {
      nodes { id status version offer { unitName provider { name } } }
    }
  }
`);

export const RaiseSignal = graphql(`
  mutation RaiseSignal($input: RaiseSignalInput!) {
    raiseContinuitySignal(input: $input) { id status version offer { unitName provider { name } } }
  }
`);

export const AcknowledgeSignal = graphql(`
  mutation AcknowledgeSignal($id: ID!, $expectedVersion: Int!, $response: String!) {
    acknowledgeContinuitySignal(id: $id, expectedVersion: $expectedVersion, response: $response) {
      id status version acknowledgedAt response
    }
  }
`);

export const CareOfferChanges = graphql(`
  query CareOfferChanges($since: String!, $first: Int!) {
    careOfferChanges(since: $since, first: $first) {
      changes { id tombstone node { id unitName location status version region { code } } }
      next
      hasMore
    }
  }
`);

export const WaitingTimeReportChanges = graphql(`
  query WaitingTimeReportChanges($since: String!, $first: Int!) {
    waitingTimeReportChanges(since: $since, first: $first) {
      changes { id tombstone node { id location diagnosisGroup month version } }
      next
      hasMore
    }
  }
`);
