import { describe, expect, it } from "vitest";
import {
  addBusinessMinutes,
  type BusinessCalendar,
  businessMinutesBetween,
  calendarProblems,
  isOpenAt,
} from "./calendar.ts";
import { type ClockHistory, type ClockPolicy, computeClock } from "./clock.ts";

// Business time and the SLA clock, pure: weekends, holidays, daylight saving, pauses. The expected
// instants are written in UTC from the zone's offsets so the test does not trust the code's own zone math.

const weekdays = (start: number, end: number) =>
  [1, 2, 3, 4, 5].map((day) => ({ day, start: start * 60, end: end * 60 }));
const chicago: BusinessCalendar = {
  timeZone: "America/Chicago",
  alwaysOpen: false,
  hours: weekdays(8, 17),
  holidays: [],
};
const p2: ClockPolicy = {
  firstResponseMinutes: 60,
  resolutionMinutes: 8 * 60,
  warnPercent: 75,
  pauseCategories: ["waiting_client", "waiting_third_party"],
};
const at = (iso: string) => new Date(iso);
const history = (createdAt: string, extra: Partial<ClockHistory> = {}): ClockHistory => ({
  createdAt: at(createdAt),
  initialCategory: "new",
  statusChanges: [],
  customerReplies: [],
  firstResponseAt: null,
  ...extra,
});

describe("business time", () => {
  it("a P2 opened Friday 16:30 in Chicago is due on Monday, across the spring-forward weekend", () => {
    // Friday 2026-03-06 16:30 CST (UTC-6); clocks go forward on Sunday 8 March; Monday is CDT (UTC-5).
    const opened = at("2026-03-06T22:30:00Z");
    expect(addBusinessMinutes(chicago, opened, 60)).toEqual(at("2026-03-09T13:30:00Z")); // Mon 08:30 CDT
    expect(addBusinessMinutes(chicago, opened, 480)).toEqual(at("2026-03-09T20:30:00Z")); // Mon 15:30 CDT
    expect(businessMinutesBetween(chicago, opened, at("2026-03-09T14:00:00Z"))).toBe(90);
  });

  it("skips a holiday", () => {
    const cal = { ...chicago, holidays: ["2026-03-09"] };
    expect(addBusinessMinutes(cal, at("2026-03-06T22:30:00Z"), 60)).toEqual(at("2026-03-10T13:30:00Z"));
    expect(isOpenAt(cal, at("2026-03-09T15:00:00Z"))).toBe(false);
    expect(isOpenAt(chicago, at("2026-03-09T15:00:00Z"))).toBe(true);
  });

  it("counts a day the clocks skip or repeat at its real length", () => {
    const sundays = (tz: string): BusinessCalendar => ({
      timeZone: tz,
      alwaysOpen: false,
      hours: [{ day: 7, start: 0, end: 1440 }],
      holidays: [],
    });
    const day = (tz: string, from: string, to: string) =>
      businessMinutesBetween(sundays(tz), at(from), at(to));
    // Lord Howe moves by 30 minutes: 23.5 h on 2026-10-04, 24.5 h on 2026-04-05.
    expect(day("Australia/Lord_Howe", "2026-10-01T00:00:00Z", "2026-10-08T00:00:00Z")).toBe(1410);
    expect(day("Australia/Lord_Howe", "2026-04-01T00:00:00Z", "2026-04-08T00:00:00Z")).toBe(1470);
    // London falls back on 2026-10-25: a 25-hour Sunday.
    expect(day("Europe/London", "2026-10-20T00:00:00Z", "2026-10-27T00:00:00Z")).toBe(1500);
  });

  it("opens at the first real minute when the opening time is skipped", () => {
    // New York, Sunday 2026-03-08: 02:00-04:00 local is only 03:00-04:00 EDT (07:00-08:00Z).
    const cal: BusinessCalendar = {
      timeZone: "America/New_York",
      alwaysOpen: false,
      hours: [{ day: 7, start: 120, end: 240 }],
      holidays: [],
    };
    expect(businessMinutesBetween(cal, at("2026-03-08T00:00:00Z"), at("2026-03-09T00:00:00Z"))).toBe(60);
    expect(addBusinessMinutes(cal, at("2026-03-08T00:00:00Z"), 30)).toEqual(at("2026-03-08T07:30:00Z"));
  });

  it("24/7 counts every minute", () => {
    const cal: BusinessCalendar = { timeZone: "UTC", alwaysOpen: true, hours: [], holidays: [] };
    expect(addBusinessMinutes(cal, at("2026-03-07T10:00:00Z"), 90)).toEqual(at("2026-03-07T11:30:00Z"));
  });

  it("refuses calendars that make no sense, naming the field", () => {
    expect(calendarProblems({ timeZone: "Mars/Olympus", alwaysOpen: true, hours: [] })).toEqual([
      { path: "body.timeZone", message: '"Mars/Olympus" is not a known time zone' },
    ]);
    expect(calendarProblems({ timeZone: "UTC", alwaysOpen: false, hours: [] })[0]?.path).toBe("body.hours");
    const overlap = calendarProblems({
      timeZone: "UTC",
      alwaysOpen: false,
      hours: [
        { day: 1, start: "08:00", end: "12:00" },
        { day: 1, start: "11:00", end: "17:00" },
        { day: 2, start: "17:00", end: "08:00" },
      ],
    });
    expect(overlap.map((p) => p.path)).toEqual(["body.hours.2.end", "body.hours.1"]);
  });
});

