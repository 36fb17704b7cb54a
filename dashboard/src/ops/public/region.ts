import { graphql } from '../../gql-public';

/** The list of regions for the region picker. */
export const RegionListQuery = graphql(`
  query RegionList {
    regions(kind: CARE_OFFICE, first: 100) { nodes { code name } }
  }
`);

/** One region: offers, intake pauses, published overview, escalations, coverage, neighbours. */
export const RegionPublicQuery = graphql(`
  query RegionPublic($code: String!, $year: Int!, $month: String) {
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
      escalations { id status category targetGroup publicSummary decidedAt }
      supraRegionalCoverage { id targetGroup hs8 offer { unitName location provider { name } category } }
      uncoveredTargetGroups
    }
    waitingTimes(region: $code, first: 100, month: $month) {
      nodes { diagnosisGroup month location registrationToIntakeWeeks intakeToTreatmentWeeks totalWeeks exceedsTreeknorm waitingCount { label } provider { name } }
    }
    diagnosisGroups { code name }
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
