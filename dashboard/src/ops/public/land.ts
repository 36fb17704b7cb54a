import { graphql } from '../../gql-public';

/** Land view, one request: the national aggregates and every region with its tile and counts. */
export const LandPictureQuery = graphql(`
  query LandPicture {
    nationalPicture {
      asOf
      offerCounts { category status count }
      activeIntakePauses { category count }
      signalCounts { open overdue }
      regions(kind: CARE_OFFICE) {
        code
        name
        tile { row column }
        missingCategories
        offerCounts { category status count }
        activeIntakePauses { category count }
      }
    }
  }
`);

/**
 * Land view on a hub without the national-picture aggregates yet: the same figures counted
 * from the offers themselves (still one request).
 */
export const LandOffersQuery = graphql(`
  query LandOffers {
    regions(kind: CARE_OFFICE, first: 40) {
      nodes {
        code
        name
        tile { row column }
        missingCategories
        offers(first: 100) { nodes { category status intakePause { from } } }
      }
    }
  }
`);
