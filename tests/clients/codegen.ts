import type { CodegenConfig } from "@graphql-codegen/cli";

// The client preset alone: it holds the `typescript` and `typescript-operations`
// types already (adding those plugins again gives TS2300 Duplicate identifier).
const config: CodegenConfig = {
  schema: "schema.graphql",
  documents: ["src/**/*.ts"],
  ignoreNoDocuments: true,
  generates: { "src/gql/": { preset: "client" } },
};

export default config;
