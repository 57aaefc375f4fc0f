import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  isolatedDatabase,
  makeClient,
  makeUser,
  type TestApp,
  type TestUser,
} from "../../../test/helpers.ts";
import { base32Decode, totpCode } from "../../lib/totp.ts";
import { hashPassword } from "../auth/crypto.ts";

let t: TestApp;
let tech: TestUser;
let admin: TestUser;
const PASSWORD = "my own long password";
const SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

beforeAll(async () => {
  t = await createTestApp();
  tech = await makeUser(t);
  admin = await makeUser(t, { role: "admin" });
  const hash = await hashPassword(PASSWORD);
  await t.db
    .updateTable("users")
    .set({ password_hash: hash })
    .where("id", "in", [tech.id, admin.id])
    .execute();
});
afterAll(() => t.close());

const call = (u: TestUser, method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: object) =>
  t.app.inject({ method, url: `/api/v1${url}`, headers: u.auth, payload });

async function ticketFor(clientId: string) {
  return (await call(tech, "POST", "/tickets", { subject: "Router login", clientId })).json();
}

async function entry(u: TestUser, body: object) {
  const res = await call(u, "POST", "/vault/entries", body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

describe("password vault", () => {
  it("reveals a secret only after a step-up and for a ticket of the entry's client, and audits it", async () => {
    const client = await makeClient(t);
    const other = await makeClient(t);
    const e = await entry(tech, {
      clientId: client.id,
      title: "Firewall admin",
      username: "admin",
      password: "Fw!pa55-lakeshore",
      totp: `otpauth://totp/fw:admin?secret=${SEED}&issuer=fw`,
      notes: "Console port 9443",
    });
    expect(e).toMatchObject({ hasPassword: true, hasTotp: true, hasNotes: true });
    const listed = await call(tech, "GET", `/vault/entries?clientId=${client.id}`);
    expect(listed.body).not.toContain("Fw!pa55");
    const ticket = await ticketFor(client.id);
    const reveal = (body: object, u = tech) => call(u, "POST", `/vault/entries/${e.id}/reveal`, body);

    const early = await reveal({ field: "password", ticketId: ticket.id });
    expect(early.statusCode).toBe(403);
    expect(early.json().error.details).toEqual({ stepUpRequired: true });
    expect((await call(tech, "POST", "/vault/step-up", { password: "wrong password!" })).statusCode).toBe(
      401,
    );
    expect((await call(tech, "POST", "/vault/step-up", { password: PASSWORD })).statusCode).toBe(200);

    const otherTicket = await ticketFor(other.id);
    expect((await reveal({ field: "password", ticketId: otherTicket.id })).statusCode).toBe(400);
    const shown = await reveal({ field: "password", ticketId: ticket.id });
    expect(shown.statusCode, shown.body).toBe(200);
    expect(shown.json().value).toBe("Fw!pa55-lakeshore");
    const code = (await reveal({ field: "totp", ticketId: ticket.id, purpose: "copy" })).json();
    const seed = { secret: base32Decode(SEED)!, digits: 6, period: 30, algorithm: "sha1" as const };
    expect([totpCode(seed), totpCode(seed, Date.now() - 30_000)]).toContain(code.value);
    expect(code.value).toMatch(/^\d{6}$/);
    expect(code.secondsLeft).toBeGreaterThan(0);

    const audit = await t.db
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", e.id)
      .orderBy("id")
      .execute();
    expect(audit.map((a) => a.action)).toEqual(["vault.create", "vault.reveal", "vault.copy"]);
    expect(audit[1]).toMatchObject({
      actor_user_id: tech.id,
      after: expect.objectContaining({ field: "password", ticketId: ticket.id }),
    });
    expect(JSON.stringify(audit)).not.toContain("Fw!pa55");
    expect(JSON.stringify(audit)).not.toContain(SEED);
    const history = (await call(tech, "GET", `/tickets/${ticket.id}/timeline`)).json();
    expect(
      history.items.filter((i: { event: { type?: string } | null }) => i.event?.type === "vault_access"),
    ).toHaveLength(2);
  });

  it("a technician limited to other clients gets 404 for an entry; read-only users cannot reveal; restricted entries are for admins", async () => {
    const client = await makeClient(t);
    const other = await makeClient(t);
    const e = await entry(tech, { clientId: client.id, title: "NAS", password: "nas-secret-1" });
    const locked = await entry(admin, {
      clientId: client.id,
      title: "Domain admin",
      password: "da-secret-2",
      restricted: true,
    });
    const msp = await entry(admin, { clientId: null, title: "Our M365 tenant", password: "msp-secret-3" });
    const limited = await makeUser(t, { clientIds: [other.id] });
    for (const id of [e.id, msp.id]) {
      expect((await call(limited, "GET", `/vault/entries/${id}`)).statusCode).toBe(404);
      expect(
        (await call(limited, "PATCH", `/vault/entries/${id}`, { version: 1, title: "x" })).statusCode,
      ).toBe(404);
    }
    const list = (await call(limited, "GET", "/vault/entries")).json();
    expect(list.map((x: { id: string }) => x.id)).not.toEqual(expect.arrayContaining([e.id]));
    const readonly = await makeUser(t, { role: "readonly" });
    const ticket = await ticketFor(client.id);
    expect(
      (
        await call(readonly, "POST", `/vault/entries/${e.id}/reveal`, {
          field: "password",
          ticketId: ticket.id,
        })
      ).statusCode,
    ).toBe(403);
    await call(tech, "POST", "/vault/step-up", { password: PASSWORD });
    expect(
      (
        await call(tech, "POST", `/vault/entries/${locked.id}/reveal`, {
          field: "password",
          ticketId: ticket.id,
        })
      ).statusCode,
    ).toBe(403);
    await call(admin, "POST", "/vault/step-up", { password: PASSWORD });
    const ok = await call(admin, "POST", `/vault/entries/${locked.id}/reveal`, {
      field: "password",
      ticketId: ticket.id,
    });
    expect(ok.json().value).toBe("da-secret-2");
    // The MSP's own entry, for any ticket its reader sees.
    const mine = await call(admin, "POST", `/vault/entries/${msp.id}/reveal`, {
      field: "password",
      ticketId: ticket.id,
    });
    expect(mine.json().value).toBe("msp-secret-3");
  });

  it("rotates keys without losing a secret, and a database dump holds no plaintext secret", async () => {
    const client = await makeClient(t);
    const secrets = ["Correct-Horse-9931", "zx-spectrum-48k-pw", "Notes: rack B, badge 4471"];
    const e = await entry(tech, {
      clientId: client.id,
      title: "Switch",
      password: secrets[0],
      notes: secrets[2],
      totp: SEED,
    });
    const e2 = await entry(tech, { clientId: client.id, title: "Wi-Fi controller", password: secrets[1] });
    const before = await t.db
      .selectFrom("vault_entries")
      .select(["id", "data_key_id"])
      .where("id", "in", [e.id, e2.id])
      .execute();
    const rotated = await call(admin, "POST", "/vault/rotate", { dataKeys: true });
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect(rotated.json().resealed).toBeGreaterThanOrEqual(2);
    const after = await t.db
      .selectFrom("vault_entries")
      .select(["id", "data_key_id"])
      .where("id", "in", [e.id, e2.id])
      .execute();
    expect(after[0]!.data_key_id).not.toBe(before.find((b) => b.id === after[0]!.id)!.data_key_id);
    await call(tech, "POST", "/vault/step-up", { password: PASSWORD });
    const ticket = await ticketFor(client.id);
    const got = await call(tech, "POST", `/vault/entries/${e2.id}/reveal`, {
      field: "password",
      ticketId: ticket.id,
    });
    expect(got.json().value).toBe(secrets[1]);

    const dump = await dumpTables(t.url, [
      "vault_entries",
      "vault_data_keys",
      "audit_log",
      "timeline_entries",
    ]);
    expect(dump).toContain(e.id);
    for (const s of [...secrets, SEED, "Fw!pa55-lakeshore"]) expect(dump).not.toContain(s);
  });
});

describe("key-encryption key rotation", () => {
  it("opens entries with the previous KEK while it is configured, re-wraps them, then needs only the new one", async () => {
    const url = await isolatedDatabase();
    const kekA = randomBytes(32).toString("base64");
    const kekB = randomBytes(32).toString("base64");
    const hash = await hashPassword(PASSWORD);
    const run = async (env: Record<string, string>, fn: (a: TestApp, u: TestUser) => Promise<void>) => {
      const a = await createTestApp(env, url);
      try {
        const u = await makeUser(a, { role: "admin" });
        await a.db.updateTable("users").set({ password_hash: hash }).where("id", "=", u.id).execute();
        await a.app.inject({
          method: "POST",
          url: "/api/v1/vault/step-up",
          headers: u.auth,
          payload: { password: PASSWORD },
        });
        await fn(a, u);
      } finally {
        await a.close();
      }
    };
    let entryId = "";
    let ticketId = "";
    await run({ SWITCHBOARD_VAULT_KEK: kekA }, async (a, u) => {
      const client = await makeClient(a);
      ticketId = (
        await a.app.inject({
          method: "POST",
          url: "/api/v1/tickets",
          headers: u.auth,
          payload: { subject: "x", clientId: client.id },
        })
      ).json().id;
      const e = await a.app.inject({
        method: "POST",
        url: "/api/v1/vault/entries",
        headers: u.auth,
        payload: { clientId: client.id, title: "Printer", password: "pr1nt-me" },
      });
      entryId = e.json().id;
    });
    const reveal = (a: TestApp, u: TestUser) =>
      a.app.inject({
        method: "POST",
        url: `/api/v1/vault/entries/${entryId}/reveal`,
        headers: u.auth,
        payload: { field: "password", ticketId },
      });
    await run({ SWITCHBOARD_VAULT_KEK: kekB }, async (a, u) => {
      expect(
        (await a.app.inject({ method: "POST", url: "/api/v1/vault/rotate", headers: u.auth, payload: {} }))
          .statusCode,
      ).toBe(409);
    });
    await run({ SWITCHBOARD_VAULT_KEK: kekB, SWITCHBOARD_VAULT_PREVIOUS_KEKS: kekA }, async (a, u) => {
      expect((await reveal(a, u)).json().value).toBe("pr1nt-me");
      const r = await a.app.inject({
        method: "POST",
        url: "/api/v1/vault/rotate",
        headers: u.auth,
        payload: {},
      });
      expect(r.json()).toMatchObject({ rewrapped: 1, resealed: 0 });
    });
    await run({ SWITCHBOARD_VAULT_KEK: kekB }, async (a, u) => {
      expect((await reveal(a, u)).json().value).toBe("pr1nt-me");
    });
  }, 120_000);
});

/**
 * The tables as pg_dump writes them. pg_dump refuses a server newer than itself (the embedded
 * PostgreSQL may be): then the same rows are read with COPY ... TO STDOUT's text form through SQL.
 */
async function dumpTables(url: string, tables: string[]) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const server = Number((await client.query("show server_version_num")).rows[0].server_version_num) / 10000;
    const tool = await promisify(execFile)("pg_dump", ["--version"]).catch(() => null);
    const toolMajor = Number(/(\d+)\./.exec(tool?.stdout ?? "")?.[1] ?? 0);
    if (toolMajor >= Math.floor(server)) {
      const args = ["--data-only", ...tables.flatMap((tb) => ["-t", tb]), url];
      return (await promisify(execFile)("pg_dump", args, { maxBuffer: 512 * 1024 * 1024 })).stdout;
    }
    const out: string[] = [];
    for (const tb of tables) {
      const { rows } = await client.query(`select t::text as line from ${tb} t`);
      out.push(...rows.map((r) => r.line as string));
    }
    return out.join("\n");
  } finally {
    await client.end();
  }
}
