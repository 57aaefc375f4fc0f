import { randomBytes, randomUUID } from "node:crypto";
import type { CommandPayload, DirectoryActionRequest, DirectoryCommand } from "@switchboard/shared";
import type { Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB, IdentityActionKind } from "../../db/schema.ts";
import type { AgentHub } from "../../gateway/hub.ts";
import { AppError, notFound } from "../../http/errors.ts";
import { seal } from "../../lib/server-keys.ts";
import { type ServerKey, signCommandPayload } from "../agents/signing-key.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, requireWriter } from "../auth/actor.ts";
import { insertEntry } from "../tickets/timeline.ts";
import { type ActionRow, toActionDto } from "./dto.ts";
import { newPassphrase } from "./passphrase.ts";
import { loadContactIdentity, loadPolicy } from "./policy.ts";
import { assertSelf, freshVerification } from "./verify.ts";

export interface DirectoryDeps {
  db: Database;
  hub: AgentHub;
  serverKey: () => Promise<ServerKey>;
  /** How long a request waits for the directory's answer before replying `running`. */
  waitMs?: number;
}

/** A directory command lives 2 minutes: one the agent could not start by then is refused by it. */
const COMMAND_TTL_MS = 2 * 60_000;
const RESULT_MARKER = "SWITCHBOARD-RESULT ";
/** A command's statuses once the agent (or the expiry sweep) is done with it. */
const FINISHED = ["succeeded", "failed", "timed_out", "refused", "expired"];

const ACTION_LABEL: Record<IdentityActionKind, string> = {
  reset_password: "Password reset",
  unlock: "Account unlock",
  force_change: "Force password change at next logon",
  discover: "Directory lookup",
};

type Trx = Transaction<DB>;

async function directoryOf(trx: Trx, clientId: string) {
  const policy = await loadPolicy(trx, clientId);
  if (!policy.directoryDeviceId || !policy.directoryKind)
    throw new AppError(
      "invalid_transition",
      409,
      "This client has no directory yet: choose its domain controller in the verification policy",
    );
  const device = await trx
    .selectFrom("devices")
    .select(["id", "hostname", "retired_at"])
    .where("id", "=", policy.directoryDeviceId)
    .executeTakeFirst();
  if (!device || device.retired_at)
    throw new AppError("invalid_transition", 409, "The client's domain controller device is retired or gone");
  return { device, kind: policy.directoryKind };
}

interface Prepared {
  action: ActionRow;
  frame: string;
  hostname: string;
}

/**
 * Signs the command and records the action in one transaction. A reset's password is sealed with a
 * one-time key that goes only into the frame: the stored command cannot reveal it.
 */
