import { type Kysely, sql } from "kysely";

// Scheduled tasks: a script on a cron schedule (in each device's site time zone), attached to a monitoring
// policy so it reaches that policy's devices, and one row per (task, device, due time) for every run: the
// unique key is what makes a due time run exactly once however many workers schedule at the same moment.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table monitoring_tasks (
  id uuid primary key default gen_random_uuid(),
  policy_id uuid not null references monitoring_policies on delete cascade,
  name text not null,
  interpreter text not null,
  script text not null,
  cron text not null,
  timeout_seconds int not null default 300,
  severity text not null default 'medium',
  run_missed boolean not null default false,
  enabled boolean not null default true,
  -- Due times before this are not run (set when the task is made and when its schedule changes).
  schedule_from timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  version int not null default 1
);
create index monitoring_tasks_policy_idx on monitoring_tasks (policy_id);
select sb_client_child_table('monitoring_tasks', 'policy_id', 'monitoring_policies');

-- Each (task, zone, due time) is claimed once by one worker, which fans it out to the devices in the same
-- transaction: the steady-state pass is one small insert that claims nothing, not a device scan.
create table monitoring_task_dues (
  task_id uuid not null references monitoring_tasks on delete cascade,
  zone text not null,
  due_at timestamptz not null,
  primary key (task_id, zone, due_at)
);
select sb_client_child_table('monitoring_task_dues', 'task_id', 'monitoring_tasks');

create table monitoring_task_runs (
  id uuid primary key default gen_random_uuid(),
  task_id uuid not null references monitoring_tasks on delete cascade,
  device_id uuid not null references devices on delete cascade,
  client_id uuid not null references clients on delete cascade,
  due_at timestamptz not null,
  -- queued (waiting for the device), sent, succeeded, failed, timed_out, missed (offline, not caught up),
  -- skipped (an earlier run still waits for the device: a device offline for days gets one run, not many).
  status text not null,
  command_id uuid references device_commands on delete set null,
  exit_code int,
  output text not null default '',
  finished_at timestamptz,
  -- The result has moved the (device, task) alert.
  judged boolean not null default false,
  created_at timestamptz not null default now(),
  unique (task_id, device_id, due_at)
);
create index monitoring_task_runs_device_idx on monitoring_task_runs (device_id, due_at desc);
create index monitoring_task_runs_open_idx on monitoring_task_runs (command_id) where not judged;
create index monitoring_task_runs_created_idx on monitoring_task_runs (created_at);
select sb_client_table('monitoring_task_runs');
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists monitoring_task_runs, monitoring_task_dues, monitoring_tasks cascade`.execute(
    db,
  );
}
