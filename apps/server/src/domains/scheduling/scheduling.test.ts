import ICAL from "ical.js";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  isolatedDatabase,
  makeClient,
  makeContact,
  makeUser,
  rand,
  type TestApp,
  type TestUser,
} from "../../../test/helpers.ts";
import { availableBuilds } from "../agents/builds.ts";
import { type CapturedMail, startEmailStack, startReceiver, waitFor } from "../email/test-support.ts";
import { linkEnrolledDevice, sendReminder } from "./jobs.ts";

// Propose times, the contact books by the link from the mail, both get invites that calendars read back
// at the right instant; across daylight saving changes and time zones.

let t: TestApp;
let stack: Awaited<ReturnType<typeof startEmailStack>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let tech: TestUser;
let clientId: string;
let contactEmail: string;
let contactId: string;

beforeAll(async () => {
  receiver = await startReceiver();
  const url = await isolatedDatabase();
  t = await createTestApp(
    {
      SWITCHBOARD_SMTP_RELAY_URL: `smtp://127.0.0.1:${receiver.port}`,
      SWITCHBOARD_EMAIL_FROM: "desk@msp.example",
    },
    url,
  );
  stack = await startEmailStack({ db: t.db, blobs: t.deps.blobs, config: t.deps.config }, url);
  t.deps.boss = stack.deps.boss;
  await stack.deps.boss.createQueue("appointment.reminder");
  await stack.deps.boss.createQueue("appointment.ended");
  tech = await makeUser(t, { name: "Dana Whitfield" });
  await t.db.updateTable("users").set({ timezone: "America/Chicago" }).where("id", "=", tech.id).execute();
  const client = await makeClient(t);
  clientId = client.id;
  // The contact works at the client's London office.
  const site = await t.db
    .insertInto("sites")
    .values({ client_id: clientId, name: "London office", timezone: "Europe/London" })
    .returning("id")
    .executeTakeFirstOrThrow();
  contactEmail = `${rand("amy")}@client.example`;
  const contact = await makeContact(t, clientId, { firstName: "Amy", email: contactEmail });
  await t.db.updateTable("contacts").set({ site_id: site.id }).where("id", "=", contact.id).execute();
  contactId = contact.id;
});

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
  await t?.close();
});

const call = async (method: string, url: string, payload?: unknown, user: TestUser | null = tech) => {
  const res = await t.app.inject({
    method: method as "GET",
    url,
    headers: user?.auth ?? {},
    payload: payload as object,
  });
  return { status: res.statusCode, body: res.statusCode === 204 ? null : res.json() };
};

const newTicket = async (subject: string) =>
  (await call("POST", "/api/v1/tickets", { subject, clientId, contactId })).body as {
    id: string;
    number: number;
  };

async function mailTo(address: string, match: (text: string) => boolean) {
  return waitFor(async () => {
    for (const m of receiver.mails.filter((x: CapturedMail) => x.to.includes(address))) {
      const parsed = await simpleParser(m.raw);
      if (match(`${parsed.subject}\n${parsed.text}`)) return { parsed, raw: m.raw.toString("utf8") };
    }
    return null;
  });
}

/** The VEVENT of an invite mail, parsed by ical.js as a calendar program would. */
function eventOf(raw: string) {
  const parsedRaw = raw.replace(/=\r\n/g, "");
  const start = parsedRaw.indexOf("BEGIN:VCALENDAR");
  const end = parsedRaw.indexOf("END:VCALENDAR") + "END:VCALENDAR".length;
  const ics = parsedRaw.slice(start, end);
  const comp = new ICAL.Component(ICAL.parse(ics));
  const vevent = comp.getFirstSubcomponent("vevent")!;
  return { method: comp.getFirstPropertyValue("method"), event: new ICAL.Event(vevent), vevent };
}

