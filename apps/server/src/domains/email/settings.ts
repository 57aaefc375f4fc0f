import type {
  EmailSettingsDto,
  SendTestEmailResult,
  TemplatePreviewRequest,
  UpdateEmailSettingsRequest,
} from "@switchboard/shared";
import type { Selectable } from "kysely";
import { createTransport } from "nodemailer";
import type { z } from "zod";
import type { Config } from "../../config.ts";
import type { Database } from "../../db/database.ts";
import type { EmailSettingsTable } from "../../db/schema.ts";
import { versionConflict } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, requireRole } from "../auth/actor.ts";
import { emitEvent } from "../events/outbox.ts";
import { secretBox } from "./secrets.ts";
import { render } from "./templates.ts";

// The MSP-wide outbound relay and default From address, configured in the console. They come after a
// mailbox's own SMTP server and a client's own From address, and before the environment's
// SWITCHBOARD_SMTP_RELAY_URL and SWITCHBOARD_EMAIL_FROM.

type Row = Selectable<EmailSettingsTable>;
type UpdateInput = z.output<typeof UpdateEmailSettingsRequest>;

export const readEmailSettings = (db: Database) =>
  db.selectFrom("email_settings").selectAll().where("id", "=", true).executeTakeFirst();

export function toEmailSettingsDto(row: Row | undefined, config: Config): EmailSettingsDto {
  return {
    relay:
      row?.relay_host && row.relay_port
        ? {
            host: row.relay_host,
            port: row.relay_port,
            tls: row.relay_tls,
            user: row.relay_user,
            passwordSet: row.relay_secret !== null,
          }
        : null,
    environmentRelay: !!config.SWITCHBOARD_SMTP_RELAY_URL,
    defaultFromAddress: row?.default_from_address ?? null,
    environmentFrom: config.SWITCHBOARD_EMAIL_FROM ?? null,
    version: row?.version ?? 1,
  };
}

/** What the audit log keeps: never the secret. */
const auditView = (row: Row | undefined) => {
  if (!row) return null;
  const { relay_secret, ...rest } = row;
  return { ...rest, relay_password_set: relay_secret !== null };
};

export async function getEmailSettings(db: Database, config: Config, actor: Actor) {
  requireRole(actor, "admin");
  return toEmailSettingsDto(await readEmailSettings(db), config);
}

export async function updateEmailSettings(db: Database, config: Config, actor: Actor, input: UpdateInput) {
  requireRole(actor, "admin");
  const box = await secretBox(config);
  return db.transaction().execute(async (trx) => {
    // The one row exists from the first save on; locking it serialises two admins saving at once.
    await trx
      .insertInto("email_settings")
      .values({ id: true })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const before = await trx
      .selectFrom("email_settings")
      .selectAll()
      .where("id", "=", true)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (before.version !== input.version) {
      throw versionConflict("email settings", toEmailSettingsDto(before, config));
    }
    const relay = input.relay;
    const after = await trx
      .updateTable("email_settings")
      .set({
        ...(relay !== undefined && {
          relay_host: relay?.host ?? null,
          relay_port: relay?.port ?? null,
          relay_tls: relay?.tls ?? "starttls",
          relay_user: relay?.user ?? null,
          // Leaving the password out keeps the stored one; removing the relay removes it.
          relay_secret: !relay
            ? null
            : relay.password
              ? box.seal(relay.password)
              : relay.user
                ? before.relay_secret
                : null,
        }),
        ...(input.defaultFromAddress !== undefined && { default_from_address: input.defaultFromAddress }),
        version: before.version + 1,
        updated_at: new Date(),
      })
      .where("id", "=", true)
      .returningAll()
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "email_settings.update",
      entityType: "email_settings",
      entityId: "msp",
      before: auditView(before),
      after: auditView(after),
    });
    await emitEvent(trx, actor, { type: "email_settings.changed", payload: {} });
    return toEmailSettingsDto(after, config);
  });
}

export interface RelayChoice {
  /** A stable key for pooling: changes whenever the settings do. */
  key: string;
  options: object | string;
  /** For people: "relay smtp.example.com:587" or "SWITCHBOARD_SMTP_RELAY_URL". */
  via: string;
}

