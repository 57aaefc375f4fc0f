import { type Kysely, sql } from "kysely";

// Projects: a client's piece of work bigger than a ticket (the CRM rollout), in phases of tasks with
// estimates, time logged against the tasks, and a quote the client approves by a signed link. Each
// project has its own ticket: the client's conversation about it, where its mails thread.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table projects (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  ticket_id uuid not null references tickets,
  name text not null,
  description text not null default '',
  status text not null default 'planning' check (status in ('planning', 'active', 'on_hold', 'done', 'cancelled')),
  quote_minor bigint check (quote_minor >= 0),
  currency text not null default 'USD',
  quote_status text not null default 'none' check (quote_status in ('none', 'sent', 'approved', 'declined')),
  quote_token_hash text unique,
  quote_expires_at timestamptz,
  quote_contact_id uuid references contacts on delete set null,
  quote_decided_at timestamptz,
  quote_decision_note text not null default '',
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index projects_client_idx on projects (client_id);
select sb_client_table('projects');

create table project_phases (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  project_id uuid not null references projects on delete cascade,
  name text not null,
  position integer not null default 0
);
create index project_phases_project_idx on project_phases (project_id, position);
select sb_client_table('project_phases');

create table project_tasks (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  project_id uuid not null references projects on delete cascade,
  phase_id uuid references project_phases on delete set null,
  title text not null,
  description text not null default '',
  status text not null default 'todo' check (status in ('todo', 'in_progress', 'done')),
  estimate_minutes integer not null default 0 check (estimate_minutes >= 0),
  assignee_id uuid references users on delete set null,
  position integer not null default 0,
  version integer not null default 1,
  created_at timestamptz not null default now()
);
create index project_tasks_project_idx on project_tasks (project_id, position);
select sb_client_table('project_tasks');

alter table time_entries add constraint time_entries_project_task_fk
  foreign key (project_task_id) references project_tasks on delete set null;
create index time_entries_task_idx on time_entries (project_task_id) where project_task_id is not null;
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
alter table time_entries drop constraint if exists time_entries_project_task_fk;
drop table if exists project_tasks;
drop table if exists project_phases;
drop table if exists projects;
`.execute(db);
}
