import { InMemoryCache } from "@apollo/client";
import { relayStylePagination } from "@apollo/client/utilities";

export const createCache = () =>
  new InMemoryCache({
    typePolicies: {
      User: { keyFields: ["username"] },
      Group: { keyFields: ["name"], fields: { members: relayStylePagination() } },
      Model: { keyFields: ["id"], fields: { access: relayStylePagination() } },
      Query: {
        fields: {
          searchUsers: relayStylePagination(["query", "role", "disabled", "group"]),
          auditLog: relayStylePagination(["actor", "targetType", "targetId", "since"]),
        },
      },
    },
  });
