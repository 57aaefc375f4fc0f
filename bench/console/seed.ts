import { sql } from "kysely";
import type { Database } from "../../apps/server/src/db/database.ts";
import { hashPassword, newSecret, sha256 } from "../../apps/server/src/domains/auth/crypto.ts";

const SUBJECTS = [
  "Password reset",
  "Printer not printing",
  "Outlook not receiving email",
  "VPN drops every hour",
  "BSOD on reception PC",
  "New user setup",
  "Scanner to email stopped",
  "Internet outage at site",
];

/** A console user with a session, on a team, holding `mine` open tickets (re-runs reuse the user). */
export async function benchUser(db: Database, mine: number) {
  const email = "console-bench@switchboard.example";
  const user =
    (await db.selectFrom("users").select("id").where("email", "=", email).executeTakeFirst()) ??
    (await db
      .insertInto("users")
      .values({
        email,
        name: "Console Bench",
        role: "technician",
        password_hash: await hashPassword(newSecret("pw_")),
        all_clients: true,
      })
      .returning("id")
      .executeTakeFirstOrThrow());
  // The bench technician holds the highest-priority open tickets, as a busy one would.
  await sql`update tickets set assignee_id = ${user.id}::uuid
    where id in (select id from tickets where is_open and merged_into_id is null
      and (assignee_id is distinct from ${user.id}::uuid)
      order by priority, created_at limit greatest(0, ${mine} - (select count(*) from tickets
        where assignee_id = ${user.id}::uuid and is_open)))`.execute(db);
  const token = newSecret("sb_");
  await db
    .insertInto("sessions")
    .values({ token_hash: sha256(token), user_id: user.id, expires_at: new Date(Date.now() + 3600_000) })
    .execute();
  return { userId: user.id, sessionToken: token };
}

/** `count` tickets over 200 clients, one in ten resolved, with a short timeline on the first thousand. */
export async function seedTickets(db: Database, count: number) {
  await sql`insert into clients (name, email_domains)
    select 'Client ' || g, array['c' || g || '.example'] from generate_series(1, 200) g`.execute(db);
  await sql`
    with c as (select array_agg(id order by name) as ids from clients),
         s as (select array_agg(id order by sort_order) as ids, array_agg(category order by sort_order) as cats
               from ticket_statuses where builtin)
    insert into tickets (subject, client_id, type, source, priority, status_id, status_category,
      created_at, last_activity_at, status_changed_at, resolved_at)
    select ${sql.lit(SUBJECTS.join("|"))}::text, c.ids[1 + g % 200], 'incident', 'phone', 1 + (g * 7) % 4,
      s.ids[case when g % 10 = 0 then 7 else 1 + g % 5 end], s.cats[case when g % 10 = 0 then 7 else 1 + g % 5 end],
      now() - make_interval(mins => g), now() - make_interval(mins => g / 2), now() - make_interval(mins => g),
      case when g % 10 = 0 then now() - make_interval(mins => g / 3) end
    from generate_series(1, ${count}) g, c, s`.execute(db);
  // One subject per ticket from the list (the literal above is a placeholder the update replaces).
  await sql`update tickets set subject = (string_to_array(${SUBJECTS.join("|")}, '|'))[1 + number % ${SUBJECTS.length}]
    || ' #' || number`.execute(db);
  await sql`insert into timeline_entries (ticket_id, kind, visibility, body, created_at)
    select t.id, case when k % 3 = 0 then 'note' else 'reply' end, 'public',
      'Checked the logs and spoke to the user; step ' || k || ' of the fix.', t.created_at + make_interval(mins => k)
    from (select id, created_at from tickets order by priority, created_at limit 1000) t,
      generate_series(1, 12) k`.execute(db);
}
