import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { connectDatabase } from "../db/database.ts";
import type { EmailDeps } from "../domains/email/deps.ts";
import { ImapPoller } from "../domains/email/imap.ts";
import { enableJobHeartbeats, type JobRecovery, processTag, startJobRecovery } from "./job-recovery.ts";
import { type Boss, startBoss } from "./jobs.ts";

/**
 * A job process "dies" here the way PostgreSQL sees a kill -9: its registration connection goes away and
 * nothing settles its active jobs. pg-boss alone would leave them active until their 15-minute expiry.
 */
describe("jobs held by a dead process", () => {
  const url = inject("databaseUrl");
  const schema = `pgboss_rec_${randomBytes(4).toString("hex")}`;
  const QUEUE = "recovery-test";
  let boss: Boss;
  let admin: pg.Client;
  const recoveries: JobRecovery[] = [];
  const register = async (reap: boolean, intervalMs = 200) => {
    const r = await startJobRecovery(url, { schema, reap, intervalMs });
    recoveries.push(r);
    return r;
  };
  const stateOf = async (id: string) => {
    const { rows } = await admin.query(`select state, retry_count from ${schema}.job where id = $1`, [id]);
    return rows[0] as { state: string; retry_count: number };
  };
  const until = async (check: () => Promise<boolean>, ms: number) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await check()) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  };

  beforeAll(async () => {
    boss = await startBoss(url, { schema, supervise: false, schedule: false });
    await boss.createQueue(QUEUE, { retryLimit: 3, retryDelay: 600 });
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  });
  afterAll(async () => {
    for (const r of recoveries) await r.stop();
    await boss?.stop({ graceful: false, timeout: 1000 });
    await admin?.query(`drop schema if exists ${schema} cascade`);
    await admin?.end();
  });

  it("requeues them the moment a new process starts, as a runnable retry, and leaves settled jobs alone", async () => {
    const dead = await register(false);
    const held = (await boss.send(QUEUE, { n: 1 })) as string;
    const done = (await boss.send(QUEUE, { n: 2 })) as string;
    const fetched = await boss.fetch(QUEUE, { batchSize: 2 });
    expect(fetched.map((j) => j.id).sort()).toEqual([held, done].sort());
    await boss.complete(QUEUE, done);
    await dead.stop(); // the process is gone; `held` is still active

    await new Promise((r) => setTimeout(r, 500));
    expect((await stateOf(held)).state).toBe("active");

    const started = Date.now();
    await register(true); // the restart: its first sweep runs before it returns
    const after = await stateOf(held);
    expect(after.state).toBe("retry");
    expect((await stateOf(done)).state).toBe("completed");
    // Runnable now, not after the queue's 600 s retry delay.
    const again = await boss.fetch(QUEUE);
    expect(again.map((j) => j.id)).toEqual([held]);
    expect(Date.now() - started).toBeLessThan(5000);
    await boss.complete(QUEUE, held);
  });

  it("frees an IMAP mailbox lease of a dead process at once, and keeps a live one's", async () => {
    const me = await register(false);
    const tag = processTag();
    expect(tag).toMatch(new RegExp(`^sb-jobs \\d+ ${schema} [0-9a-f]{6}$`));
    const other = new pg.Client({ connectionString: url, application_name: `sb-jobs 2 ${schema} a1b2c3` });
    await other.connect();
    const handle = connectDatabase(url, { max: 2 });
    try {
      const box = async (owner: string) => {
        const { rows } = await admin.query(
          `insert into email_mailboxes (address, name, imap_lease_owner, imap_lease_until)
           values ($1, 'Lease', $2, now() + interval '90 seconds') returning id`,
          [`lease-${randomBytes(4).toString("hex")}@crash.test`, owner],
        );
        return rows[0].id as string;
      };
      const poller = new ImapPoller({ db: handle.db } as unknown as EmailDeps);
      // Its owner was killed (no such registration any more): free now, not in 90 s.
      expect(await poller.claim(await box(`sb-jobs 1 ${schema} dead00`))).toBe(true);
      // A registered, live process keeps it, and so does an owner from before registrations.
      expect(await poller.claim(await box(`sb-jobs 2 ${schema} a1b2c3`))).toBe(false);
      expect(await poller.claim(await box("123:4e7c0b0e-0000-4000-8000-000000000000"))).toBe(false);
    } finally {
      await other.end();
      await handle.close();
      await me.stop();
    }
    expect(processTag()).toBe(null);
  });

  it("leaves a live process's jobs alone, and another live process takes a dead one's after its heartbeat", async () => {
    const live = await register(true);
    await enableJobHeartbeats(boss, 10);
    let ran = 0;
    let releaseLive: () => void = () => {};
    const liveJob = (await boss.send(QUEUE, { kind: "live" })) as string;
    // The live process works its job for 14 s: pg-boss refreshes its heartbeat every 5 s meanwhile.
    const worker = await boss.work(QUEUE, { pollingIntervalSeconds: 0.5 }, async () => {
      ran++;
      await new Promise<void>((r) => {
        releaseLive = r;
        setTimeout(r, 14_000);
      });
    });
    expect(await until(async () => (await stateOf(liveJob)).state === "active", 5000)).toBe(true);
    await boss.offWork(QUEUE, { id: worker, wait: false });

    // A younger process claims a job and dies without a word: rule 1 cannot tell (the live process is
    // older than the claim), the heartbeat can.
    const dead = await register(false);
    const deadJob = (await boss.send(QUEUE, { kind: "dead" })) as string;
    const claimed = await boss.fetch(QUEUE);
    expect(claimed.map((j) => j.id)).toEqual([deadJob]);
    const diedAt = Date.now();
    await dead.stop();

    expect(await until(async () => (await stateOf(deadJob)).state === "retry", 16_000)).toBe(true);
    const tookMs = Date.now() - diedAt;
    expect(tookMs).toBeGreaterThan(5000); // not before its heartbeat could have lapsed
    expect(tookMs).toBeLessThan(14_000);
    // The live process's job was never taken from it.
    expect((await stateOf(liveJob)).state).toBe("active");
    expect(ran).toBe(1);
    releaseLive();
    expect(await until(async () => (await stateOf(liveJob)).state === "completed", 5000)).toBe(true);
    await live.stop();
  }, 40_000);
});
