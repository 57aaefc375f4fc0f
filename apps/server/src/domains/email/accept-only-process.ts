// A process that only accepts mail (SMTP listener, no workers): the crash test starts it, sends one
// message, and kills it with SIGKILL after the 250, then checks that a fresh worker still makes the ticket.
import path from "node:path";
import { PgBoss } from "pg-boss";
import { loadConfig } from "../../config.ts";
import { connectDatabase } from "../../db/database.ts";
import { LocalBlobStore } from "../../lib/blob-store.ts";
import { createEmailQueues } from "./jobs.ts";
import { startSmtpListener } from "./smtp-listener.ts";

const config = loadConfig();
const url = config.DATABASE_URL ?? "";
const handle = connectDatabase(url, { max: 2 });
// The test passes the pg-boss schema its workers listen on.
const boss = new PgBoss({
  connectionString: url,
  schema: process.env.EMAIL_TEST_BOSS_SCHEMA ?? "pgboss",
  max: 2,
  supervise: false,
  schedule: false,
});
boss.on("error", () => {});
await boss.start();
const deps = { db: handle.db, boss, config, blobs: new LocalBlobStore(path.join(config.dataDir, "blobs")) };
await createEmailQueues(deps);
const listener = await startSmtpListener(deps, { port: 0, host: "127.0.0.1" });
process.stdout.write(`listening ${listener.port}\n`);
