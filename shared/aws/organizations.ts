/** The organisation's ACTIVE accounts (organizations:ListAccounts, from the management or a delegated account). */
import { ListAccountsCommand, type OrganizationsClient } from "@aws-sdk/client-organizations";

// For handlers that load Organizations only when a sweep needs it: the client, imported by name (tree-shaken).
export { OrganizationsClient } from "@aws-sdk/client-organizations";

import { classify } from "./errors.ts";

export async function listActiveAccounts(client: OrganizationsClient): Promise<string[]> {
  const ids: string[] = [];
  let NextToken: string | undefined;
  do {
    const out = await client
      .send(new ListAccountsCommand({ ...(NextToken ? { NextToken } : {}) }))
      .catch((error: unknown) => {
        throw classify(error);
      });
    for (const a of out.Accounts ?? []) {
      // Status is deprecated in favour of State; either says ACTIVE for a usable account.
      const state = (a as { State?: string }).State ?? a.Status;
      if (a.Id && state === "ACTIVE") ids.push(a.Id);
    }
    NextToken = out.NextToken;
  } while (NextToken);
  return ids;
}
