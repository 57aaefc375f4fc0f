import type { LiveEvent } from "@switchboard/shared";
import { sql } from "kysely";
import type { Boss } from "../../lib/jobs.ts";
import { systemActor } from "../auth/actor.ts";
import { queueTemplated } from "../email/outbound.ts";
import type { EventDispatcher } from "../events/dispatcher.ts";
import { insertEntry } from "../tickets/timeline.ts";
import { completeIfDue, ENDED_QUEUE, REMINDER_QUEUE, type SchedulingDeps } from "./appointments.ts";
import { contactZone, describeSpan } from "./times.ts";

/** The reminder: once per revision of the appointment (a retry of the job mails nothing again). */
export async function sendReminder(deps: SchedulingDeps, id: string, sequence: number) {
  if (!deps.boss) return;
  const emailDeps = { ...deps, boss: deps.boss };
  await deps.db.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable("appointments")
      .set({ reminded_sequence: sequence })
      .where("id", "=", id)
      .where("status", "=", "confirmed")
      .where("sequence", "=", sequence)
      .where("starts_at", ">", new Date())
      .where((eb) => eb.or([eb("reminded_sequence", "is", null), eb("reminded_sequence", "!=", sequence)]))
      .returningAll()
      .executeTakeFirst();
    if (!claimed?.ticket_id) return;
    const { rows } = await sql<{
      tech_email: string;
      tech_zone: string;
      tech_name: string;
      contact_email: string | null;
    }>`
      select u.email as tech_email, u.timezone as tech_zone, u.name as tech_name, p.emails[1] as contact_email
      from users u left join contacts p on p.id = ${claimed.contact_id}::uuid where u.id = ${claimed.technician_id}`.execute(
      trx,
    );
    const r = rows[0]!;
    await queueTemplated(emailDeps, trx, {
      template: "appointment_reminder",
      ticketId: claimed.ticket_id,
      to: [r.tech_email],
      body: `${claimed.title}: ${describeSpan(claimed.starts_at, claimed.ends_at, r.tech_zone)}.`,
    });
    if (r.contact_email) {
      const zone = await contactZone(trx, claimed.contact_id, claimed.client_id);
      await queueTemplated(emailDeps, trx, {
        template: "appointment_reminder",
        ticketId: claimed.ticket_id,
        to: [r.contact_email],
        body: `A reminder of your appointment with ${r.tech_name}: ${describeSpan(claimed.starts_at, claimed.ends_at, zone)}.`,
      });
    }
  });
}

/**
 * A device that enrolled with an appointment's install token shows on that appointment's ticket. Runs
 * for each `device.enrolled` event, at least once: the appointment's device_id makes it once.
 */
export async function linkEnrolledDevice(deps: SchedulingDeps, event: LiveEvent) {
  const deviceId = (event.payload as { deviceId?: string }).deviceId;
  if (!deviceId) return;
  await deps.db.transaction().execute(async (trx) => {
    const linked = await sql<{ ticket_id: string | null; hostname: string }>`
      update appointments a set device_id = d.id, updated_at = now()
      from devices d
      where d.id = ${deviceId} and a.enrollment_token_id = d.enrollment_token_id and a.device_id is null
      returning a.ticket_id, d.hostname`.execute(trx);
    const row = linked.rows[0];
    if (!row?.ticket_id) return;
    await insertEntry(
      trx,
      systemActor("scheduling"),
      { id: row.ticket_id },
      {
        kind: "event",
        visibility: "internal",
        event: { type: "device_enrolled", deviceId, hostname: row.hostname },
      },
    );
  });
}

/** Every process that books (api and worker roles) needs the queues; see email/jobs.ts on notify. */
export async function createSchedulingQueues(boss: Boss) {
  for (const name of [REMINDER_QUEUE, ENDED_QUEUE]) {
    await boss.createQueue(name, { retryLimit: 5, retryDelay: 60, retryBackoff: true });
    await boss.updateQueue(name, { notify: false });
  }
}

export async function startSchedulingWorkers(deps: SchedulingDeps & { boss: Boss }) {
  await createSchedulingQueues(deps.boss);
  const options = { batchSize: 10, pollingIntervalSeconds: 2 };
  const ids: Array<[string, string]> = [
    [
      REMINDER_QUEUE,
      await deps.boss.work<{ id: string; sequence: number }>(REMINDER_QUEUE, options, async (jobs) => {
        for (const job of jobs) await sendReminder(deps, job.data.id, job.data.sequence);
      }),
    ],
    [
      ENDED_QUEUE,
      await deps.boss.work<{ id: string; sequence: number }>(ENDED_QUEUE, options, async (jobs) => {
        for (const job of jobs)
          await completeIfDue(deps, systemActor("scheduling"), job.data.id, job.data.sequence);
      }),
    ],
  ];
  return {
    async stop() {
      for (const [name, id] of ids) await deps.boss.offWork(name, { id }).catch(() => {});
    },
  };
}

export function registerSchedulingHandlers(dispatcher: EventDispatcher, deps: SchedulingDeps) {
  dispatcher.register({
    name: "scheduling",
    types: ["device.enrolled"],
    handle: (event) => linkEnrolledDevice(deps, event),
  });
}
