import { randomUUID } from "node:crypto";
import type { CommandHistoryQuery, CommandPayload, CreateCommandRequest } from "@switchboard/shared";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { AgentHub } from "../../gateway/hub.ts";
import { AppError, invalid, notFound } from "../../http/errors.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, canSeeClient, requireWriter } from "../auth/actor.ts";
import { insertEntry } from "../tickets/timeline.ts";
import type { CommandRow } from "./dto.ts";
import { type ServerKey, signCommandPayload } from "./signing-key.ts";

type CreateInput = z.output<typeof CreateCommandRequest>;
type HistoryQuery = z.output<typeof CommandHistoryQuery>;

export interface CommandDeps {
  db: Database;
  hub: AgentHub;
  serverKey: () => Promise<ServerKey>;
}

export const commandFrame = (c: Pick<CommandRow, "payload" | "signature">) =>
  JSON.stringify({ type: "command", payload: c.payload, signature: c.signature });

function describe(cmd: CreateInput["command"]): string {
  switch (cmd.kind) {
    case "script.run":
      return `Ran a ${cmd.interpreter} script`;
    case "service.list":
      return "Listed services";
    case "service.restart":
      return `Restarted service ${cmd.name}`;
    case "reboot":
      return "Rebooted";
  }
}

/**
 * Signs a command for a device, records it (audit with who ran it, event, ticket timeline) and hands it
 * to the gateway. An offline device gets it when it reconnects, until the command expires.
 */
export async function createCommand(deps: CommandDeps, actor: Actor, deviceId: string, input: CreateInput) {
  requireWriter(actor);
  const key = await deps.serverKey();
  const row = await deps.db.transaction().execute(async (trx) => {
    const device = await trx.selectFrom("devices").selectAll().where("id", "=", deviceId).executeTakeFirst();
    if (!device || !canSeeClient(actor, device.client_id)) throw notFound("Device");
    if (device.retired_at) throw new AppError("invalid_transition", 409, "The device is retired");
    // The caller allowed their session's technician a shell and files, nothing run by anyone else.
    if (device.support_session_id) {
      throw new AppError(
        "invalid_transition",
        409,
        "A support agent takes only the shell and files of its support session, not commands",
      );
    }
    if (input.ticketId) {
      const t = await trx
        .selectFrom("tickets")
        .select("client_id")
        .where("id", "=", input.ticketId)
        .executeTakeFirst();
      if (!t) throw notFound("Ticket");
      assertClientVisible(actor, t.client_id, "Ticket");
      if (t.client_id !== device.client_id) throw invalid("body.ticketId", "is a ticket of another client");
    }
    const now = new Date();
    const payload: CommandPayload = {
      v: 1,
      id: randomUUID(),
      deviceId,
      issuedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + input.expiresInSeconds * 1000).toISOString(),
      command: input.command,
    };
    const text = JSON.stringify(payload);
    const row = await trx
      .insertInto("device_commands")
      .values({
        id: payload.id,
        device_id: deviceId,
        client_id: device.client_id,
        ticket_id: input.ticketId ?? null,
        kind: input.command.kind,
        command: JSON.stringify(input.command),
        payload: text,
        signature: signCommandPayload(key, text),
        status: "sent",
        sent_at: now,
        requested_by_user_id: actor.userId,
        requested_by_label: actor.name,
        expires_at: payload.expiresAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const summary = describe(input.command);
    await recordChange(
      trx,
      actor,
      {
        action: "device.command",
        entityType: "device",
        entityId: deviceId,
        clientId: device.client_id,
        after: {
          commandId: row.id,
          ticketId: row.ticket_id,
          hostname: device.hostname,
          command: input.command,
        },
      },
      {
        type: "command.created",
        clientId: device.client_id,
        ticketId: row.ticket_id,
        payload: { commandId: row.id, deviceId, kind: row.kind },
      },
    );
    if (row.ticket_id) {
      await insertEntry(
        trx,
        actor,
        { id: row.ticket_id },
        {
          kind: "event",
          visibility: "internal",
          body: `${summary} on ${device.hostname}`,
          event: {
            type: "device_command",
            commandId: row.id,
            deviceId,
            hostname: device.hostname,
            kind: row.kind,
          },
        },
      );
    }
    return row;
  });
  if (await deliver(deps.db, deps.hub, row)) return row;
  return { ...row, status: "queued", sent_at: null };
}

/**
 * Sends a command inserted as `sent`; when no gateway holds the agent it goes back to `queued` for the
 * next reconnect. Inserting it as `sent` keeps a reconnect at the same moment from sending it twice (the
 * gateway only claims queued commands).
 */
async function deliver(
  db: Database,
  hub: AgentHub,
  row: Pick<CommandRow, "id" | "device_id" | "payload" | "signature">,
) {
  if (await hub.deliver(row.device_id, commandFrame(row))) return true;
  await db
    .updateTable("device_commands")
    .set({ status: "queued", sent_at: null })
    .where("id", "=", row.id)
    .where("status", "=", "sent")
    .execute();
  return false;
}

export async function getCommand(db: Database, actor: Actor, id: string) {
  const c = await db.selectFrom("device_commands").selectAll().where("id", "=", id).executeTakeFirst();
  if (!c || !canSeeClient(actor, c.client_id)) throw notFound("Command");
  return c;
}

/** A device's commands, newest first, with their output. */
export async function listCommands(db: Database, actor: Actor, deviceId: string, q: HistoryQuery) {
  const device = await db
    .selectFrom("devices")
    .select("client_id")
    .where("id", "=", deviceId)
    .executeTakeFirst();
  if (!device || !canSeeClient(actor, device.client_id)) throw notFound("Device");
  let query = db
    .selectFrom("device_commands")
    .selectAll()
    .where("device_id", "=", deviceId)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(q.limit + 1);
  if (q.before) query = query.where("created_at", "<", new Date(q.before));
  const rows = await query.execute();
  const items = rows.slice(0, q.limit);
  const last = items.at(-1);
  return { items, nextBefore: rows.length > q.limit && last ? last.created_at.toISOString() : null };
}
