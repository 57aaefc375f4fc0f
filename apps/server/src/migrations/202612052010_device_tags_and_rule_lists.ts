import { type Kysely, sql } from "kysely";

// Device tags (and monitoring policies that target one, MSP-wide or within a client), and ticket rules
// as an ordered list per client plus MSP-wide ones, each with conditions (severity, check kinds, business
// hours on an SLA calendar) and actions (ticket or not, priority, team, assignee, recovery).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
-- Normalised lowercase by the API (a-z 0-9 . _ -, at most 20 a device).
alter table devices add column tags text[] not null default '{}';
create index devices_tags_idx on devices using gin (tags);

-- A tag policy reaches the devices carrying the tag: every client's (client_id null) or one client's.
alter table monitoring_policies add column tag text;
alter table monitoring_policies add constraint monitoring_policies_tag_scope
  check (tag is null or (site_id is null and device_id is null));
create index monitoring_policies_tag_idx on monitoring_policies (tag) where tag is not null;

alter table monitoring_ticket_rules
  add column position integer not null default 0,
  add column name text not null default '',
  -- Alert kinds the rule applies to (a check kind, 'offline', 'task'); empty: any.
  add column check_kinds text[] not null default '{}',
  add column business_hours text not null default 'any' check (business_hours in ('any', 'during', 'outside')),
  -- The calendar business hours are judged on; null: the client's SLA calendar.
  add column calendar_id uuid references sla_calendars on delete set null,
  -- false: the alert stays an alert (on the Alerts page), no ticket.
  add column open_ticket boolean not null default true,
  -- null: from the severity (critical = P1).
  add column priority integer check (priority between 1 and 4),
  add column version integer not null default 1,
  add column created_at timestamptz not null default now();
-- What the rule that opened the ticket said about recovery (null: no rule, resolve). Open alerts and
-- incidents keep what their client's rule of the old shape said.
alter table monitoring_alerts add column resolve_on_recovery boolean;
alter table monitoring_incidents add column resolve_on_recovery boolean;
update monitoring_alerts a set resolve_on_recovery = r.resolve_on_recovery
from monitoring_ticket_rules r
where a.state <> 'resolved' and a.ticket_id is not null and r.id = (select x.id from monitoring_ticket_rules x
  where x.client_id = a.client_id or x.client_id is null order by x.client_id nulls last limit 1);
update monitoring_incidents i set resolve_on_recovery = r.resolve_on_recovery
from monitoring_ticket_rules r
where i.state = 'open' and i.ticket_id is not null and r.id = (select x.id from monitoring_ticket_rules x
  where x.client_id = i.client_id or x.client_id is null order by x.client_id nulls last limit 1);

drop index monitoring_ticket_rules_client_key;
-- A rule of the old shape kept alerts below its floor as alerts without falling back to the MSP's: it
-- becomes itself, then a catch-all "no ticket" rule after it in the same list.
insert into monitoring_ticket_rules (client_id, position, name, min_severity, open_ticket, resolve_on_recovery, updated_at)
select client_id, 1, 'Below ' || min_severity || ': alert only', 'low', false, resolve_on_recovery, now()
from monitoring_ticket_rules where min_severity <> 'low';
create index monitoring_ticket_rules_order_idx on monitoring_ticket_rules (client_id, position);
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
alter table monitoring_incidents drop column if exists resolve_on_recovery;
alter table monitoring_alerts drop column if exists resolve_on_recovery;
drop index if exists monitoring_ticket_rules_order_idx;
delete from monitoring_ticket_rules where position > 0 or business_hours <> 'any' or check_kinds <> '{}'
  or not open_ticket;
delete from monitoring_ticket_rules r where exists (select 1 from monitoring_ticket_rules o
  where o.client_id is not distinct from r.client_id and o.created_at < r.created_at);
create unique index monitoring_ticket_rules_client_key on monitoring_ticket_rules
  (coalesce(client_id, '00000000-0000-0000-0000-000000000000'));
alter table monitoring_ticket_rules drop column position, drop column name, drop column check_kinds,
  drop column business_hours, drop column calendar_id, drop column open_ticket, drop column priority,
  drop column version, drop column created_at;
drop index if exists monitoring_policies_tag_idx;
alter table monitoring_policies drop constraint if exists monitoring_policies_tag_scope;
alter table monitoring_policies drop column if exists tag;
drop index if exists devices_tags_idx;
alter table devices drop column if exists tags;
`.execute(db);
}
