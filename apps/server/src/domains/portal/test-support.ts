import type { LightMyRequestResponse } from "fastify";
import { makeContact, rand, type TestApp } from "../../../test/helpers.ts";
import { newSecret, sha256 } from "../auth/crypto.ts";
import { PORTAL_COOKIE } from "./session.ts";

export interface PortalContact {
  id: string;
  clientId: string;
  email: string;
  name: string;
  cookie: string;
  cookies: Record<string, string>;
}

/** A contact with portal access and a signed-in portal session (made directly: tests of other things). */
export async function makePortalContact(
  t: Pick<TestApp, "db">,
  clientId: string,
  opts: { companyAdmin?: boolean } = {},
): Promise<PortalContact> {
  const email = `${rand("portal-")}@example.test`;
  const contact = await makeContact(t, clientId, { email });
  await t.db
    .insertInto("portal_accounts")
    .values({ contact_id: contact.id, client_id: clientId, email, company_admin: opts.companyAdmin ?? false })
    .execute();
  const cookie = newSecret("sbp_");
  await t.db
    .insertInto("portal_sessions")
    .values({
      token_hash: sha256(cookie),
      contact_id: contact.id,
      client_id: clientId,
      expires_at: new Date(Date.now() + 3600_000),
    })
    .execute();
  return {
    id: contact.id,
    clientId,
    email,
    name: `${contact.first_name} ${contact.last_name}`,
    cookie,
    cookies: { [PORTAL_COOKIE]: cookie },
  };
}

/** A request as a portal contact. */
export function asContact(
  t: Pick<TestApp, "app">,
  who: PortalContact,
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  url: string,
  payload?: unknown,
): Promise<LightMyRequestResponse> {
  return t.app.inject({ method, url, cookies: who.cookies, payload: payload as never });
}
