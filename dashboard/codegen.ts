import type { CodegenConfig } from '@graphql-codegen/cli';

// Two generated clients:
// - src/gql-public: operations in src/ops/public/ — validated against the PUBLIC contract schema,
//   so they run for anonymous callers and patient organisations; their persisted documents
//   become the trusted-documents manifest (operations.json) the gateway holds anonymous callers to;
// - src/gql: operations in src/ops/signed-in/ — validated against the full API schema (signed-in only).
// A schema change that breaks any operation fails `npm run build` here.
const scalars = { DateTime: 'string', NaiveDate: 'string', JSON: 'unknown' };
const config: CodegenConfig = {
  overwrite: true,
  ignoreNoDocuments: false,
  generates: {
    './src/gql-public/': {
      schema: './schema/public.graphql',
      documents: ['./src/ops/public/**/*.ts'],
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: { scalars, enumsAsTypes: true, useTypeImports: true, skipTypename: true },
    },
    './src/gql/': {
      schema: './schema/api.graphql',
      documents: ['./src/ops/signed-in/**/*.ts'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { scalars, enumsAsTypes: true, useTypeImports: true, skipTypename: true },
    },
  },
};
export default config;
