import type { CommandRejectedFrame, CommandResultFrame } from "@switchboard/shared";
import { sql } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import { writeAudit } from "../audit/audit.ts";
import { systemActor } from "../auth/actor.ts";
import { emitEvent } from "../events/outbox.ts";
import { insertEntry } from "../tickets/timeline.ts";
import { withAsyncCommit } from "./presence.ts";

// What the gateway records as an agent reports on a command. Every statement names the device the
// connection authenticated as: an agent can only ever touch its own commands.

const gatewayActor = systemActor("gateway");
/** Output kept per command beyond the agent's own limit, as a backstop against a misbehaving agent. */
const HARD_OUTPUT_CAP = 11 * 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Claims the device's queued, unexpired commands for delivery on (re)connect, oldest first. */
export async function claimQueued(db: Database, deviceId: string) {
  return db
    .updateTable("device_commands")
    .set({ status: "sent", sent_at: new Date() })
    .where("id", "in", (eb) =>
      eb
        .selectFrom("device_commands")
        .select("id")
        .where("device_id", "=", deviceId)
        .where("status", "=", "queued")
        .where("expires_at", ">", new Date())
        .orderBy("created_at")
        .limit(100)
        .forUpdate()
        .skipLocked(),
    )
    .returning(["id", "payload", "signature", "created_at"])
    .execute()
    .then((rows) => rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime()));
}

// Started and output chunks commit without waiting for the WAL flush (see withAsyncCommit): only the
// result, which follows them on the same connection, needs to be durable.
export async function markStarted(db: Database, deviceId: string, commandId: string) {
  await withAsyncCommit(db, (trx) =>
    trx
      .updateTable("device_commands")
      .set({ status: "running", started_at: new Date() })
      .where("id", "=", commandId)
      .where("device_id", "=", deviceId)
      .where("status", "=", "sent")
      .execute(),
  );
}

export async function appendOutput(
  db: Database,
  deviceId: string,
  commandId: string,
  stream: "stdout" | "stderr",
  data: string,
) {
  const col = sql.ref(stream);
  await withAsyncCommit(db, (trx) =>
    sql`
    update device_commands set ${col} = ${col} || ${data}
    where id = ${commandId} and device_id = ${deviceId} and status in ('sent', 'running')
      and length(stdout) + length(stderr) < ${HARD_OUTPUT_CAP}`.execute(trx),
  );
}

export async function finishCommand(db: Database, deviceId: string, f: z.infer<typeof CommandResultFrame>) {
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable("device_commands")
      .set({
        status: f.status,
        exit_code: f.exitCode,
        truncated: f.truncated,
        error: f.error ?? null,
        services: f.services ? JSON.stringify(f.services) : null,
        update_results: f.updates ? JSON.stringify(f.updates) : null,
        reboot_required: f.rebootRequired ?? null,
        finished_at: new Date(),
        started_at: sql<Date>`coalesce(started_at, now())`,
      })
      .where("id", "=", f.commandId)
      .where("device_id", "=", deviceId)
      .where("status", "in", ["sent", "running"])
      .returning(["id", "client_id", "ticket_id", "kind"])
      .executeTakeFirst();
    if (!row) return;
    await emitEvent(trx, gatewayActor, {
      type: `command.${f.status}`,
      clientId: row.client_id,
      ticketId: row.ticket_id,
      payload: { commandId: row.id, deviceId, kind: row.kind, exitCode: f.exitCode },
    });
    if (row.ticket_id) {
      const code = f.exitCode === null ? "" : ` (exit code ${f.exitCode})`;
      await insertEntry(
        trx,
        gatewayActor,
        { id: row.ticket_id },
        {
          kind: "event",
          visibility: "internal",
          body: `Command ${row.kind} ${f.status.replace("_", " ")}${code}`,
          event: {
            type: "device_command_finished",
            commandId: row.id,
            deviceId,
            status: f.status,
            exitCode: f.exitCode,
          },
        },
      );
    }
  });
}

/** The agent refused a command (forged, replayed, expired...): audited, and the command marked refused. */
export async function recordRejection(
  db: Database,
  device: { id: string; clientId: string },
  f: z.infer<typeof CommandRejectedFrame>,
) {
  await db.transaction().execute(async (trx) => {
    const id = f.commandId && UUID.test(f.commandId) ? f.commandId : null;
    const row = id
      ? await trx
          .updateTable("device_commands")
          .set({ status: "refused", finished_at: new Date(), error: `refused by the agent: ${f.reason}` })
          .where("id", "=", id)
          .where("device_id", "=", device.id)
          .where("status", "=", "sent")
          .returning(["id", "ticket_id"])
          .executeTakeFirst()
      : undefined;
    await writeAudit(trx, gatewayActor, {
      action: "device.command_refused",
      entityType: "device",
      entityId: device.id,
      clientId: device.clientId,
      after: { commandId: f.commandId, reason: f.reason, known: !!row },
    });
    await emitEvent(trx, gatewayActor, {
      type: "command.refused",
      clientId: device.clientId,
      ticketId: row?.ticket_id ?? null,
      payload: { commandId: f.commandId, deviceId: device.id, reason: f.reason },
    });
  });
}

/**
 * Queued commands nobody could deliver before they expired; sent ones the agent never started (it was
 * lost with its connection) once they have expired; running ones whose agent never came back after a day
 * (the longest a script may run).
 */
export async function expireQueued(db: Database) {
  await db.transaction().execute(async (trx) => {
    const now = Date.now();
    const rows = await trx
      .updateTable("device_commands")
      .set((eb) => ({
        status: eb.case().when("status", "=", "running").then("failed").else("expired").end(),
        finished_at: new Date(),
        error: eb
          .case()
          .when("status", "=", "queued")
          .then("not delivered before it expired")
          .when("status", "=", "sent")
          .then("the agent never started it")
          .else("no result from the agent")
          .end(),
      }))
      .where((eb) =>
        eb.or([
          eb.and([eb("status", "=", "queued"), eb("expires_at", "<=", new Date(now))]),
          eb.and([eb("status", "=", "sent"), eb("expires_at", "<=", new Date(now - 60_000))]),
          eb.and([eb("status", "=", "running"), eb("started_at", "<=", new Date(now - 25 * 3600_000))]),
        ]),
      )
      .returning(["id", "device_id", "client_id", "ticket_id", "status"])
      .execute();
    for (const r of rows) {
      await emitEvent(trx, gatewayActor, {
        type: `command.${r.status}`,
        clientId: r.client_id,
        ticketId: r.ticket_id,
        payload: { commandId: r.id, deviceId: r.device_id },
      });
    }
  });
}
