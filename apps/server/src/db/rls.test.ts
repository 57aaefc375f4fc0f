import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeClient, makeContact, makeUser, type TestApp } from "../../test/helpers.ts";
import { systemActor } from "../domains/auth/actor.ts";
import { createTicketInTx } from "../domains/tickets/service.ts";
import { connectDatabase } from "./database.ts";
import { forCredentials, NO_SCOPE, runInScope, SYSTEM_SCOPE } from "./scope.ts";

// Row-level security is the second wall: these queries skip the service layer's checks on purpose and
// still see only what the scope allows, because PostgreSQL itself filters the rows.

let t: TestApp;
let a: { id: string };
let b: { id: string };
const onlyA = () => ({ kind: "clients" as const, clientIds: [a.id] });

beforeAll(async () => {
  t = await createTestApp();
  a = await makeClient(t);
  b = await makeClient(t);
  for (const client of [a, b]) {
    const contact = await makeContact(t, client.id);
    await t.db.transaction().execute((trx) =>
      createTicketInTx(trx, systemActor(), {
        subject: `Printer jam at ${client.id}`,
        description: "",
        clientId: client.id,
        contactId: contact.id,
        type: "incident",
        source: "phone",
        priority: 3,
        tags: [],
        call: { direction: "inbound", notes: "Caller says the printer jams", durationSeconds: 60 },
      }),
    );
  }
});
afterAll(() => t.close());

