// Operations typed by graphql-codegen from schema.graphql; `tsc --strict` checks them.
import type { ApolloClient } from "@apollo/client";

import { graphql } from "./gql";

export const UserQuery = graphql(`
  query User($username: String!) {
    user(username: $username) { username fullName role groups { name } }
  }
`);

export const EditFullName = graphql(`
  mutation EditFullName($username: String!, $fullName: String) {
    editUser(input: { username: $username, fullName: $fullName }) { username fullName }
  }
`);

export async function fullNameOf(client: ApolloClient, username: string): Promise<string | null> {
  const { data } = await client.query({ query: UserQuery, variables: { username } });
  const fullName: string | null | undefined = data?.user?.fullName;
  // The types are the schema's, not `any`: these would not compile.
  // @ts-expect-error fullName is a string or null, never a number
  const wrong: number = data?.user?.fullName;
  // @ts-expect-error username is required
  await client.query({ query: UserQuery, variables: {} });
  void wrong;
  return fullName ?? null;
}