/** The relay outbound mail goes through when a mailbox has no SMTP server of its own; null if none. */
export async function relayChoice(
  config: Config,
  row: Row | undefined,
  extra: { pool?: boolean } = {},
): Promise<RelayChoice | null> {
  if (row?.relay_host && row.relay_port) {
    const pass = row.relay_secret ? (await secretBox(config)).open(row.relay_secret) : undefined;
    return {
      key: `msp-relay:${row.version}:${row.relay_host}:${row.relay_port}:${row.relay_user}`,
      via: `relay ${row.relay_host}:${row.relay_port}`,
      options: {
        host: row.relay_host,
        port: row.relay_port,
        secure: row.relay_tls === "implicit",
        ignoreTLS: row.relay_tls === "none",
        requireTLS: row.relay_tls === "starttls",
        auth: row.relay_user ? { user: row.relay_user, pass } : undefined,
        ...(extra.pool && { pool: true, maxConnections: 4 }),
      },
    };
  }
  if (config.SWITCHBOARD_SMTP_RELAY_URL) {
    return {
      key: `relay:${config.SWITCHBOARD_SMTP_RELAY_URL}`,
      via: "SWITCHBOARD_SMTP_RELAY_URL",
      options: extra.pool
        ? { url: config.SWITCHBOARD_SMTP_RELAY_URL, pool: true, maxConnections: 4 }
        : config.SWITCHBOARD_SMTP_RELAY_URL,
    };
  }
  return null;
}

/** The From address of mail that no mailbox or client names one for. */
export const defaultFrom = (config: Config, row: Row | undefined) =>
  row?.default_from_address ?? config.SWITCHBOARD_EMAIL_FROM ?? null;

// A test or an invitation waits for the answer in the request: bounded, so a silent server cannot hold it.
const DIRECT_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

export class NoRelayError extends Error {}

/**
 * Sends one mail through the relay now and returns the server's answer (mail that is not about a ticket:
 * a test, an invitation). Throws NoRelayError when no relay or From is configured, or the transport's
 * error (with the server's words in `response`).
 */
export async function sendDirect(
  db: Database,
  config: Config,
  mail: { to: string; subject: string; text: string },
) {
  const row = await readEmailSettings(db);
  const relay = await relayChoice(config, row);
  const from = defaultFrom(config, row);
  if (!relay)
    throw new NoRelayError("no outbound relay: set one in Admin > Email (or SWITCHBOARD_SMTP_RELAY_URL)");
  if (!from)
    throw new NoRelayError(
      "no From address: set the default From in Admin > Email (or SWITCHBOARD_EMAIL_FROM)",
    );
  const options =
    typeof relay.options === "string"
      ? { url: relay.options, ...DIRECT_TIMEOUTS }
      : { ...relay.options, ...DIRECT_TIMEOUTS };
  const transport = createTransport(options as unknown as string);
  try {
    const info = (await transport.sendMail({ from, ...mail })) as { response: string };
    return { from, via: relay.via, response: info.response };
  } finally {
    transport.close();
  }
}

export async function sendTestEmail(
  db: Database,
  config: Config,
  actor: Actor,
  to: string,
): Promise<SendTestEmailResult> {
  requireRole(actor, "admin");
  const row = await readEmailSettings(db);
  const from = defaultFrom(config, row);
  const via = (await relayChoice(config, row))?.via ?? "none";
  let result: SendTestEmailResult;
  try {
    const sent = await sendDirect(db, config, {
      to,
      subject: "Switchboard test message",
      text: `This is a test message sent by ${actor.name} from Switchboard's email settings.\n\nIf you can read it, outbound mail works.`,
    });
    result = { ok: true, from: sent.from, via: sent.via, response: sent.response, error: null };
  } catch (err) {
    const e = err as Error & { response?: string };
    result = { ok: false, from, via, response: e.response ?? null, error: e.message };
  }
  await db.transaction().execute((trx) =>
    writeAudit(trx, actor, {
      action: "email_settings.test",
      entityType: "email_settings",
      entityId: "msp",
      after: { to, ok: result.ok, response: result.response, error: result.error },
    }),
  );
  return result;
}

/** A template as a customer would read it, with sample values for its placeholders. */
export function previewTemplate(input: z.output<typeof TemplatePreviewRequest>) {
  const vars = {
    "ticket.number": 1042,
    "ticket.subject": "Printer on the second floor jams",
    "client.name": "Riverbend Family Dentistry",
    "contact.name": "Maria Lopez",
    body: "I replaced the pickup roller; please try printing again and reply here if it jams.",
    signature: "-- \nThe service desk",
  };
  return { subject: render(input.subject, vars), body: render(input.body, vars) };
}