describe("row-level security", () => {
  it("shows a client-limited scope only its clients' rows, with no WHERE clause of ours", async () => {
    const rows = await runInScope(onlyA(), async () => ({
      clients: await t.db.selectFrom("clients").select("id").execute(),
      tickets: await t.db.selectFrom("tickets").select("client_id").execute(),
      contacts: await t.db.selectFrom("contacts").select("client_id").execute(),
      timeline: await t.db
        .selectFrom("timeline_entries as e")
        .innerJoin("tickets as tk", "tk.id", "e.ticket_id")
        .select("tk.client_id")
        .execute(),
      timelineAlone: await t.db.selectFrom("timeline_entries").select("ticket_id").execute(),
      audit: await t.db
        .selectFrom("audit_log")
        .select("client_id")
        .where("client_id", "is not", null)
        .execute(),
      events: await t.db
        .selectFrom("domain_events")
        .select("client_id")
        .where("client_id", "is not", null)
        .execute(),
    }));
    expect(rows.clients.map((r) => r.id)).toEqual([a.id]);
    expect(new Set(rows.tickets.map((r) => r.client_id))).toEqual(new Set([a.id]));
    expect(new Set(rows.contacts.map((r) => r.client_id))).toEqual(new Set([a.id]));
    expect(new Set(rows.timeline.map((r) => r.client_id))).toEqual(new Set([a.id]));
    expect(rows.timelineAlone.length).toBe(rows.timeline.length);
    expect(new Set(rows.audit.map((r) => r.client_id))).toEqual(new Set([a.id]));
    expect(new Set(rows.events.map((r) => r.client_id))).toEqual(new Set([a.id]));
    // The system scope, for comparison, sees both.
    const all = await t.db
      .selectFrom("tickets")
      .select("client_id")
      .where("client_id", "in", [a.id, b.id])
      .execute();
    expect(new Set(all.map((r) => r.client_id))).toEqual(new Set([a.id, b.id]));
  });

  it("shows an anonymous request no client's rows at all", async () => {
    const seen = await runInScope(NO_SCOPE, () => t.db.selectFrom("tickets").select("id").execute());
    expect(seen).toEqual([]);
  });

  it("refuses a write into another client's rows, whatever the service layer forgot", async () => {
    await expect(
      runInScope(onlyA(), () =>
        t.db
          .insertInto("contacts")
          .values({ client_id: b.id, first_name: "Eve", last_name: "Mallory" })
          .execute(),
      ),
    ).rejects.toMatchObject({ code: "42501" });
    const changed = await runInScope(onlyA(), () =>
      t.db.updateTable("tickets").set({ subject: "hijacked" }).where("client_id", "=", b.id).execute(),
    );
    expect(Number(changed[0]?.numUpdatedRows)).toBe(0);
  });

  it("cannot be switched off or stepped around by the application's own database role", async () => {
    // Straight to PostgreSQL with the server's own credentials, past everything in db/database.ts.
    const c = new pg.Client({ connectionString: t.appUrl });
    await c.connect();
    try {
      const me = await c.query("select rolsuper, rolbypassrls from pg_roles where rolname = session_user");
      expect(me.rows[0]).toEqual({ rolsuper: false, rolbypassrls: false });
      // The login role itself may read nothing: a connection that forgot its scope fails closed.
      await expect(c.query("select count(*) from tickets")).rejects.toThrow(/permission denied/);
      await c.query(`set role "${t.scopeRoles.scoped}"`);
      await c.query("select set_config('sb.client_ids', $1, false)", [`{${a.id}}`]);
      const seen = await c.query("select distinct client_id from tickets");
      expect(seen.rows).toEqual([{ client_id: a.id }]);
      await expect(c.query("alter table tickets disable row level security")).rejects.toThrow(
        /must be owner/,
      );
      await expect(c.query("drop policy sb_scoped on tickets")).rejects.toThrow(/must be owner/);
      // Turning RLS off for the session is refused for a role it applies to.
      await c.query("set row_security = off");
      await expect(c.query("select count(*) from tickets")).rejects.toThrow(/row-level security/);
      const owner = await c.query("select tableowner from pg_tables where tablename = 'tickets'");
      await expect(c.query(`set role "${owner.rows[0].tableowner}"`)).rejects.toThrow(/permission denied/);
    } finally {
      await c.end();
    }
  });

  it("is on for every table with a client column (a new table cannot forget it)", async () => {
    const { rows } = await sql<{ table: string; rls: boolean }>`
      select c.relname as table, c.relrowsecurity as rls
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p')
        and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'client_id' and not a.attisdropped)
      order by 1`.execute(t.db);
    // MSP-wide settings that may name a client but hold no client data of their own, and who may see
    // which client (read while resolving a caller, before any scope exists).
    const settings = new Set(["email_mailboxes", "email_templates", "user_clients"]);
    const missing = rows.filter((r) => !r.rls && !settings.has(r.table)).map((r) => r.table);
    expect(missing).toEqual([]);
    expect(rows.length).toBeGreaterThan(8);
  });

  it("turns the scope of a signed-in client-limited user into their rows over HTTP too", async () => {
    const tech = await makeUser(t, { clientIds: [a.id] });
    const list = await t.app.inject({ method: "GET", url: "/api/v1/clients", headers: tech.auth });
    expect(list.json().items.map((c: { id: string }) => c.id)).toEqual([a.id]);
    const foreign = await t.app.inject({ method: "GET", url: `/api/v1/clients/${b.id}`, headers: tech.auth });
    expect(foreign.statusCode).toBe(404);
  });

  it("never shows a limited scope the MSP-wide rows of a table whose client column may be empty", async () => {
    await runInScope(SYSTEM_SCOPE, () =>
      sql`insert into audit_log (actor_label, action, entity_type, entity_id)
          values ('system', 'settings.update', 'settings', 'email')`.execute(t.db),
    );
    const count = () =>
      sql<{ n: number }>`select count(*)::int as n from audit_log where client_id is null`.execute(t.db);
    expect((await runInScope(SYSTEM_SCOPE, count)).rows[0]!.n).toBeGreaterThan(0);
    expect((await runInScope(onlyA(), count)).rows[0]!.n).toBe(0);
  });

  it("looks up a caller's credentials in the connection's current scope, and a fresh one sees no client", async () => {
    const one = connectDatabase(t.appUrl, { max: 1, scopeRoles: t.scopeRoles });
    try {
      const who = () =>
        forCredentials(async () => {
          const r = await sql<{ role: string; ids: string }>`
            select current_user as role, current_setting('sb.client_ids', true) as ids`.execute(one.db);
          const tickets = await one.db.selectFrom("tickets").select("client_id").execute();
          return { ...r.rows[0]!, tickets: tickets.length };
        });
      // A fresh connection: the lookup sees no client's rows.
      expect(await who()).toMatchObject({ role: t.scopeRoles.scoped, ids: "{}", tickets: 0 });
      // After work for client A the connection stays A's: no role switch, and still only A's rows.
      await runInScope(onlyA(), () => one.db.selectFrom("tickets").select("id").execute());
      expect(await who()).toMatchObject({ role: t.scopeRoles.scoped, ids: `{${a.id}}`, tickets: 1 });
    } finally {
      await one.close();
    }
  });
});
