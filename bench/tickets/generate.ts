import { sql } from "kysely";
import type { Database } from "../../apps/server/src/db/database.ts";
import { rng } from "../lib/stats.ts";

// Words of a service desk's working day, most common first: the generator picks with a skew toward
// the front, so "password" or "outlook" match many tickets and "reservation" fewer, as in real queues.
const VOCAB = `password reset outlook email user printer vpn laptop server error cannot login slow network
windows update install access account locked teams onedrive sharepoint license backup wifi phone scanner
monitor keyboard mouse office excel word pdf drive mapped share folder permission mfa authenticator
quickbooks dental imaging xray software database remote desktop citrix firewall switch router isp outage
internet connection dropped bluescreen crash restart reboot freeze agent monitoring alert disk space full
cpu memory high service stopped reservation library catalog circulation kiosk self checkout law office
document management billing calendar meeting invite zoom camera microphone headset audio display adapter
docking station usb port battery charger power supply ups replace hardware warranty dell lenovo hp apple
mac macbook imac ipad iphone android mobile sync mailbox shared calendar delegate forward rule spam
phishing quarantine suspicious link attachment virus malware antivirus scan encrypt certificate expired
renewal domain dns dhcp ip address static conflict vlan port cabling patch panel rack toner paper jam tray
driver queue spooler offline online shortcut desktop icon missing profile corrupt rebuild migrate new
hire onboarding offboarding termination disable group policy script login script crm marketing install
configuration training request quote purchase order invoice approval manager urgent asap today tomorrow
weekend monday after hours schedule onsite visit callback voicemail left message waiting client vendor
third party ticket escalate resolved confirmed working again thanks`
  .split(/\s+/)
  .filter(Boolean);

const TYPES = [
  "incident",
  "incident",
  "incident",
  "service_request",
  "service_request",
  "problem",
  "alert",
  "project_task",
  "maintenance",
];
const SOURCES = ["phone", "phone", "email", "email", "email", "portal", "monitoring", "api", "walk_in"];

function sentences(count: number, minWords: number, maxWords: number, seed: number) {
  const rand = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = minWords + Math.floor(rand() * (maxWords - minWords + 1));
    const words: string[] = [];
    for (let k = 0; k < n; k++) words.push(VOCAB[Math.floor(rand() ** 2 * VOCAB.length)]!);
    const s = words.join(" ");
    out.push(s.charAt(0).toUpperCase() + s.slice(1));
  }
  return out;
}

export interface Scale {
  tickets: number;
  clients: number;
  contacts: number;
  technicians: number;
}

/**
 * Builds the data set in PostgreSQL with set-based inserts. Each ticket gets 3 timeline entries, and one
 * in twenty gets 43 (an average of 5): the long ones make "open a ticket with its last 50 entries" real.
 * The ticket's search vector is built as the API builds it: subject (A), description (B), entries (C).
 */
