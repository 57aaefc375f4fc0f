import { sql, type Transaction } from "kysely";
import type { DB, InstallOs } from "../../db/schema.ts";
import { AppError } from "../../http/errors.ts";
import { availableBuilds, platformInstalls } from "../agents/builds.ts";
import { loadOrCreateServerKey } from "../agents/signing-key.ts";
import { writeAudit } from "../audit/audit.ts";
import { systemActor } from "../auth/actor.ts";
import { newSecret, sha256 } from "../auth/crypto.ts";
import { queueTemplated } from "../email/outbound.ts";
import type { SchedulingDeps } from "./appointments.ts";
import { buildInvite } from "./ics.ts";
import { contactZone, describeSpan } from "./times.ts";

type Trx = Transaction<DB>;

const OS_LABEL: Record<InstallOs, string> = { windows: "Windows", macos: "macOS", linux: "Linux" };

interface InviteContext {
  id: string;
  ical_uid: string;
  sequence: number;
  kind: "remote" | "onsite";
  title: string;
  starts_at: Date;
  ends_at: Date;
  notes: string;
  install_os: InstallOs | null;
  enrollment_token_id: string | null;
  client_id: string;
  site_id: string | null;
  ticket_id: string | null;
  ticket_number: number | null;
  contact_id: string | null;
  contact_name: string | null;
  contact_email: string | null;
  site_text: string | null;
  msp_name: string;
}

async function context(trx: Trx, id: string) {
  const { rows } = await sql<InviteContext>`
    select a.id, a.ical_uid, a.sequence, a.kind, a.title, a.starts_at, a.ends_at, a.notes, a.install_os,
      a.enrollment_token_id, a.client_id, a.site_id, a.ticket_id, t.number as ticket_number, a.contact_id,
      nullif(trim(p.first_name || ' ' || p.last_name), '') as contact_name, p.emails[1] as contact_email,
      nullif(concat_ws(', ', s.name, s.address_line1, s.city), '') as site_text,
      coalesce((select name from msp limit 1), '') as msp_name
    from appointments a
    left join tickets t on t.id = a.ticket_id
    left join contacts p on p.id = a.contact_id
    left join sites s on s.id = a.site_id
    where a.id = ${id}`.execute(trx);
  return rows[0]!;
}

/**
 * A single-use enrollment token for the visit, made once per appointment (the device that enrolls with
 * it is linked back to the ticket by jobs.ts). Its install command goes only into the contact's invite.
 */
