import { graphql } from '../../gql';

/** Vroegsignalering: the continuity signals the caller may read. */
export const SignalsQuery = graphql(`
  query Signals($status: SignalStatus) {
    continuitySignals(first: 100, status: $status) {
      nodes {
        id
        regionCode
        status
        overdue
        raisedAt
        acknowledgementDeadline
        acknowledgedAt
        kind
        severity
        expectedDate
        version
        offer { unitName category provider { name } }
      }
    }
  }
`);

/** Acknowledge one signal (the coordinating insurer of its region). */
export const AcknowledgeSignalMutation = graphql(`
  mutation AcknowledgeSignal($id: ID!, $expectedVersion: Int!) {
    acknowledgeContinuitySignal(id: $id, expectedVersion: $expectedVersion) { id status acknowledgedAt version }
  }
`);