export async function generate(db: Database, scale: Scale, log: (msg: string) => void) {
  const subjects = sentences(5000, 3, 8, 1);
  const bodies = sentences(20000, 6, 24, 2);
  await sql`drop table if exists bench_subjects, bench_bodies, bench_clients, bench_contacts, bench_users`.execute(
    db,
  );
  await sql`create table bench_subjects (n int primary key, body text, vec tsvector)`.execute(db);
  await sql`create table bench_bodies (n int primary key, body text, vec tsvector)`.execute(db);
  await sql`insert into bench_subjects select n - 1, b, to_tsvector('english', b)
    from unnest(${subjects}::text[]) with ordinality as u(b, n)`.execute(db);
  await sql`insert into bench_bodies select n - 1, b, to_tsvector('english', b)
    from unnest(${bodies}::text[]) with ordinality as u(b, n)`.execute(db);

  log(`clients, contacts, technicians`);
  await sql`create table bench_clients as
    with ins as (
      insert into clients (name, email_domains)
      select 'Client ' || lpad(g::text, 4, '0') || ' ' || (array['Dental','Library','Law','Clinic','Realty','Accounting','School','Church'])[1 + g % 8],
        array['client' || g || '.example']
      from generate_series(0, ${scale.clients - 1}::int) g
      returning id, name
    ) select (row_number() over (order by name)) - 1 as n, id from ins`.execute(db);
  await sql`create table bench_contacts as
    with ins as (
      insert into contacts (client_id, first_name, last_name, emails, phones, phone_digits, vip)
      select c.id, 'First' || g, 'Last' || g, array['user' || g || '@client' || (g % ${scale.clients}::int) || '.example'],
        jsonb_build_array(jsonb_build_object('label', 'work', 'number', '(555) ' || lpad((g % 1000)::text, 3, '0') || '-' || lpad(g::text, 4, '0'))),
        '555' || lpad((g % 1000)::text, 3, '0') || lpad(g::text, 4, '0'), g % 50 = 0
      from generate_series(0, ${scale.contacts - 1}::int) g join bench_clients c on c.n = g % ${scale.clients}::int
      returning id, client_id, first_name
    ) select substr(first_name, 6)::int as n, id, client_id from ins`.execute(db);
  await sql`create index on bench_contacts (n)`.execute(db);
  await sql`create table bench_users as
    with ins as (
      insert into users (email, name, role)
      select 'tech' || g || '@msp.example', 'Technician ' || g, 'technician' from generate_series(0, ${scale.technicians - 1}::int) g
      returning id, email
    ) select (row_number() over (order by email)) - 1 as n, id from ins`.execute(db);
  await sql`insert into teams (name) values ('Service Desk'), ('Projects'), ('On-call') on conflict do nothing`.execute(
    db,
  );

  // Secondary indexes are dropped for the load and rebuilt after: building an index once is far cheaper
  // than maintaining it across millions of inserts. Their definitions come from the catalog, so the
  // rebuilt ones are exactly the migrations'.
  const { rows: indexes } = await sql<{ indexname: string; indexdef: string }>`
    select indexname, indexdef from pg_indexes
    where tablename in ('tickets', 'timeline_entries') and indexname not like '%_pkey'`.execute(db);
  for (const ix of indexes) await sql`drop index ${sql.ref(ix.indexname)}`.execute(db);

  const batch = 100_000;
  for (let lo = 0; lo < scale.tickets; lo += batch) {
    const hi = Math.min(scale.tickets, lo + batch) - 1;
    await sql`
      with st as (select array_agg(id order by sort_order) ids, array_agg(category order by sort_order) cats from ticket_statuses where builtin),
           tm as (select array_agg(id order by name) ids from teams),
           us as (select array_agg(id order by n) ids from bench_users)
      insert into tickets (number, subject, description, client_id, contact_id, type, source, priority, status_id,
        status_category, team_id, assignee_id, tags, created_at, updated_at, last_activity_at, status_changed_at,
        resolved_at, closed_at, search_vector)
      select 1000 + g, s.body, d.body, ct.client_id, ct.id,
        (${TYPES}::text[])[1 + (g * 7) % ${TYPES.length}::int],
        (${SOURCES}::text[])[1 + (g * 13) % ${SOURCES.length}::int],
        1 + (hashint4(g) & 1023) % 4,
        st.ids[x.si], st.cats[x.si], tm.ids[1 + g % 3],
        case when x.si <= 6 and g % 5 = 0 then null else us.ids[1 + g % ${scale.technicians}::int] end,
        case when g % 10 = 0 then array['vip'] when g % 7 = 0 then array['hardware'] else '{}' end,
        x.created, x.created + interval '1 hour', x.created + interval '2 hours', x.created + interval '1 hour',
        case when x.si >= 7 then x.created + interval '1 day' end,
        case when x.si = 8 then x.created + interval '2 days' end,
        setweight(s.vec, 'A') || setweight(d.vec, 'B') || setweight(e.vec, 'C')
      from generate_series(${lo}::int, ${hi}::int) g
      cross join st cross join tm cross join us
      cross join lateral (select
        -- one ticket in ten still open (new ... scheduled), the rest resolved or closed
        case when g % 10 = 0 then 1 + (hashint4(g + 7) & 1023) % 6 else 7 + g % 2 end as si,
        now() - make_interval(mins => ${scale.tickets}::int - g) as created) x
      join bench_contacts ct on ct.n = (hashint4(g) & 2147483647) % ${scale.contacts}::int
      join bench_subjects s on s.n = (hashint4(g + 1) & 2147483647) % 5000
      join bench_bodies d on d.n = (hashint4(g + 2) & 2147483647) % 20000
      cross join lateral (
        select coalesce(tsvector_agg(b.vec), ''::tsvector) as vec
        from generate_series(1, case when g % 20 = 0 then 43 else 3 end) j
        join bench_bodies b on b.n = (hashint4(g * 64 + j) & 2147483647) % 20000
      ) e`.execute(db);
    await sql`
      insert into timeline_entries (ticket_id, kind, visibility, author_user_id, body, created_at)
      select t.id, case when j % 3 = 0 then 'reply' when j % 3 = 1 then 'note' else 'call' end,
        case when j % 3 = 0 then 'public' else 'internal' end, t.assignee_id, b.body,
        t.created_at + make_interval(mins => j)
      from tickets t
      cross join lateral generate_series(1, case when (t.number - 1000) % 20 = 0 then 43 else 3 end) j
      join bench_bodies b on b.n = (hashint4(((t.number - 1000) * 64 + j)::int) & 2147483647) % 20000
      where t.number between ${1000 + lo}::int and ${1000 + hi}::int
      order by t.number, j`.execute(db);
    log(`tickets ${hi + 1}/${scale.tickets}`);
  }
  log("rebuilding indexes");
  for (const ix of indexes) await sql.raw(ix.indexdef).execute(db);
  await sql`select setval('ticket_number_seq', (select max(number) from tickets))`.execute(db);
  log("vacuum analyze");
  await sql`vacuum analyze tickets, timeline_entries, contacts, clients, users`.execute(db);
}

/** tsvector has no built-in aggregate; this one concatenates. */
export async function createHelpers(db: Database) {
  await sql`create or replace aggregate tsvector_agg(tsvector) (sfunc = tsvector_concat, stype = tsvector, initcond = '')`.execute(
    db,
  );
}

export { VOCAB };
