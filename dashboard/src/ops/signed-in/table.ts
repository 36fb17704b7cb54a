import { graphql } from '../../gql';

/** Landelijke tafel, signed-in part: measures of the escalations the caller may read in full. */
export const TableMeasuresQuery = graphql(`
  query TableMeasures {
    escalations(first: 100) {
      nodes {
        id
        regionCode
        category
        targetGroup
        measures { id title dueDate status overdue owner { name } }
      }
    }
  }
`);
