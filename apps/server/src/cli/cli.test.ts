import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, isolatedDatabase, type TestApp } from "../../test/helpers.ts";
import { ConfigSchema } from "../config.ts";

const CLI = path.join(import.meta.dirname, "..", "cli.ts");
const ROOT = path.join(import.meta.dirname, "..", "..", "..", "..");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe("switchboard CLI", () => {
  let url: string;
  let dataDir: string;
  let t: TestApp;

  beforeAll(async () => {
    url = await isolatedDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-cli-"));
    t = await createTestApp({}, url);
  });
  afterAll(async () => {
    await t?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  function run(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<Run> {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    Object.assign(
      env,
      { DATABASE_URL: url, SWITCHBOARD_DATA_DIR: dataDir, LOG_LEVEL: "silent", PORT: "1" },
      opts.env,
    );
    return new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        [CLI, ...args],
        { env, timeout: 60_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      child.stdin?.end(opts.input ?? "");
    });
  }

  async function login(email: string, password: string) {
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: { email, password },
    });
    return res.statusCode;
  }

  it("stops on a bad setting with one line that names the variable", async () => {
    const r = await run(["status"], { env: { PORT: "eighty" } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^switchboard: invalid configuration: PORT: /);
  });

  it("create-admin does the first-run setup, then adds admins, and refuses a taken email", async () => {
    const first = await run(
      [
        "create-admin",
        "--email",
        "Owner@Example.test",
        "--name",
        "Owner",
        "--msp-name",
        "Acme IT",
        "--password-stdin",
      ],
      { input: "first-password-123\n" },
    );
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/first admin of Acme IT/);
    expect(await login("owner@example.test", "first-password-123")).toBe(200);

    const second = await run(
      ["create-admin", "--email", "second@example.test", "--name", "Second", "--password-stdin"],
      {
        input: "second-password-123",
      },
    );
    expect(second.code, second.stderr).toBe(0);
    const row = await t.db
      .selectFrom("users")
      .select("role")
      .where("email", "=", "second@example.test")
      .executeTakeFirst();
    expect(row?.role).toBe("admin");

    const again = await run(
      ["create-admin", "--email", "second@example.test", "--name", "X", "--password-stdin"],
      {
        input: "another-password-1",
      },
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  });

  it("refuses a short password and asks for flags when there is no terminal", async () => {
    const short = await run(
      ["create-admin", "--email", "x@example.test", "--name", "X", "--password-stdin"],
      {
        input: "short",
      },
    );
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/at least 12 characters/);
    const noEmail = await run(["create-admin"]);
    expect(noEmail.code).toBe(2);
    expect(noEmail.stderr).toMatch(/--email is required/);
  });

  it("reset-password changes the password and ends the user's sessions", async () => {
    const owner = await t.db
      .selectFrom("users")
      .select("id")
      .where("email", "=", "owner@example.test")
      .executeTakeFirstOrThrow();
    await t.db.deleteFrom("sessions").where("user_id", "=", owner.id).execute();
    expect(await login("owner@example.test", "first-password-123")).toBe(200);
    const r = await run(["reset-password", "--email", "owner@example.test", "--password-stdin"], {
      input: "brand-new-password-9\n",
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 session\(s\) signed out/);
    const left = await t.db
      .selectFrom("sessions")
      .select("token_hash")
      .where("user_id", "=", owner.id)
      .execute();
    expect(left).toEqual([]);
    expect(await login("owner@example.test", "first-password-123")).toBe(401);
    expect(await login("owner@example.test", "brand-new-password-9")).toBe(200);
    const unknown = await run(["reset-password", "--email", "nobody@example.test", "--password-stdin"], {
      input: "whatever-password-1",
    });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no user with email nobody@example.test/);
  });

  it("token create prints a working token once, alone on stdout", async () => {
    const r = await run(["token", "create", "--email", "second@example.test", "--name", "monitoring"]);
    expect(r.code, r.stderr).toBe(0);
    const token = r.stdout.trim();
    expect(token).toMatch(/^sb_\S+$/);
    const me = await t.app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ email: "second@example.test" });
    const stored = await t.db
      .selectFrom("api_tokens")
      .select("token_hash")
      .where("name", "=", "monitoring")
      .execute();
    expect(stored.map((s) => s.token_hash)).not.toContain(token);
  });

  it("status reports the database, migrations and counts, and fails when the database is unreachable", async () => {
    const ok = await run(["status", "--json"]);
    expect(ok.code, ok.stderr).toBe(0);
    const body = JSON.parse(ok.stdout);
    expect(body.ok).toBe(true);
    expect(body.checks.find((c: { name: string }) => c.name === "migrations").ok).toBe(true);
    expect(body.counts.technicians).toBe(2);

    const down = await run(["status"], { env: { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" } });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/FAIL\s+database\s+cannot reach the database \(DATABASE_URL\)/);
  });

  it("config shows where settings come from and hides secrets", async () => {
    const r = await run(["config"], {
      env: {
        DATABASE_URL: "postgres://app:hunter2-secret@db.example.test:5432/sb",
        SWITCHBOARD_ADMIN_EMAIL: "boss@example.test",
        SWITCHBOARD_ADMIN_PASSWORD: "very-secret-password",
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^DATABASE_URL\s+env\s+postgres:\/\/app:\*\*\*\*@db\.example\.test:5432\/sb$/m);
    expect(r.stdout).toMatch(/^SESSION_TTL_HOURS\s+default\s+12$/m);
    expect(r.stdout).not.toContain("hunter2");
    expect(r.stdout).not.toContain("very-secret-password");
  });

  it("the README documents every configuration variable", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const missing = Object.keys(ConfigSchema.shape).filter((k) => !readme.includes(`| \`${k}\` |`));
    expect(missing).toEqual([]);
  });
});
