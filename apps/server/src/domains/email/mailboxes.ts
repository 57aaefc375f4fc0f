import type { CreateMailboxRequest, MailboxDto, UpdateMailboxRequest } from "@switchboard/shared";
import type { Selectable, Transaction, Updateable } from "kysely";
import type { z } from "zod";
import type { Config } from "../../config.ts";
import type { Database } from "../../db/database.ts";
import type { DB, EmailMailboxesTable } from "../../db/schema.ts";
import { AppError, invalid, notFound } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, requireRole } from "../auth/actor.ts";
import { emitEvent } from "../events/outbox.ts";
import { secretBox } from "./secrets.ts";

type Row = Selectable<EmailMailboxesTable>;
type CreateInput = z.output<typeof CreateMailboxRequest>;
type UpdateInput = z.output<typeof UpdateMailboxRequest>;

export function toMailboxDto(m: Row): MailboxDto {
  return {
    id: m.id,
    address: m.address,
    name: m.name,
    active: m.active,
    imap:
      m.imap_host && m.imap_port
        ? { host: m.imap_host, port: m.imap_port, tls: m.imap_tls, user: m.imap_user, folder: m.imap_folder }
        : null,
    smtp:
      m.smtp_host && m.smtp_port
        ? { host: m.smtp_host, port: m.smtp_port, tls: m.smtp_tls, user: m.smtp_user }
        : null,
    imapPasswordSet: m.imap_secret !== null,
    smtpPasswordSet: m.smtp_secret !== null,
    defaultTeamId: m.default_team_id,
    defaultClientId: m.default_client_id,
    strangerPolicy: m.stranger_policy,
    sendAcknowledgement: m.send_acknowledgement,
    lastPolledAt: m.last_polled_at?.toISOString() ?? null,
    lastError: m.last_error,
    version: m.version,
  };
}

/** What the audit log keeps: never a secret, not even encrypted. */
const auditView = (m: Row) => {
  const { imap_secret: _i, smtp_secret: _s, ...rest } = m;
  return { ...rest, imapPasswordSet: m.imap_secret !== null, smtpPasswordSet: m.smtp_secret !== null };
};

async function checkRefs(
  trx: Transaction<DB>,
  input: { defaultTeamId?: string | null; defaultClientId?: string | null },
) {
  if (input.defaultTeamId) {
    const t = await trx
      .selectFrom("teams")
      .select("id")
      .where("id", "=", input.defaultTeamId)
      .executeTakeFirst();
    if (!t) throw invalid("body.defaultTeamId", "no such team");
  }
  if (input.defaultClientId) {
    const c = await trx
      .selectFrom("clients")
      .select("id")
      .where("id", "=", input.defaultClientId)
      .executeTakeFirst();
    if (!c) throw invalid("body.defaultClientId", "no such client");
  }
}

async function serverColumns(
  config: Config,
  input: Partial<Pick<CreateInput, "imap" | "smtp">>,
  current?: Row,
) {
  const box = await secretBox(config);
  const out: Updateable<EmailMailboxesTable> = {};
  if (input.imap !== undefined) {
    const i = input.imap;
    out.imap_host = i?.host ?? null;
    out.imap_port = i?.port ?? null;
    out.imap_tls = i?.tls ?? "implicit";
    out.imap_user = i?.user ?? null;
    out.imap_folder = i?.folder ?? "INBOX";
    // Leaving the password out keeps the stored one; removing the server removes it.
    out.imap_secret = !i ? null : i.password ? box.seal(i.password) : (current?.imap_secret ?? null);
    if (
      current &&
      (i?.host !== current.imap_host || i?.user !== current.imap_user || i?.folder !== current.imap_folder)
    ) {
      out.imap_uid_validity = null;
      out.imap_last_uid = 0;
    }
  }
  if (input.smtp !== undefined) {
    const s = input.smtp;
    out.smtp_host = s?.host ?? null;
    out.smtp_port = s?.port ?? null;
    out.smtp_tls = s?.tls ?? "starttls";
    out.smtp_user = s?.user ?? null;
    out.smtp_secret = !s ? null : s.password ? box.seal(s.password) : (current?.smtp_secret ?? null);
  }
  return out;
}

export async function listMailboxes(db: Database, actor: Actor) {
  requireRole(actor, "admin");
  const rows = await db.selectFrom("email_mailboxes").selectAll().orderBy("address").execute();
  return rows.map(toMailboxDto);
}

export async function createMailbox(db: Database, config: Config, actor: Actor, input: CreateInput) {
  requireRole(actor, "admin");
  const servers = await serverColumns(config, input);
  return db.transaction().execute(async (trx) => {
    await checkRefs(trx, input);
    const taken = await trx
      .selectFrom("email_mailboxes")
      .select("id")
      .where((eb) => eb(eb.fn("lower", ["address"]), "=", input.address))
      .executeTakeFirst();
    if (taken) throw new AppError("conflict", 409, "A mailbox with this address exists");
    const row = await trx
      .insertInto("email_mailboxes")
      .values({
        address: input.address,
        name: input.name,
        active: input.active,
        default_team_id: input.defaultTeamId,
        default_client_id: input.defaultClientId,
        stranger_policy: input.strangerPolicy,
        send_acknowledgement: input.sendAcknowledgement,
        ...servers,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "mailbox.create",
      entityType: "mailbox",
      entityId: row.id,
      after: auditView(row),
    });
    await emitEvent(trx, actor, { type: "mailbox.changed", payload: { mailboxId: row.id } });
    return toMailboxDto(row);
  });
}

export async function updateMailbox(
  db: Database,
  config: Config,
  actor: Actor,
  id: string,
  input: UpdateInput,
) {
  requireRole(actor, "admin");
  return db.transaction().execute(async (trx) => {
    const current = await trx
      .selectFrom("email_mailboxes")
      .selectAll()
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!current) throw notFound("Mailbox");
    if (current.version !== input.version) {
      throw new AppError("version_conflict", 412, "The mailbox changed since you read it", {
        current: toMailboxDto(current),
      });
    }
    await checkRefs(trx, input);
    const servers = await serverColumns(config, input, current);
    const row = await trx
      .updateTable("email_mailboxes")
      .set({
        ...(input.name !== undefined && { name: input.name }),
        ...(input.active !== undefined && { active: input.active }),
        ...(input.defaultTeamId !== undefined && { default_team_id: input.defaultTeamId }),
        ...(input.defaultClientId !== undefined && { default_client_id: input.defaultClientId }),
        ...(input.strangerPolicy !== undefined && { stranger_policy: input.strangerPolicy }),
        ...(input.sendAcknowledgement !== undefined && { send_acknowledgement: input.sendAcknowledgement }),
        ...servers,
        version: current.version + 1,
        updated_at: new Date(),
      })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "mailbox.update",
      entityType: "mailbox",
      entityId: id,
      before: auditView(current),
      after: auditView(row),
    });
    await emitEvent(trx, actor, { type: "mailbox.changed", payload: { mailboxId: id } });
    return toMailboxDto(row);
  });
}

export async function deleteMailbox(db: Database, actor: Actor, id: string) {
  requireRole(actor, "admin");
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .deleteFrom("email_mailboxes")
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw notFound("Mailbox");
    await writeAudit(trx, actor, {
      action: "mailbox.delete",
      entityType: "mailbox",
      entityId: id,
      before: auditView(row),
    });
    await emitEvent(trx, actor, { type: "mailbox.changed", payload: { mailboxId: id } });
  });
}