describe("the SLA clock", () => {
  it("runs in business time and warns at the threshold", () => {
    const c = computeClock(history("2026-03-06T22:30:00Z"), p2, chicago, at("2026-03-07T12:00:00Z"));
    expect(c.firstResponse.status).toBe("running");
    expect(c.firstResponse.dueAt).toEqual(at("2026-03-09T13:30:00Z"));
    expect(c.firstResponse.warnAt).toEqual(at("2026-03-09T13:15:00Z")); // 45 of 60 minutes
    expect(c.firstResponse.elapsedMinutes).toBe(30);
  });

  it("a first public reply meets the first-response target; a late one breaches it", () => {
    const onTime = computeClock(
      history("2026-03-06T22:30:00Z", { firstResponseAt: at("2026-03-09T13:10:00Z") }),
      p2,
      chicago,
      at("2026-03-09T15:00:00Z"),
    );
    expect(onTime.firstResponse).toMatchObject({ status: "met", dueAt: null, breachedAt: null });
    const late = computeClock(
      history("2026-03-06T22:30:00Z", { firstResponseAt: at("2026-03-09T14:00:00Z") }),
      p2,
      chicago,
      at("2026-03-09T15:00:00Z"),
    );
    expect(late.firstResponse).toMatchObject({ status: "breached", breachedAt: at("2026-03-09T13:30:00Z") });
  });

  it("waiting on the client for two days does not breach; the customer's reply restarts it", () => {
    // Monday 08:00 CDT opened; waiting on client from 08:40 (40 min used); customer writes Wednesday 10:00.
    const h = history("2026-03-09T13:00:00Z", {
      statusChanges: [
        { at: at("2026-03-09T13:40:00Z"), category: "waiting_client", name: "Waiting on client" },
      ],
    });
    const paused = computeClock(h, p2, chicago, at("2026-03-11T14:00:00Z"));
    expect(paused.paused).toBe(true);
    expect(paused.firstResponse).toMatchObject({ status: "paused", dueAt: null, elapsedMinutes: 40 });
    expect(paused.segments.map((s) => s.state)).toEqual(["running", "paused"]);

    const replied = computeClock(
      { ...h, customerReplies: [at("2026-03-11T15:00:00Z")] },
      p2,
      chicago,
      at("2026-03-11T15:05:00Z"),
    );
    expect(replied.paused).toBe(false);
    expect(replied.firstResponse.dueAt).toEqual(at("2026-03-11T15:20:00Z")); // 20 minutes were left
    expect(replied.segments.at(-1)).toMatchObject({ state: "running", reason: "the customer replied" });
  });

  it("a policy change re-targets from the start and keeps the pauses", () => {
    const h = history("2026-03-09T13:00:00Z", {
      statusChanges: [
        { at: at("2026-03-09T14:00:00Z"), category: "waiting_client", name: "Waiting on client" },
        { at: at("2026-03-10T14:00:00Z"), category: "open", name: "Open" },
      ],
    });
    const now = at("2026-03-10T14:30:00Z");
    const before = computeClock(h, p2, chicago, now);
    const p1 = computeClock(h, { ...p2, resolutionMinutes: 240 }, chicago, now);
    // 60 minutes before the pause, the pause day not counted: 180 (P2: 420) minutes left from Tuesday 09:00 CDT.
    expect(p1.resolution.dueAt).toEqual(at("2026-03-10T17:00:00Z"));
    expect(before.resolution.dueAt).toEqual(at("2026-03-10T21:00:00Z"));
    expect(p1.resolution.elapsedMinutes).toBe(90);
  });

  it("resolving stops the clock; reopening starts it again", () => {
    const h = history("2026-03-09T13:00:00Z", {
      firstResponseAt: at("2026-03-09T13:05:00Z"),
      statusChanges: [
        { at: at("2026-03-09T15:00:00Z"), category: "resolved", name: "Resolved" },
        { at: at("2026-03-10T13:00:00Z"), category: "open", name: "Open" },
      ],
    });
    const resolved = computeClock(h, p2, chicago, at("2026-03-09T20:00:00Z"));
    expect(resolved.resolution).toMatchObject({ status: "met", metAt: at("2026-03-09T15:00:00Z") });
    const reopened = computeClock(h, p2, chicago, at("2026-03-10T13:30:00Z"));
    expect(reopened.resolution.status).toBe("running");
    expect(reopened.resolution.dueAt).toEqual(at("2026-03-10T19:00:00Z")); // 360 left from 08:00
  });
});