async function prepare(
  trx: Trx,
  actor: Actor,
  key: ServerKey,
  o: {
    clientId: string;
    contactId: string;
    verificationId: string | null;
    ticketId: string | null;
    action: IdentityActionKind;
    account: string;
    command: DirectoryCommand;
    password: string | null;
    audit: Record<string, unknown>;
  },
): Promise<Prepared> {
  const { device, kind } = await directoryOf(trx, o.clientId);
  const id = randomUUID();
  const oneTimeKey = randomBytes(32);
  const command: DirectoryCommand = {
    ...o.command,
    system: kind,
    ...(o.password !== null ? { sealedPassword: seal(oneTimeKey, Buffer.from(o.password), id) } : {}),
  };
  const now = new Date();
  const payload: CommandPayload = {
    v: 1,
    id,
    deviceId: device.id,
    issuedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + COMMAND_TTL_MS).toISOString(),
    command,
  };
  const text = JSON.stringify(payload);
  const signature = signCommandPayload(key, text);
  const { sealedPassword: _, ...stored } = command;
  await trx
    .insertInto("device_commands")
    .values({
      id,
      device_id: device.id,
      client_id: o.clientId,
      ticket_id: null,
      kind: "directory.account",
      command: JSON.stringify(stored),
      payload: text,
      signature,
      status: "sent",
      sent_at: now,
      requested_by_user_id: actor.userId,
      requested_by_label: actor.name,
      expires_at: payload.expiresAt,
    })
    .execute();
  const action = await trx
    .insertInto("identity_actions")
    .values({
      client_id: o.clientId,
      contact_id: o.contactId,
      verification_id: o.verificationId,
      ticket_id: o.ticketId,
      action: o.action,
      account: o.account,
      must_change: o.command.mustChange,
      device_id: device.id,
      command_id: id,
      requested_by_user_id: actor.userId,
      requested_by_label: actor.name,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordChange(
    trx,
    actor,
    {
      action: `identity.${o.action}_request`,
      entityType: "contact",
      entityId: o.contactId,
      clientId: o.clientId,
      after: {
        actionId: action.id,
        commandId: id,
        account: o.account,
        device: device.hostname,
        system: kind,
        ...o.audit,
      },
    },
    {
      type: "identity.action_updated",
      clientId: o.clientId,
      ticketId: o.ticketId,
      payload: { actionId: action.id, status: "running" },
    },
  );
  const frame = JSON.stringify({
    type: "command",
    payload: text,
    signature,
    ...(o.password !== null ? { key: oneTimeKey.toString("base64") } : {}),
  });
  return { action, frame, hostname: device.hostname };
}

/**
 * Hands the frame to the agent now or never: a command carrying a one-time key cannot wait in the
 * queue for a reconnect (the key is not stored), so an offline agent fails the action with the reason.
 */
async function dispatch(deps: DirectoryDeps, actor: Actor, p: Prepared) {
  const c = p.action;
  if (await deps.hub.deliver(c.device_id!, p.frame)) return;
  const error = `The agent on ${p.hostname} is not connected; try again when it is online`;
  await deps.db
    .updateTable("device_commands")
    .set({ status: "failed", error, finished_at: new Date() })
    .where("id", "=", c.command_id!)
    .where("status", "=", "sent")
    .execute();
  await settle(deps.db, actor, c.id);
}

/** Reads the command's outcome into the action once it finished: result, audit, timeline, event. */
export async function settle(db: Database, actor: Actor, actionId: string) {
  return db.transaction().execute(async (trx) => {
    const a = await trx
      .selectFrom("identity_actions")
      .selectAll()
      .where("id", "=", actionId)
      .forUpdate()
      .executeTakeFirst();
    if (a?.status !== "running" || !a.command_id) return a ?? null;
    const cmd = await trx
      .selectFrom("device_commands")
      .select(["status", "error", "stdout", "stderr", "exit_code"])
      .where("id", "=", a.command_id)
      .executeTakeFirst();
    if (!cmd || !FINISHED.includes(cmd.status)) return a;
    const ok = cmd.status === "succeeded";
    const marker = cmd.stdout
      .split("\n")
      .find((l) => l.startsWith(RESULT_MARKER))
      ?.slice(RESULT_MARKER.length);
    let result: Record<string, unknown> | null = null;
    try {
      result = marker ? (JSON.parse(marker) as Record<string, unknown>) : null;
    } catch {
      result = null;
    }
    const stderrLine = cmd.stderr.trim().split("\n").at(-1)?.trim();
    const error = ok
      ? null
      : (cmd.error ?? stderrLine ?? `the directory command ${cmd.status.replace("_", " ")}`).slice(0, 1000);
    const done = await trx
      .updateTable("identity_actions")
      .set({
        status: ok ? "succeeded" : "failed",
        error,
        result: result ? JSON.stringify(result) : null,
        finished_at: new Date(),
      })
      .where("id", "=", a.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    // The one record of the reset: who called, how they were verified, who acted, on what, the result.
    const v = a.verification_id
      ? await trx
          .selectFrom("identity_verifications as v")
          .select(["v.id", "v.started_by_label", "v.verified_at"])
          .where("v.id", "=", a.verification_id)
          .executeTakeFirst()
      : null;
    const methods = a.verification_id
      ? (
          await trx
            .selectFrom("identity_challenges")
            .select("method")
            .where("verification_id", "=", a.verification_id)
            .where("status", "=", "passed")
            .execute()
        ).map((r) => r.method)
      : [];
    const device = await trx
      .selectFrom("devices")
      .select("hostname")
      .where("id", "=", a.device_id!)
      .executeTakeFirst();
    await recordChange(
      trx,
      actor,
      {
        action: `identity.${a.action}`,
        entityType: "contact",
        entityId: a.contact_id,
        clientId: a.client_id,
        after: {
          actionId: a.id,
          account: a.account,
          result: ok ? "succeeded" : "failed",
          error,
          technician: a.requested_by_label,
          verification: v ? { id: v.id, methods, verifiedAt: v.verified_at, by: v.started_by_label } : null,
          system: device?.hostname ?? null,
          commandId: a.command_id,
          mustChange: a.must_change,
        },
      },
      {
        type: "identity.action_updated",
        clientId: a.client_id,
        ticketId: a.ticket_id,
        payload: { actionId: a.id, status: done.status },
      },
    );
    if (a.ticket_id && a.action !== "discover") {
      await insertEntry(
        trx,
        actor,
        { id: a.ticket_id },
        {
          kind: "event",
          visibility: "internal",
          body: ok
            ? `${ACTION_LABEL[a.action]} for ${a.account} done on ${device?.hostname ?? "the directory"}`
            : `${ACTION_LABEL[a.action]} for ${a.account} failed: ${error}`,
          event: { type: "identity_action", actionId: a.id, action: a.action, status: done.status },
        },
      );
    }
    return done;
  });
}

/**
 * Waits for the agent's answer: a cheap read of the command's status every 25 ms (a reset takes the
 * directory tools a few hundred ms), then one settle that records it.
 */
async function waitForResult(deps: DirectoryDeps, actor: Actor, actionId: string, commandId: string) {
  const deadline = Date.now() + (deps.waitMs ?? 20_000);
  for (let i = 0; i < 2000 && Date.now() < deadline; i++) {
    const c = await deps.db
      .selectFrom("device_commands")
      .select("status")
      .where("id", "=", commandId)
      .executeTakeFirst();
    if (!c || FINISHED.includes(c.status)) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return settle(deps.db, actor, actionId);
}

/**
 * Reset, unlock or force a change on the contact's linked account, only with a fresh verification of
 * that contact. Waits (briefly) for the directory's answer so the technician sees it where they asked.
 */
export async function runDirectoryAction(
  deps: DirectoryDeps,
  actor: Actor,
  input: z.output<typeof DirectoryActionRequest>,
) {
  requireWriter(actor);
  const key = await deps.serverKey();
  const password = input.action === "reset_password" ? (input.password ?? newPassphrase()) : null;
  const prepared = await deps.db.transaction().execute(async (trx) => {
    const c = await loadContactIdentity(trx, input.contactId);
    if (!c) throw notFound("Contact");
    assertClientVisible(actor, c.clientId, "Contact");
    assertSelf(actor, c.contactId, "Contact");
    const v = await freshVerification(trx, input.verificationId, c.contactId);
    if (!c.directoryAccount)
      throw new AppError("invalid_transition", 409, `Link ${c.name} to a directory account first`);
    // Verifying A and then pointing A's record at another account must not reset that account: a link
    // typed after the verification started does not count; one the directory gave for A's address does.
    if (
      c.directoryAccountSource === "typed" &&
      c.directoryAccountSetAt &&
      c.directoryAccountSetAt > v.created_at
    )
      throw new AppError(
        "verification_required",
        403,
        "Verify the caller first: the directory account was typed in after this verification started",
        { reason: "the directory account was changed after the verification started" },
      );
    const ticketId = input.ticketId ?? v.ticket_id;
    if (input.ticketId) {
      const t = await trx
        .selectFrom("tickets")
        .select("client_id")
        .where("id", "=", input.ticketId)
        .executeTakeFirst();
      if (!t || t.client_id !== c.clientId) throw notFound("Ticket");
    }
    return prepare(trx, actor, key, {
      clientId: c.clientId,
      contactId: c.contactId,
      verificationId: v.id,
      ticketId,
      action: input.action,
      account: c.directoryAccount,
      command: {
        kind: "directory.account",
        system: "samba",
        action: input.action,
        account: c.directoryAccount,
        mustChange: input.action === "reset_password" && input.mustChange,
        unlock: input.action === "reset_password" && input.unlock,
        timeoutSeconds: 60,
      },
      password,
      audit: {
        verificationId: v.id,
        passwordSource: password === null ? null : input.password ? "typed" : "generated",
      },
    });
  });
  await dispatch(deps, actor, prepared);
  const a = (await waitForResult(deps, actor, prepared.action.id, prepared.action.command_id!))!;
  // Shown once, here, unless the directory refused it; typed passwords are not echoed back.
  const show = input.action === "reset_password" && !input.password && a.status !== "failed";
  return { action: toActionDto(a), password: show ? password : null };
}

/** Looks up the contact's account in the directory by their email address (no verification needed). */
export async function discoverAccount(deps: DirectoryDeps, actor: Actor, contactId: string) {
  requireWriter(actor);
  const key = await deps.serverKey();
  const prepared = await deps.db.transaction().execute(async (trx) => {
    const c = await loadContactIdentity(trx, contactId);
    if (!c) throw notFound("Contact");
    assertClientVisible(actor, c.clientId, "Contact");
    if (!c.email) throw new AppError("invalid_transition", 409, `${c.name} has no email address to look up`);
    return prepare(trx, actor, key, {
      clientId: c.clientId,
      contactId: c.contactId,
      verificationId: null,
      ticketId: null,
      action: "discover",
      account: c.email,
      command: {
        kind: "directory.account",
        system: "samba",
        action: "find",
        email: c.email,
        mustChange: false,
        unlock: false,
        timeoutSeconds: 60,
      },
      password: null,
      audit: {},
    });
  });
  await dispatch(deps, actor, prepared);
  return toActionDto((await waitForResult(deps, actor, prepared.action.id, prepared.action.command_id!))!);
}

export async function getAction(deps: DirectoryDeps, actor: Actor, id: string) {
  const a = await settle(deps.db, actor, id);
  if (!a) throw notFound("Directory action");
  assertClientVisible(actor, a.client_id, "Directory action");
  return toActionDto(a);
}

export async function listActions(db: Database, actor: Actor, contactId: string) {
  const c = await loadContactIdentity(db, contactId);
  if (!c) throw notFound("Contact");
  assertClientVisible(actor, c.clientId, "Contact");
  const rows = await db
    .selectFrom("identity_actions")
    .selectAll()
    .where("contact_id", "=", contactId)
    .orderBy("created_at", "desc")
    .limit(20)
    .execute();
  return rows.map(toActionDto);
}
