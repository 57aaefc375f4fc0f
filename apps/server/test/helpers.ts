import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { inject } from "vitest";
import { type AppDeps, buildApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { connectDatabase } from "../src/db/database.ts";
import { migrateToLatest } from "../src/db/migrate.ts";
import { provisionAppRole } from "../src/db/roles.ts";
import type { UserRole } from "../src/db/schema.ts";
import { newSecret, sha256 } from "../src/domains/auth/crypto.ts";
import { normalizeContactPhones } from "../src/domains/clients/contacts-service.ts";
import { LiveHub } from "../src/domains/events/live.ts";
import { LocalBlobStore } from "../src/lib/blob-store.ts";

export type TestApp = Awaited<ReturnType<typeof createTestApp>>;

/**
 * A new, migrated database of its own, for tests that need an empty one (first-run setup). Named after
 * the run's database so the global teardown drops it too.
 */
export async function isolatedDatabase(): Promise<string> {
  const base = new URL(inject("databaseUrl"));
  const name = `${base.pathname.slice(1)}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: inject("adminUrl") });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  base.pathname = `/${name}`;
  const handle = connectDatabase(base.toString(), { max: 1 });
  try {
    await migrateToLatest(handle.db);
  } finally {
    await handle.close();
  }
  return base.toString();
}

/** A real app on the run's throwaway database (or `databaseUrl`). Call `close()` in afterAll. */
export async function createTestApp(env: Record<string, string> = {}, databaseUrl?: string) {
  const url = databaseUrl ?? inject("databaseUrl");
  const handle = await connectAppDatabase(url, { max: 5 });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-app-"));
  const config = loadConfig({ SWITCHBOARD_DATA_DIR: dataDir, LOG_LEVEL: "silent", ...env });
  const live = new LiveHub(handle.db, url);
  await live.start();
  const deps: AppDeps = {
    db: handle.db,
    config,
    live,
    blobs: new LocalBlobStore(path.join(dataDir, "blobs")),
    boss: null,
    logger: false,
  };
  const app = await buildApp(deps);
  await app.ready();
  return {
    app,
    db: handle.db,
    deps,
    url,
    appUrl: handle.appUrl,
    scopeRoles: handle.roles,
    async close() {
      await app.close();
      await live.close();
      await handle.close();
    },
  };
}

/**
 * Connects to a migrated test database the way the server does: as the login role that row-level
 * security applies to, every statement under the current scope (system outside `runInScope`).
 */
export async function connectAppDatabase(url: string, opts: { max?: number } = {}) {
  const owner = connectDatabase(url, { max: 1 });
  try {
    const role = await provisionAppRole(owner.db, url);
    return {
      ...connectDatabase(role.url, { max: opts.max ?? 5, scopeRoles: role.roles }),
      ownerUrl: url,
      /** How the server itself logs in (the role row-level security applies to). */
      appUrl: role.url,
      roles: role.roles,
    };
  } finally {
    await owner.close();
  }
}

export const rand = (prefix = "") => `${prefix}${randomBytes(4).toString("hex")}`;

export interface TestUser {
  id: string;
  email: string;
  name: string;
  token: string;
  /** Headers that authenticate as this user. */
  auth: { authorization: string };
}

/** A user with an API token; `clientIds` limits them to those clients. */
export async function makeUser(
  t: Pick<TestApp, "db">,
  opts: { role?: UserRole; clientIds?: string[]; teamIds?: string[]; name?: string } = {},
): Promise<TestUser> {
  const email = `${rand("tech-")}@example.test`;
  const name = opts.name ?? `Tech ${rand()}`;
  const user = await t.db
    .insertInto("users")
    .values({
      email,
      name,
      role: opts.role ?? "technician",
      password_hash: null,
      all_clients: opts.clientIds === undefined,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  if (opts.clientIds?.length) {
    await t.db
      .insertInto("user_clients")
      .values(opts.clientIds.map((client_id) => ({ user_id: user.id, client_id })))
      .execute();
  }
  if (opts.teamIds?.length) {
    await t.db
      .insertInto("team_members")
      .values(opts.teamIds.map((team_id) => ({ user_id: user.id, team_id })))
      .execute();
  }
  const token = newSecret("sb_");
  await t.db
    .insertInto("api_tokens")
    .values({ user_id: user.id, name: "test", token_hash: sha256(token), prefix: token.slice(0, 10) })
    .execute();
  return { id: user.id, email, name, token, auth: { authorization: `Bearer ${token}` } };
}

export async function makeClient(t: Pick<TestApp, "db">, name = rand("Client ")) {
  return t.db
    .insertInto("clients")
    .values({ name, email_domains: [`${rand("d")}.example`] })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function makeTeam(t: Pick<TestApp, "db">, name = rand("Team ")) {
  return t.db.insertInto("teams").values({ name }).returningAll().executeTakeFirstOrThrow();
}

export async function makeContact(
  t: Pick<TestApp, "db">,
  clientId: string,
  opts: { firstName?: string; lastName?: string; email?: string; phone?: string; vip?: boolean } = {},
) {
  const phones = opts.phone ? [{ label: "work", number: opts.phone }] : [];
  return t.db
    .insertInto("contacts")
    .values({
      client_id: clientId,
      first_name: opts.firstName ?? rand("First"),
      last_name: opts.lastName ?? rand("Last"),
      emails: [opts.email ?? `${rand("c")}@example.test`],
      ...normalizeContactPhones(phones),
      vip: opts.vip ?? false,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export const uuid = () => randomUUID();
