import { graphql } from '../../gql-public';

/** Landelijke tafel, public part: escalations (what the caller may see), KPIs, uncovered target groups. */
export const TablePublicQuery = graphql(`
  query TablePublic {
    escalations(first: 100) {
      nodes { id status category regionCode region { name } targetGroup publicSummary decidedAt }
    }
    nationalKpis {
      code
      name
      unit
      direction
      targets { year value }
      measurements(national: true) { year value }
    }
  }
`);

/** Target groups without supra-regional coverage, per region (regions from the region subgraph). */
export const TableUncoveredQuery = graphql(`
  query TableUncovered {
    regions(kind: CARE_OFFICE, first: 100) { nodes { code name uncoveredTargetGroups } }
  }
`);
