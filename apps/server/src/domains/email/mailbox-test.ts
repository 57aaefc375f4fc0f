import type { MailboxTestResult } from "@switchboard/shared";
import { ImapFlow } from "imapflow";
import { createTransport } from "nodemailer";
import type { Config } from "../../config.ts";
import type { Database } from "../../db/database.ts";
import { notFound } from "../../http/errors.ts";
import { type Actor, requireRole } from "../auth/actor.ts";
import { secretBox } from "./secrets.ts";

// "Test connection" on a mailbox: sign in to its IMAP server and open the folder it polls, and greet its
// SMTP server (with its credentials when it has some), each bounded in time, reporting the server's
// own words. Nothing is read, sent or changed.

const TIMEOUT_MS = 15_000;

const describe = (err: unknown) => {
  const e = err as Error & {
    response?: string;
    responseText?: string;
    code?: string;
    authenticationFailed?: boolean;
  };
  if (e.authenticationFailed) return `sign-in refused: ${e.responseText ?? e.response ?? e.message}`;
  return [e.code, e.responseText ?? e.response ?? e.message].filter(Boolean).join(": ");
};

export async function testMailbox(
  db: Database,
  config: Config,
  actor: Actor,
  id: string,
): Promise<MailboxTestResult> {
  requireRole(actor, "admin");
  const mb = await db.selectFrom("email_mailboxes").selectAll().where("id", "=", id).executeTakeFirst();
  if (!mb) throw notFound("Mailbox");
  const box = await secretBox(config);
  const result: MailboxTestResult = { imap: null, smtp: null };

  if (mb.imap_host && mb.imap_port) {
    const client = new ImapFlow({
      host: mb.imap_host,
      port: mb.imap_port,
      secure: mb.imap_tls === "implicit",
      doSTARTTLS: mb.imap_tls === "starttls" ? true : mb.imap_tls === "none" ? false : undefined,
      auth: { user: mb.imap_user ?? mb.address, pass: mb.imap_secret ? box.open(mb.imap_secret) : "" },
      logger: false,
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    });
    client.on("error", () => {});
    try {
      await client.connect();
      const status = await client.status(mb.imap_folder, { messages: true });
      result.imap = {
        ok: true,
        message: `signed in as ${mb.imap_user ?? mb.address}; ${mb.imap_folder} holds ${status ? (status.messages ?? 0) : 0} messages`,
      };
    } catch (err) {
      result.imap = { ok: false, message: describe(err) };
    } finally {
      await client.logout().catch(() => client.close());
    }
  }

  if (mb.smtp_host && mb.smtp_port) {
    const transport = createTransport({
      host: mb.smtp_host,
      port: mb.smtp_port,
      secure: mb.smtp_tls === "implicit",
      ignoreTLS: mb.smtp_tls === "none",
      requireTLS: mb.smtp_tls === "starttls",
      auth: mb.smtp_user
        ? { user: mb.smtp_user, pass: mb.smtp_secret ? box.open(mb.smtp_secret) : "" }
        : undefined,
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    });
    try {
      await transport.verify();
      result.smtp = {
        ok: true,
        message: `${mb.smtp_host}:${mb.smtp_port} accepts mail${mb.smtp_user ? ` from ${mb.smtp_user}` : ""}`,
      };
    } catch (err) {
      result.smtp = { ok: false, message: describe(err) };
    } finally {
      transport.close();
    }
  }
  return result;
}
