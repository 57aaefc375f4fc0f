import type { Selectable } from "kysely";
import { createTransport } from "nodemailer";
import type { EmailMailboxesTable } from "../../db/schema.ts";
import type { EmailDeps } from "./deps.ts";
import { secretBox } from "./secrets.ts";
import { readEmailSettings, relayChoice } from "./settings.ts";

// One pooled nodemailer transport per SMTP server and credentials, reused across deliveries.

export interface Transport {
  sendMail(m: object): Promise<{ response: string; messageId: string }>;
  close(): void;
}
const transports = new Map<string, Transport>();

type SmtpSettings = Pick<
  Selectable<EmailMailboxesTable>,
  "id" | "smtp_host" | "smtp_port" | "smtp_tls" | "smtp_user" | "smtp_secret"
>;

/**
 * The transport for a mailbox's SMTP settings (or the relay). `loaded` is the mailbox when the caller
 * read it already (null: it has none), which saves the lookup.
 */
export async function transportFor(
  deps: EmailDeps,
  mailboxId: string | null,
  loaded?: SmtpSettings | null,
): Promise<Transport> {
  const mb =
    loaded !== undefined
      ? loaded
      : mailboxId
        ? await deps.db
            .selectFrom("email_mailboxes")
            .selectAll()
            .where("id", "=", mailboxId)
            .executeTakeFirst()
        : undefined;
  let key: string;
  let options: object | string;
  if (mb?.smtp_host && mb.smtp_port) {
    const pass = mb.smtp_secret ? (await secretBox(deps.config)).open(mb.smtp_secret) : undefined;
    key = `mb:${mb.id}:${mb.smtp_host}:${mb.smtp_port}:${mb.smtp_user}:${mb.smtp_secret}`;
    options = {
      host: mb.smtp_host,
      port: mb.smtp_port,
      secure: mb.smtp_tls === "implicit",
      ignoreTLS: mb.smtp_tls === "none",
      requireTLS: mb.smtp_tls === "starttls",
      auth: mb.smtp_user ? { user: mb.smtp_user, pass } : undefined,
      pool: true,
      maxConnections: 4,
    };
  } else {
    // The relay set in the console, else the environment's: read per message, so a change applies at once.
    const relay = await relayChoice(deps.config, await readEmailSettings(deps.db), { pool: true });
    if (!relay) {
      throw new PermanentSendError(
        "no outbound SMTP: set a relay in Admin > Email, the mailbox's SMTP server, or SWITCHBOARD_SMTP_RELAY_URL",
      );
    }
    key = relay.key;
    options = relay.options;
  }
  let t = transports.get(key);
  if (!t) {
    t = createTransport(options as unknown as string) as unknown as Transport;
    transports.set(key, t);
  }
  return t;
}

export function closeTransports() {
  for (const t of transports.values()) t.close();
  transports.clear();
}

/** A failure no retry can fix (no SMTP configured, no From): the message fails at once. */
export class PermanentSendError extends Error {}
