/**
 * `npm run bench:identity`: the server-side part of the Monday-morning call, on loopback. Each run:
 * code issued (start a verification, text a code through the Twilio-compatible stub) -> verified (the
 * code read back) -> reset confirmed by the directory (the real agent executable runs ldbmodify on the
 * domain controller's sam.ldb). Baseline, in the same run: the same ldbmodify (the same LDIF on stdin)
 * spawned directly on the same directory.
 *
 * The directory is a Samba AD DC provisioned for the run when Samba is installed and this runs as root
 * (see docs/ARCHITECTURE.md), else the fake (apps/server/src/domains/identity/fixtures/fake-ldb.mjs).
 *   BENCH_IDENTITY_RUNS (default 40), BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres;
 *   a database of its own is created there and dropped after).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { loadConfig } from "../../apps/server/src/config.ts";
import { newSecret, sha256 } from "../../apps/server/src/domains/auth/crypto.ts";
import { newPassphrase } from "../../apps/server/src/domains/identity/passphrase.ts";
import { sambaAvailable, startTestDirectory } from "../../apps/server/src/domains/identity/test-directory.ts";
import { binary, ensureBuilt, run } from "../../apps/server/src/gateway/agent-build.ts";
import { startServer } from "../../apps/server/src/server.ts";
import { startSmsStub } from "../../apps/server/test/sms-stub.ts";
import { summarize } from "../lib/stats.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const RUNS = Number(process.env.BENCH_IDENTITY_RUNS ?? 40);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const log = (msg: string) => console.log(`[bench:identity ${new Date().toISOString().slice(11, 19)}] ${msg}`);

const useSamba = await sambaAvailable();
log(`directory: ${useSamba ? "Samba AD DC (provisioned for this run)" : "fake-ldb (no Samba here)"}`);
await ensureBuilt();
const directory = await startTestDirectory(useSamba);
const sms = await startSmsStub();

const dbName = `sb_bench_identity_${randomBytes(4).toString("hex")}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`create database ${dbName}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${dbName}`;
const dataDir = await mkdtemp(path.join(os.tmpdir(), "sb-bench-identity-"));
const server = await startServer(
  loadConfig({
    DATABASE_URL: url.toString(),
    PORT: "0",
    HOST: "127.0.0.1",
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_ROLES: "api,worker,gateway",
    LOG_LEVEL: "silent",
    ...sms.env,
  }),
);
const base = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}/api/v1`;
const db = server.deps.db;
let agent: ChildProcess | null = null;

try {
  const user = await db
    .insertInto("users")
    .values({
      email: "bench@msp.example",
      name: "Bench Tech",
      role: "admin",
      password_hash: null,
      all_clients: true,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  const token = newSecret("sb_");
  await db
    .insertInto("api_tokens")
    .values({ user_id: user.id, name: "bench", token_hash: sha256(token), prefix: token.slice(0, 10) })
    .execute();
  const call = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p} -> ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const client = await db
    .insertInto("clients")
    .values({ name: "Bench Dental" })
    .returning("id")
    .executeTakeFirstOrThrow();
  await directory.addUser("dbench", "dana@bench.example", "Initial-Passw0rd-1");

  const enrollment = await call<{ token: string }>("POST", "/enrollment-tokens", {
    clientId: client.id,
    maxUses: 1,
  });
  const stateDir = await mkdtemp(path.join(os.tmpdir(), "sb-bench-dc-"));
  const enrolled = await run(binary, [
    "enroll",
    "--server",
    base.replace(/\/api\/v1$/, ""),
    "--token",
    enrollment.token,
    "--state-dir",
    stateDir,
  ]);
  if (enrolled.code !== 0) throw new Error(enrolled.stderr);
  const deviceId = enrolled.stdout.match(/enrolled as device (\S+)/)?.[1] ?? "";
  agent = spawn(binary, ["run", "--state-dir", stateDir], {
    env: { ...process.env, ...directory.agentEnv },
    stdio: "ignore",
  });
  for (let i = 0; i < 600; i++) {
    if ((await call<{ status: string }>("GET", `/devices/${deviceId}`)).status === "online") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await call("PUT", `/clients/${client.id}/identity-policy`, {
    methods: ["sms", "email"],
    factors: 1,
    privilegedFactors: 2,
    managerSatisfiesPrivileged: true,
    validityMinutes: 10,
    directoryDeviceId: deviceId,
    directoryKind: "samba",
    version: 1,
  });
  // One contact per run (the same account): a contact gets at most 12 codes an hour, by design.
  const PHONE = "+15172013344";
  const contacts: string[] = [];
  for (let i = 0; i < RUNS + 3; i++) {
    const c = await db
      .insertInto("contacts")
      .values({
        client_id: client.id,
        first_name: "Dana",
        last_name: `Bench ${i}`,
        emails: [`dana${i}@bench.example`],
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await call("PUT", `/contacts/${c.id}/identity`, {
      smsNumber: PHONE,
      email: `dana${i}@bench.example`,
      approver: false,
      adminAccount: false,
      directoryAccount: "dbench",
      version: 0,
    });
    contacts.push(c.id);
  }

  const issued: number[] = [];
  const verified: number[] = [];
  const reset: number[] = [];
  const total: number[] = [];
  log(`${RUNS} runs of issue -> verify -> reset (after 3 warm-up runs)`);
  for (let i = 0; i < RUNS + 3; i++) {
    const contactId = contacts[i]!;
    const t0 = performance.now();
    const v = await call<{ id: string }>("POST", "/identity/verifications", { contactId });
    const before = sms.messages.length;
    const sent = await call<{ verification: { challenges: Array<{ id: string }> } }>(
      "POST",
      `/identity/verifications/${v.id}/challenges`,
      { method: "sms" },
    );
    const code = /code is (\d{6})/.exec(sms.messages.slice(before).at(-1)?.body ?? "")?.[1];
    const t1 = performance.now();
    const checked = await call<{ status: string }>("POST", `/identity/verifications/${v.id}/check`, {
      challengeId: sent.verification.challenges[0]!.id,
      code,
    });
    if (checked.status !== "verified") throw new Error(`not verified: ${checked.status}`);
    const t2 = performance.now();
    const r = await call<{ action: { status: string; error: string | null } }>(
      "POST",
      "/identity/directory-actions",
      {
        contactId,
        verificationId: v.id,
        action: "reset_password",
        mustChange: false,
        unlock: false,
      },
    );
    if (r.action.status !== "succeeded") throw new Error(`reset ${r.action.status}: ${r.action.error}`);
    const t3 = performance.now();
    if (i < 3) continue;
    issued.push(t1 - t0);
    verified.push(t2 - t1);
    reset.push(t3 - t2);
    total.push(t3 - t0);
  }

  // Baseline: the same modify the agent makes (find the DN, then the LDIF on stdin), spawned directly.
  const env = { ...process.env, ...directory.agentEnv };
  const sam = directory.agentEnv.SWITCHBOARD_AGENT_SAM_LDB!;
  const exec = (file: string, args: string[], input?: string) =>
    new Promise<string>((resolve, reject) => {
      const child = execFile(file, args, { env }, (err, stdout, stderr) =>
        err ? reject(new Error(stderr)) : resolve(stdout),
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  const direct: number[] = [];
  for (let i = 0; i < RUNS + 3; i++) {
    const t0 = performance.now();
    const found = await exec("ldbsearch", [
      "-H",
      sam,
      "(&(objectClass=user)(|(sAMAccountName=dbench)(userPrincipalName=dbench)))",
      "sAMAccountName",
    ]);
    const dn = /^dn: (.*)$/m.exec(found)?.[1] ?? "";
    const pwd = Buffer.from(`"${newPassphrase()}"`, "utf16le").toString("base64");
    await exec(
      "ldbmodify",
      ["-H", sam],
      `dn:: ${Buffer.from(dn).toString("base64")}\nchangetype: modify\nreplace: unicodePwd\nunicodePwd:: ${pwd}\n-\n`,
    );
    if (i >= 3) direct.push(performance.now() - t0);
  }

  const result = {
    benchmark: "identity",
    at: new Date().toISOString(),
    directory: useSamba ? "samba-ad" : "fake-ldb",
    runs: RUNS,
    machine: { cpus: os.cpus().length, node: process.version },
    flow: {
      codeIssued: summarize(issued),
      verified: summarize(verified),
      resetConfirmed: summarize(reset),
      total: summarize(total),
    },
    baseline: { directLdbModify: summarize(direct) },
    ratios: {
      totalP95OverDirectP95: Math.round((summarize(total).p95 / summarize(direct).p95) * 100) / 100,
      resetP95OverDirectP95: Math.round((summarize(reset).p95 / summarize(direct).p95) * 100) / 100,
    },
  };
  await mkdir(path.join(ROOT, "bench", "results"), { recursive: true });
  await writeFile(
    path.join(ROOT, "bench", "results", "identity.json"),
    `${JSON.stringify(result, null, 2)}\n`,
  );
  console.log(JSON.stringify(result, null, 2));
} finally {
  agent?.kill("SIGKILL");
  await server.stop();
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.end();
  await sms.close();
  await directory.close();
  await rm(dataDir, { recursive: true, force: true });
}