async function installToken(trx: Trx, a: InviteContext) {
  if (!a.install_os) return null;
  const token = newSecret("sbe_");
  const row = await trx
    .insertInto("enrollment_tokens")
    .values({
      client_id: a.client_id,
      site_id: a.site_id,
      label: `Agent install for ${a.title}`,
      token_hash: sha256(token),
      prefix: token.slice(0, 10),
      max_uses: 1,
      expires_at: new Date(a.ends_at.getTime() + 7 * 86_400_000),
      created_by_user_id: null,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  await trx.updateTable("appointments").set({ enrollment_token_id: row.id }).where("id", "=", a.id).execute();
  await writeAudit(trx, systemActor("scheduling"), {
    action: "enrollment_token.created",
    entityType: "enrollment_token",
    entityId: row.id,
    clientId: a.client_id,
    after: { appointmentId: a.id, maxUses: 1, purpose: "agent install at an appointment" },
  });
  return token;
}

/**
 * Queues the invite mails of an appointment in the caller's transaction: to the technician (their
 * zone) and, when asked, the contact (theirs), each with the same iCalendar event (UID and SEQUENCE), so
 * a REQUEST adds or updates it and a CANCEL removes it from both calendars.
 */
export async function sendInvites(
  deps: SchedulingDeps,
  trx: Trx,
  appointmentId: string,
  opts: {
    method: "REQUEST" | "CANCEL";
    notifyContact: boolean;
    baseUrl: string;
    /** Another technician than the appointment's (the one a moved visit was taken from). */
    technicianId?: string;
    mintInstallToken?: boolean;
    reason?: string;
  },
) {
  if (!deps.boss) throw new AppError("internal_error", 500, "The job queue is not running in this process");
  const emailDeps = { ...deps, boss: deps.boss };
  const a = await context(trx, appointmentId);
  if (!a.ticket_id) return;
  const techRow = await sql<{ name: string; email: string; timezone: string }>`
    select u.name, u.email, u.timezone from users u where u.id = coalesce(${opts.technicianId ?? null}::uuid,
      (select technician_id from appointments where id = ${appointmentId}))`.execute(trx);
  const tech = techRow.rows[0]!;
  const where = a.kind === "remote" ? "Remote session" : (a.site_text ?? "On site");
  const ics = buildInvite({
    uid: a.ical_uid,
    sequence: a.sequence,
    method: opts.method,
    start: a.starts_at,
    end: a.ends_at,
    summary: `${a.title} (#${a.ticket_number})`,
    description: [`Ticket #${a.ticket_number}: ${a.title}`, a.notes].filter(Boolean).join("\n"),
    location: where,
    organizer: { name: tech.name, email: tech.email },
    attendees: [
      { name: tech.name, email: tech.email },
      ...(a.contact_email ? [{ name: a.contact_name ?? a.contact_email, email: a.contact_email }] : []),
    ],
  });
  const cancelled = opts.method === "CANCEL";
  const template = cancelled ? "appointment_cancelled" : "appointment_invite";
  const what = a.kind === "remote" ? "a remote session" : `a visit at ${a.site_text ?? "your site"}`;

  await queueTemplated(emailDeps, trx, {
    template,
    ticketId: a.ticket_id,
    to: [tech.email],
    body: cancelled
      ? `Cancelled: ${a.title}, ${describeSpan(a.starts_at, a.ends_at, tech.timezone)}.${opts.reason ? `\nReason: ${opts.reason}` : ""}`
      : `${a.title} with ${a.contact_name ?? "the client"}: ${describeSpan(a.starts_at, a.ends_at, tech.timezone)} (${where}).`,
    ical: { method: opts.method, content: ics },
  });

  if (!opts.notifyContact || !a.contact_email) return;
  const zone = await contactZone(trx, a.contact_id, a.client_id);
  const token = opts.mintInstallToken && !a.enrollment_token_id ? await installToken(trx, a) : null;
  const lines = cancelled
    ? [
        `Your appointment with ${tech.name} (${a.msp_name}) on ${describeSpan(a.starts_at, a.ends_at, zone)} is cancelled.`,
        opts.reason ? `Reason: ${opts.reason}` : "",
      ]
    : [
        `Your appointment with ${tech.name} (${a.msp_name}) is booked: ${describeSpan(a.starts_at, a.ends_at, zone)}, ${what}.`,
        `It is about ticket #${a.ticket_number}: ${a.title}.`,
      ];
  if (token && a.install_os) {
    const key = await loadOrCreateServerKey(trx, deps.config.AGENT_SIGNING_KEY_PASSPHRASE);
    const install = platformInstalls(opts.baseUrl, token, key.fingerprint, availableBuilds()).find(
      (p) => p.key === a.install_os,
    );
    // Only a command that works on this server is mailed; otherwise the contact is told plainly.
    lines.push(
      "",
      ...(install?.available && install.command
        ? [
            `We will install our monitoring and support agent on your ${OS_LABEL[a.install_os]} computer. If you would like to`,
            "start it yourself before we connect, run this as an administrator (the code in it works once, for this visit):",
            "",
            install.command,
          ]
        : [
            `We will install our monitoring and support agent on your ${OS_LABEL[a.install_os]} computer during the visit.`,
          ]),
    );
  }
  await queueTemplated(emailDeps, trx, {
    template,
    ticketId: a.ticket_id,
    to: [a.contact_email],
    body: lines.filter((l) => l !== undefined).join("\n"),
    ical: { method: opts.method, content: ics },
  });
}
