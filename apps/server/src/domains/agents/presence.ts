import type { Inventory } from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";

// Presence and inventory as the gateway sees them. device.online/offline events fire on transitions
// only, so a gateway restart that reconnects every agent within the offline delay is silent.

/**
 * Presence writes do not wait for the WAL flush: a crash of PostgreSQL can lose the last moments of
 * online flags, last-seen times and inventory, which the next heartbeat, handshake or stale sweep
 * rewrites anyway, while the flush per commit is what limits a reconnect storm.
 */
export function withAsyncCommit<T>(db: Database, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`set local synchronous_commit = off`.execute(trx);
    return fn(trx);
  });
}

export interface HandshakeDevice {
  id: string;
  client_id: string;
  public_key: string;
  retired_at: Date | null;
  inventory_hash: string | null;
}

/** Devices by id for a batch of handshakes; undefined where the id is unknown. */
export async function devicesForHandshake(
  db: Database,
  ids: string[],
): Promise<Array<HandshakeDevice | undefined>> {
  const rows = await db
    .selectFrom("devices")
    .select(["id", "client_id", "public_key", "retired_at", "inventory_hash"])
    .where("id", "in", [...new Set(ids)])
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id));
}

export interface OnlineMark {
  deviceId: string;
  connKey: string;
  address: string;
}

/**
 * Marks a batch of devices online in one statement, emitting device.online (into the outbox, as
 * emitEvent would) for each that was offline; answers, per item, whether the device has queued commands.
 * Rows are locked in id order so concurrent batches from several gateways cannot deadlock.
 */
export async function markOnlineBatch(db: Database, items: OnlineMark[]): Promise<boolean[]> {
  const last = new Map(items.map((m) => [m.deviceId, m]));
  const unique = [...last.values()].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
  const ids = unique.map((m) => m.deviceId);
  const { rows } = await withAsyncCommit(db, (trx) =>
    sql<{ id: string }>`
    with input as (
      select * from unnest(${ids}::uuid[], ${unique.map((m) => m.connKey)}::text[], ${unique.map((m) => m.address)}::text[])
        as t(id, conn, addr)
    ),
    prev as (
      select d.id, d.online from devices d where d.id in (select id from input) order by d.id for update
    ),
    upd as (
      update devices d set online = true, gateway_id = i.conn, last_seen_at = now(), last_address = i.addr
      from input i join prev p on p.id = i.id
      where d.id = i.id
      returning d.id, d.client_id, d.hostname, p.online as was_online
    ),
    events as (
      insert into domain_events (type, client_id, actor_user_id, payload)
      select 'device.online', client_id, null, jsonb_build_object('deviceId', id, 'hostname', hostname)
      from upd where not was_online
    )
    select distinct device_id as id from device_commands
    where device_id = any(${ids}::uuid[]) and status = 'queued'`.execute(trx),
  );
  const queued = new Set(rows.map((r) => r.id));
  return items.map((m) => queued.has(m.deviceId));
}

/** Only while the row still names this connection: a newer connection elsewhere keeps the device online. */
export async function markOffline(db: Database, deviceId: string, connKey: string, reason: string) {
  await withAsyncCommit(db, (trx) =>
    sql`
    with upd as (
      update devices set online = false, gateway_id = null
      where id = ${deviceId} and gateway_id = ${connKey} and online
      returning client_id, hostname
    )
    insert into domain_events (type, client_id, actor_user_id, payload)
    select 'device.offline', client_id, null, jsonb_build_object('deviceId', ${deviceId}::uuid, 'hostname', hostname, 'reason', ${reason}::text)
    from upd`.execute(trx),
  );
}

/** Heartbeats, batched: one statement per flush for every device heard from since the last one. */
export async function touchDevices(db: Database, connKeys: Map<string, string>) {
  if (!connKeys.size) return;
  const ids = [...connKeys.keys()];
  const keys = [...connKeys.values()];
  await withAsyncCommit(db, (trx) =>
    sql`
      update devices d set last_seen_at = now()
      from unnest(${ids}::uuid[], ${keys}::text[]) as s(id, conn)
      where d.id = s.id and d.gateway_id = s.conn`.execute(trx),
  );
}

/**
 * Devices marked online whose gateway stopped refreshing them (a crashed process, or agents not back
 * within the offline delay after a restart): offline, with their device.offline events, in one statement.
 * Any gateway may run it. Rows locked elsewhere are skipped, not waited for: after a gateway restart the
 * sweep meets the handshakes' markOnlineBatch on the same rows, and waiting for them in another order
 * deadlocked. A skipped row is being marked online, or is swept next time; one another sweep already
 * flipped no longer matches, so each event is emitted once.
 */
export async function sweepStale(db: Database, silentSeconds: number) {
  await sql`
    with stale as (
      select id from devices
      where online and last_seen_at < now() - make_interval(secs => ${silentSeconds})
      order by id for update skip locked
    ),
    upd as (
      update devices d set online = false, gateway_id = null
      from stale s where d.id = s.id
      returning d.id, d.client_id, d.hostname
    )
    insert into domain_events (type, client_id, actor_user_id, payload)
    select 'device.offline', client_id, null,
      jsonb_build_object('deviceId', id, 'hostname', hostname, 'reason', 'no heartbeat')
    from upd`.execute(db);
}

export interface FullInventory {
  deviceId: string;
  hash: string;
  inventory: Inventory;
}

/** Whole inventories of several devices in one statement (every agent sends one on first contact). */
export async function saveFullInventories(db: Database, items: FullInventory[]): Promise<null[]> {
  const last = [...new Map(items.map((i) => [i.deviceId, i])).values()];
  await withAsyncCommit(db, (trx) =>
    sql`
      update devices d set
        inventory = v.inventory::jsonb, inventory_hash = v.hash, inventory_updated_at = now(),
        hostname = v.hostname, os_name = v.os_name, os_version = v.os_version
      from unnest(
        ${last.map((i) => i.deviceId)}::uuid[], ${last.map((i) => JSON.stringify(i.inventory))}::text[],
        ${last.map((i) => i.hash)}::text[], ${last.map((i) => i.inventory.hostname)}::text[],
        ${last.map((i) => i.inventory.os.name)}::text[], ${last.map((i) => i.inventory.os.version)}::text[]
      ) as v(id, inventory, hash, hostname, os_name, os_version)
      where d.id = v.id`.execute(trx),
  );
  return items.map(() => null);
}

/** Applies changed sections on top of the stored inventory; false when the agent's base is not ours. */
export async function saveInventoryChanges(
  db: Database,
  deviceId: string,
  baseHash: string,
  hash: string,
  changes: Partial<Inventory>,
): Promise<boolean> {
  const row = await db
    .updateTable("devices")
    .set({
      inventory: sql`inventory || ${JSON.stringify(changes)}::jsonb`,
      inventory_hash: hash,
      inventory_updated_at: new Date(),
    })
    .where("id", "=", deviceId)
    .where("inventory_hash", "=", baseHash)
    .returning("id")
    .executeTakeFirst();
  return !!row;
}
