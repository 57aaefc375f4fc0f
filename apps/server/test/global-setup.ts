import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { connectDatabase } from "../src/db/database.ts";
import { startEmbeddedPostgres } from "../src/db/embedded.ts";
import { migrateToLatest } from "../src/db/migrate.ts";
import { freePort } from "./net.ts";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    /** A database on the same server from which tests may CREATE DATABASE (see isolatedDatabase). */
    adminUrl: string;
  }
}

/**
 * A throwaway database for the whole run: a fresh database on TEST_DATABASE_URL's server, or an embedded
 * PostgreSQL in a temp directory. Migrated once here; dropped at the end.
 */
export default async function setup(project: TestProject) {
  let url: string;
  let adminUrl: string;
  let teardown: () => Promise<void>;
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    const name = `sb_test_${randomBytes(6).toString("hex")}`;
    const admin = new pg.Client({ connectionString: external });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(external);
    u.pathname = `/${name}`;
    url = u.toString();
    adminUrl = external;
    teardown = async () => {
      const c = new pg.Client({ connectionString: external });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      // Databases made by isolatedDatabase() in this run.
      const { rows } = await c.query("select datname from pg_database where datname like $1", [`${name}_%`]);
      for (const r of rows) await c.query(`drop database if exists ${r.datname} with (force)`);
      // Their row-level-security roles (db/roles.ts): role names are cluster-wide.
      const roles = await c.query("select rolname from pg_roles where rolname like $1", [`${name}_%`]);
      for (const r of roles.rows) await c.query(`drop role if exists ${r.rolname}`);
      await c.end();
    };
  } else {
    const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-test-"));
    // As root the cluster runs as the `postgres` OS user, which must be able to reach its directory.
    await chmod(dir, 0o755);
    const server = await startEmbeddedPostgres({ dir: path.join(dir, "pg"), port: await freePort() });
    url = server.url;
    adminUrl = server.url;
    teardown = async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }
  const handle = connectDatabase(url, { max: 2 });
  try {
    await migrateToLatest(handle.db);
  } finally {
    await handle.close();
  }
  project.provide("databaseUrl", url);
  project.provide("adminUrl", adminUrl);
  return teardown;
}
