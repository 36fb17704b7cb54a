import type { CodegenConfig } from '@graphql-codegen/cli';

// The operations in src/ (each in a `graphql(...)` call), checked against the hub's API schema
// (schema/api.graphql, `npm run schema`) and typed: src/gql/ gets each operation as a typed
// document string, so a query that no longer fits the schema fails `npm run build`.
const config: CodegenConfig = {
  overwrite: true,
  schema: './schema/api.graphql',
  documents: ['./src/**/*.ts', '!./src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        documentMode: 'string',
        emitLegacyCommonJSImports: false,
        scalars: { DateTime: 'string', NaiveDate: 'string', JSON: 'unknown' },
        enumsAsTypes: true,
        useTypeImports: true,
        skipTypename: true,
      },
    },
  },
};
export default config;
