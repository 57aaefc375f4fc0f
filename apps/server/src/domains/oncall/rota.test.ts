import { describe, expect, it } from "vitest";
import { escalationChain, onCallAt, type Rota, shiftsBetween } from "./rota.ts";

// Who is on call when: a wall-clock hand-over in a named zone, across daylight-saving changes, with
// overrides; instants written in UTC from the zone's offsets.

const weekly: Rota = {
  timeZone: "America/Chicago",
  period: "weekly",
  handoverMinute: 17 * 60,
  anchorDate: "2026-03-02", // a Monday
  members: ["ana", "ben", "cho"],
};
const at = (iso: string) => new Date(iso);

describe("on-call rota", () => {
  it("hands over at 17:00 local on both sides of the spring-forward change, without a gap", () => {
    // Monday 2 March 17:00 CST = 23:00Z; Monday 9 March 17:00 CDT = 22:00Z.
    expect(onCallAt(weekly, [], at("2026-03-02T22:59:00Z")).userId).toBe(null); // before the rota starts
    expect(onCallAt(weekly, [], at("2026-03-02T23:00:00Z"))).toMatchObject({
      userId: "ana",
      start: at("2026-03-02T23:00:00Z"),
      end: at("2026-03-09T22:00:00Z"),
    });
    expect(onCallAt(weekly, [], at("2026-03-09T21:59:00Z")).userId).toBe("ana");
    expect(onCallAt(weekly, [], at("2026-03-09T22:00:00Z")).userId).toBe("ben");
    expect(onCallAt(weekly, [], at("2026-03-23T22:00:00Z")).userId).toBe("ana"); // round again
  });

  it("a daily rota across London's fall-back night has no gap and no overlap", () => {
    const daily: Rota = { ...weekly, timeZone: "Europe/London", period: "daily", anchorDate: "2026-10-20" };
    const shifts = shiftsBetween(daily, [], at("2026-10-23T00:00:00Z"), at("2026-10-28T00:00:00Z"));
    for (let i = 1; i < shifts.length; i++) expect(shifts[i]!.start).toEqual(shifts[i - 1]!.end);
    // Saturday 24 Oct 17:00 BST (16:00Z) to Sunday 25 Oct 17:00 GMT (17:00Z): the 25-hour shift.
    const long = shifts.find((s) => s.start.getTime() === at("2026-10-24T16:00:00Z").getTime())!;
    expect(long.end).toEqual(at("2026-10-25T17:00:00Z"));
  });

  it("an override takes its hours and the rota resumes after it; a rota with nobody is a gap", () => {
    const override = {
      id: "o1",
      userId: "cho",
      startsAt: at("2026-03-04T00:00:00Z"),
      endsAt: at("2026-03-05T00:00:00Z"),
      createdAt: at("2026-03-01T00:00:00Z"),
    };
    const shifts = shiftsBetween(weekly, [override], at("2026-03-03T00:00:00Z"), at("2026-03-06T00:00:00Z"));
    expect(shifts.map((s) => [s.userId, s.start.toISOString(), s.overrideId])).toEqual([
      ["ana", "2026-03-03T00:00:00.000Z", null],
      ["cho", "2026-03-04T00:00:00.000Z", "o1"],
      ["ana", "2026-03-05T00:00:00.000Z", null],
    ]);
    expect(escalationChain(weekly, [override], at("2026-03-04T06:00:00Z"))).toEqual(["cho", "ben", "ana"]);
    expect(escalationChain(weekly, [], at("2026-03-04T06:00:00Z"))).toEqual(["ana", "ben", "cho"]);
    expect(onCallAt({ ...weekly, members: [] }, [], at("2026-03-04T06:00:00Z")).userId).toBe(null);
  });
});
