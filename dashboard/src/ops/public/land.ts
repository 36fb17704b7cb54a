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
