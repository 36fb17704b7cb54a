import { graphql } from '../../gql-public';

/** The list of regions for the region picker. */
export const RegionListQuery = graphql(`
  query RegionList {
    regions(kind: CARE_OFFICE, first: 100) { nodes { code name } }
  }
`);

/**
 * One region from the region subgraph: offers, intake pauses, waiting times, published overview, neighbours.
 * What the national-table subgraph adds is a separate request (RegionNationalQuery), so that either part
 * still shows when the other subgraph does not answer (a non-null field of a failed subgraph would null the
 * whole region).
 */
export const RegionPublicQuery = graphql(`
  query RegionPublic($code: String!, $year: Int!) {
    region(code: $code) {
      code
      name
      tile { row column }
      missingCategories
      coordinatingInsurer { name }
      signalCounts { open overdue acknowledged escalated resolved }
      neighbours { code name tile { row column } missingCategories }
      offers(first: 100) {
        nodes {
          id
          unitName
          category
          status
          location
          availability
          supraRegional
          careForm { name }
          provider { name }
          intakePause { from until reason }
          meta { updatedAt }
        }
      }
      overview(year: $year) { year status publishedAt publicSummary assessments { category whatWeHave problems missing coveredByNeighbour supraRegionalRole } }
    }
  }
`);

/**
 * A region's waiting times, a request of its own: a caller who may not read them (the hub operator)
 * still gets the rest of the region (a refused root list would blank the whole answer).
 */
export const RegionWaitingQuery = graphql(`
  query RegionWaiting($code: String!, $month: String) {
    waitingTimes(region: $code, first: 100, month: $month) {
      nodes { diagnosisGroup month location registrationToIntakeWeeks intakeToTreatmentWeeks totalWeeks exceedsTreeknorm waitingCount { label } provider { name } }
    }
    diagnosisGroups { code name }
  }
`);

/** One region's escalations, supra-regional coverage and uncovered target groups (national-table subgraph). */
export const RegionNationalQuery = graphql(`
  query RegionNational($code: String!) {
    region(code: $code) {
      code
      escalations { id status category targetGroup publicSummary decidedAt }
      supraRegionalCoverage { id targetGroup hs8 offer { unitName location provider { name } category } }
      uncoveredTargetGroups
    }
  }
`);

/** 24-month trends of one region (national-picture aggregates). */
export const RegionTrendQuery = graphql(`
  query RegionTrend($code: String!, $from: String!, $to: String!) {
    nationalPicture {
      asOf
      offerTrend(from: $from, to: $to, region: $code) { period status count }
      waitingTimeTrend(from: $from, to: $to, region: $code) { period reports overTreeknorm shareOverTreeknorm medianWeeks p90Weeks }
    }
  }
`);
