import { graphql } from '../../gql';

/** Who is signed in, for which organisation (Query.me, identity-register issue). */
export const MeQuery = graphql(`
  query Me {
    me { person roles organisation { id name kind } }
  }
`);