describe("propose times, book by link, invites", () => {
  it("refuses a wall-clock time the clocks skip, saying why", async () => {
    const ticket = await newTicket("Install monitoring agent");
    const res = await call("POST", `/api/v1/tickets/${ticket.id}/proposals`, {
      contactId,
      slots: [{ local: "2027-03-14T02:30", timeZone: "America/Chicago" }],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.issues[0]).toEqual({
      path: "body.slots.0.local",
      message:
        "2027-03-14 02:30 does not exist in America/Chicago: the clocks skip it (daylight saving time begins)",
    });
  });

  it("books the slot the contact picks, once, with invites both calendars place at the same instant", async () => {
    const ticket = await newTicket("New laptop: install our agent");
    // Monday 15 March 2027, 9:00 in Chicago: the US is on daylight time, the UK not yet (14:00 GMT).
    const proposal = await call("POST", `/api/v1/tickets/${ticket.id}/proposals`, {
      contactId,
      durationMinutes: 60,
      installOs: "windows",
      slots: [
        { local: "2027-03-15T09:00", timeZone: "America/Chicago" },
        { local: "2027-03-16T13:00", timeZone: "America/Chicago" },
      ],
    });
    expect(proposal.status).toBe(201);
    expect(proposal.body.slots[0].startsAt).toBe("2027-03-15T14:00:00.000Z");

    const offer = await mailTo(contactEmail, (s) => s.includes("Choose a time"));
    expect(offer.parsed.text).toContain("Monday, March 15, 2027, 2:00 PM–3:00 PM GMT");
    const link = /(https?:\/\/\S+\/book\/(sbb_[\w-]+))\?slot=([\w-]+)/.exec(offer.parsed.text ?? "")!;
    const [, , token, firstSlot] = link;

    const view = await call("GET", `/api/v1/public/bookings/${token}`, undefined, null);
    expect(view.body).toMatchObject({
      status: "open",
      timeZone: "Europe/London",
      technicianName: "Dana Whitfield",
      ticketNumber: ticket.number,
    });
    // An altered link is no link.
    expect((await call("GET", `/api/v1/public/bookings/${token}x`, undefined, null)).status).toBe(404);
    const wrongSlot = await call("POST", `/api/v1/public/bookings/${token}`, { slotId: ticket.id }, null);
    expect(wrongSlot.status).toBe(400);

    const booked = await call("POST", `/api/v1/public/bookings/${token}`, { slotId: firstSlot }, null);
    expect(booked.status).toBe(200);
    expect(booked.body).toMatchObject({ status: "booked", booked: { startsAt: "2027-03-15T14:00:00.000Z" } });
    expect((await call("POST", `/api/v1/public/bookings/${token}`, { slotId: firstSlot }, null)).status).toBe(
      409,
    );

    const full = (await call("GET", `/api/v1/tickets/${ticket.id}`)).body;
    expect(full.ticket.status.category).toBe("scheduled");

    const mine = await mailTo(contactEmail, (s) => s.startsWith("Appointment:"));
    expect(mine.parsed.text).toContain("Monday, March 15, 2027, 2:00 PM–3:00 PM GMT");
    // The install command only when this server has the Windows build; otherwise it says so plainly.
    if (availableBuilds().has("win-x64") && availableBuilds().has("windows-service")) {
      expect(mine.parsed.text).toMatch(/switchboard-agent\.exe install --server http:\/\/\S+ --token sbe_/);
    } else {
      expect(mine.parsed.text).toContain(
        "We will install our monitoring and support agent on your Windows computer during the visit.",
      );
    }
    const theirs = await mailTo(tech.email, (s) => s.startsWith("Appointment:"));
    expect(theirs.parsed.text).toContain("9:00 AM–10:00 AM CDT");
    for (const mail of [mine, theirs]) {
      const { method, event } = eventOf(mail.raw);
      expect(method).toBe("REQUEST");
      expect(event.startDate.toJSDate().toISOString()).toBe("2027-03-15T14:00:00.000Z");
      expect(event.endDate.toJSDate().toISOString()).toBe("2027-03-15T15:00:00.000Z");
      expect(event.attendees.map((a) => String(a.getFirstValue()).toLowerCase())).toContain(
        `mailto:${contactEmail}`,
      );
    }
  });

  it("moves and cancels with the same event (SEQUENCE up), hands the ticket back, and reminds once", async () => {
    const ticket = await newTicket("Printer driver");
    const start = new Date(Date.now() + 3 * 86_400_000);
    start.setUTCMinutes(0, 0, 0);
    const created = await call("POST", "/api/v1/appointments", {
      technicianId: tech.id,
      ticketId: ticket.id,
      start: { at: start.toISOString() },
      durationMinutes: 30,
    });
    expect(created.status).toBe(201);
    // The technician cannot be in two places.
    const clash = await call("POST", "/api/v1/appointments", {
      technicianId: tech.id,
      ticketId: ticket.id,
      start: { at: start.toISOString() },
    });
    expect(clash.status).toBe(409);

    const later = new Date(start.getTime() + 86_400_000);
    const moved = await call("PATCH", `/api/v1/appointments/${created.body.id}`, {
      version: created.body.version,
      start: { at: later.toISOString() },
    });
    expect(moved.body).toMatchObject({ sequence: 1, startsAt: later.toISOString() });
    // The update is the invite whose event starts at the new time (a day's digits alone also match the
    // first invite's text now and then).
    const update = await waitFor(async () => {
      for (const m of receiver.mails.filter((x: CapturedMail) => x.to.includes(contactEmail))) {
        const subject = (await simpleParser(m.raw)).subject ?? "";
        if (!subject.startsWith("Appointment: Printer driver")) continue;
        const raw = m.raw.toString("utf8");
        if (eventOf(raw).event.startDate.toJSDate().getTime() === later.getTime()) return { raw };
      }
      return null;
    });
    const { event: updated } = eventOf(update.raw);
    expect(updated.sequence).toBe(1);
    expect(updated.uid).toBe(
      eventOf((await mailTo(tech.email, (s) => s.startsWith("Appointment: Printer driver"))).raw).event.uid,
    );

    await sendReminder(t.deps as never, created.body.id, 1);
    await sendReminder(t.deps as never, created.body.id, 1);
    await sendReminder(t.deps as never, created.body.id, 0); // a stale job of the old time
    const reminders = await t.db
      .selectFrom("email_messages")
      .select("to_addresses")
      .where("ticket_id", "=", ticket.id)
      .where("template", "=", "appointment_reminder")
      .execute();
    expect(reminders.map((r) => r.to_addresses[0]).sort()).toEqual([contactEmail, tech.email].sort());

    const cancelled = await call("POST", `/api/v1/appointments/${created.body.id}/cancel`, {
      reason: "fixed by phone",
    });
    expect(cancelled.body).toMatchObject({ status: "cancelled", sequence: 2 });
    const cancel = await mailTo(contactEmail, (s) => s.startsWith("Cancelled: Printer driver"));
    const parsed = eventOf(cancel.raw);
    expect(parsed.method).toBe("CANCEL");
    expect(parsed.event.sequence).toBe(2);
    const back = (await call("GET", `/api/v1/tickets/${ticket.id}`)).body;
    expect(back.ticket.status.category).toBe("open");
  });

  it("shows on the ticket the device that enrolled with the visit's install code", async () => {
    const [appointment] = await t.db
      .selectFrom("appointments")
      .selectAll()
      .where("install_os", "=", "windows")
      .execute();
    expect(appointment?.enrollment_token_id).toBeTruthy();
    const device = await t.db
      .insertInto("devices")
      .values({
        client_id: clientId,
        hostname: "AMY-LAPTOP",
        platform: "windows",
        arch: "x64",
        os_name: "Windows 11",
        os_version: "24H2",
        agent_version: "1.0.0",
        public_key: "key",
        enrollment_token_id: appointment!.enrollment_token_id,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const event = {
      id: 1,
      type: "device.enrolled",
      ticketId: null,
      clientId,
      actorUserId: null,
      at: new Date().toISOString(),
      payload: { deviceId: device.id },
    };
    await linkEnrolledDevice(t.deps as never, event);
    await linkEnrolledDevice(t.deps as never, event); // delivered twice: noted once
    const entries = await t.db
      .selectFrom("timeline_entries")
      .select("event")
      .where("ticket_id", "=", appointment!.ticket_id!)
      .where("kind", "=", "event")
      .execute();
    const enrolled = entries.filter((e) => (e.event as { type?: string } | null)?.type === "device_enrolled");
    expect(enrolled).toHaveLength(1);
    expect(enrolled[0]!.event).toMatchObject({ hostname: "AMY-LAPTOP", deviceId: device.id });
  });
});
