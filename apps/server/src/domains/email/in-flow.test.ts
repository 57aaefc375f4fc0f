import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedDatabase } from "../../../test/helpers.ts";
import { connectDatabase, type DatabaseHandle } from "../../db/database.ts";
import type { EmailDeps } from "./deps.ts";
import { InFlowDelay } from "./smtp-listener.ts";

// A database of its own: the backlog is every message in `received`, whoever accepted it.
describe("SMTP in-flow delay", () => {
  let handle: DatabaseHandle;
  let deps: EmailDeps;

  beforeAll(async () => {
    handle = connectDatabase(await isolatedDatabase(), { max: 2 });
    deps = { db: handle.db } as unknown as EmailDeps;
  });
  afterAll(async () => {
    await handle?.close();
  });

  const receive = (n: number) =>
    handle.db
      .insertInto("email_messages")
      .values(
        Array.from({ length: n }, () => ({
          direction: "inbound",
          source: "smtp",
          status: "received",
          raw_key: "0".repeat(64),
          size_bytes: 10,
        })),
      )
      .returning("id")
      .execute();

  it("holds a new message while the backlog is full and lets it in once processing catches up", async () => {
    const flow = new InFlowDelay(deps, 3);
    const t0 = Date.now();
    await flow.wait();
    expect(Date.now() - t0).toBeLessThan(1000);

    const rows = await receive(3);
    // Accepted elsewhere (another process): seen at the next read, at most 100 ms later.
    await new Promise((r) => setTimeout(r, 150));
    let released = false;
    const waiting = flow.wait().then(() => {
      released = true;
    });
    await new Promise((r) => setTimeout(r, 600));
    expect(released).toBe(false);

    await handle.db
      .updateTable("email_messages")
      .set({ status: "processed" })
      .where(
        "id",
        "in",
        rows.map((r) => r.id),
      )
      .execute();
    const t1 = Date.now();
    await waiting;
    expect(Date.now() - t1).toBeLessThan(1000);
  });

  it("lets mail in after its longest wait, and not at all when turned off", async () => {
    await receive(5);
    const t0 = Date.now();
    await new InFlowDelay(deps, 2, 400).wait();
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(350);
    expect(waited).toBeLessThan(2000);

    const t1 = Date.now();
    await new InFlowDelay(deps, 0).wait();
    expect(Date.now() - t1).toBeLessThan(50);
  });
});
