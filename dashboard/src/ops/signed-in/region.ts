import { graphql } from '../../gql';

/** Capacity of a region's offers: for participants and the national table (null + FORBIDDEN otherwise). */
export const RegionCapacityQuery = graphql(`
  query RegionCapacity($code: String!) {
    region(code: $code) {
      code
      offers(first: 100) { nodes { id unitName category capacity { beds places teams fte } } }
    }
  }
`);
