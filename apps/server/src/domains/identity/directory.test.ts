import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeContact, makeUser, rand, type TestUser } from "../../../test/helpers.ts";
import { startSmsStub } from "../../../test/sms-stub.ts";
import { binary, canRun, ensureBuilt, run } from "../../gateway/agent-build.ts";
import { enrollmentSetup, type GatewayApp, startGatewayApp, waitFor } from "../../gateway/test-support.ts";
import { asContact, makePortalContact } from "../portal/test-support.ts";
import { sambaAvailable, startTestDirectory, type TestDirectory } from "./test-directory.ts";

const useSamba = process.env.SWITCHBOARD_TEST_DIRECTORY !== "fake" && (await sambaAvailable());
if (!useSamba) console.warn("Samba AD is not available here: the reset tests run against fake-ldb.mjs");

// biome-ignore lint/suspicious/noExplicitAny: replies are read loosely, the assertions say what matters
type Json = Record<string, any>;

// The real agent executable on this machine is the client's domain controller: it runs ldbsearch and
// ldbmodify against a Samba AD DC provisioned for the test (or the fake), and a recording PowerShell host.
describe.skipIf(!canRun)(
  `directory resets through the agent (${useSamba ? "Samba AD" : "fake directory"})`,
  () => {
    let t: GatewayApp;
    let sms: Awaited<ReturnType<typeof startSmsStub>>;
    let directory: TestDirectory;
    let proc: ChildProcess | null = null;
    let deviceId: string;
    let clientId: string;
    let admin: TestUser;
    let tech: TestUser;
    let policyVersion = 1;
    const agentLog: string[] = [];

    beforeAll(async () => {
      await ensureBuilt();
      directory = await startTestDirectory(useSamba);
      sms = await startSmsStub();
      t = await startGatewayApp({ AGENT_HEARTBEAT_SECONDS: "10", ...sms.env });
      const setup = await enrollmentSetup(t);
      clientId = setup.client.id;
      admin = setup.admin;
      tech = await makeUser(t, { clientIds: [clientId] });
      const stateDir = await mkdtemp(path.join(os.tmpdir(), "sb-identity-agent-"));
      const enrolled = await run(binary, [
        "enroll",
        "--server",
        t.url,
        "--token",
        setup.token.token,
        "--state-dir",
        stateDir,
      ]);
      if (enrolled.code !== 0) throw new Error(enrolled.stderr);
      deviceId = enrolled.stdout.match(/enrolled as device (\S+)/)?.[1] ?? "";
      proc = spawn(binary, ["run", "--state-dir", stateDir], {
        env: { ...process.env, ...directory.agentEnv, SWITCHBOARD_AGENT_LOG_LEVEL: "debug" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      proc.stdout?.on("data", (d: Buffer) => agentLog.push(d.toString()));
      proc.stderr?.on("data", (d: Buffer) => agentLog.push(d.toString()));
      await waitFor("the agent connected", async () => t.app.agents.hub.isLocal(deviceId), 60_000);
      await setDirectory("samba");
    }, 240_000);
    afterAll(async () => {
      proc?.kill("SIGKILL");
      await t?.close();
      await sms?.close();
      await directory?.close();
    });

    const call = async (who: TestUser, method: "GET" | "POST" | "PUT", url: string, payload?: unknown) => {
      const res = await t.app.inject({ method, url, headers: who.auth, payload: payload as never });
      return { status: res.statusCode, body: res.json() as Json };
    };

    async function setDirectory(kind: "samba" | "active_directory") {
      const res = await call(admin, "PUT", `/api/v1/clients/${clientId}/identity-policy`, {
        methods: ["sms", "email"],
        factors: 1,
        privilegedFactors: 2,
        managerSatisfiesPrivileged: true,
        validityMinutes: 10,
        directoryDeviceId: deviceId,
        directoryKind: kind,
        version: policyVersion,
      });
      expect(res.status).toBe(200);
      policyVersion = res.body.version;
    }

    /** A contact whose directory account exists with `password`, linked by a lookup through the agent. */
    async function person(password: string) {
      const sam = rand("u");
      const email = `${sam}@example.test`;
      await directory.addUser(sam, email, password);
      const phone = `+1517555${String(Math.floor(Math.random() * 10000)).padStart(4, "0")}`;
      const contact = await makeContact(t, clientId, { email, phone });
      const ticket = await call(tech, "POST", "/api/v1/tickets", {
        clientId,
        subject: "Locked out",
        contactId: contact.id,
      });
      return { sam, email, phone, contact, ticketId: ticket.body.id as string };
    }

    async function link(p: Awaited<ReturnType<typeof person>>) {
      const found = await call(tech, "POST", `/api/v1/contacts/${p.contact.id}/directory-lookup`);
      expect(found.status).toBe(200);
      expect(found.body).toMatchObject({ action: "discover", status: "succeeded" });
      const account = found.body.accounts.find((a: Json) => a.samAccountName === p.sam);
      expect(account).toBeDefined();
      const me = await call(tech, "GET", `/api/v1/contacts/${p.contact.id}/identity`);
      const put = await call(tech, "PUT", `/api/v1/contacts/${p.contact.id}/identity`, {
        smsNumber: p.phone,
        email: p.email,
        approver: false,
        adminAccount: false,
        directoryAccount: account.samAccountName,
        version: me.body.version,
      });
      expect(put.status).toBe(200);
    }

    async function verify(p: Awaited<ReturnType<typeof person>>) {
      const v = await call(tech, "POST", "/api/v1/identity/verifications", {
        contactId: p.contact.id,
        ticketId: p.ticketId,
      });
      const before = sms.messages.length;
      const sent = await call(tech, "POST", `/api/v1/identity/verifications/${v.body.id}/challenges`, {
        method: "sms",
      });
      const code = /code is (\d{6})/.exec(
        sms.messages.slice(before).find((m) => m.to === p.phone)?.body ?? "",
      )?.[1];
      const ok = await call(tech, "POST", `/api/v1/identity/verifications/${v.body.id}/check`, {
        challengeId: sent.body.verification.challenges[0].id,
        code,
      });
      expect(ok.body.status).toBe("verified");
      return v.body.id as string;
    }

    const reset = (
      p: { contact: { id: string }; ticketId: string },
      verificationId: string,
      extra: Json = {},
    ) =>
      call(tech, "POST", "/api/v1/identity/directory-actions", {
        contactId: p.contact.id,
        verificationId,
        ticketId: p.ticketId,
        action: "reset_password",
        ...extra,
      });

    async function nowhere(secret: string) {
      const hits = await sql<{ n: string }>`
      select (select count(*) from device_commands where payload like ${`%${secret}%`} or command::text like ${`%${secret}%`}
                or stdout like ${`%${secret}%`} or stderr like ${`%${secret}%`} or coalesce(error, '') like ${`%${secret}%`})
           + (select count(*) from audit_log where coalesce(after::text, '') like ${`%${secret}%`})
           + (select count(*) from domain_events where payload::text like ${`%${secret}%`})
           + (select count(*) from timeline_entries where body like ${`%${secret}%`} or coalesce(event::text, '') like ${`%${secret}%`})
           + (select count(*) from identity_actions where coalesce(error, '') like ${`%${secret}%`} or coalesce(result::text, '') like ${`%${secret}%`}) as n`.execute(
        t.db,
      );
      expect(Number(hits.rows[0]!.n)).toBe(0);
      expect(agentLog.join("")).not.toContain(secret);
      expect(JSON.stringify(t.logs)).not.toContain(secret);
    }

    it("resets the verified caller's password: the new one binds, the old one fails, and it is stored nowhere", async () => {
      const p = await person("Old-Passw0rd-1");
      await link(p);
      expect(await directory.bind(p.sam, "Old-Passw0rd-1")).toBe(true);
      const v = await verify(p);
      const res = await reset(p, v, { mustChange: false, unlock: false });
      expect(res.status).toBe(200);
      expect(res.body.action).toMatchObject({ status: "succeeded", account: p.sam, error: null });
      const password = res.body.password as string;
      expect(password).toMatch(/^([A-Z][a-z]+-){4}\d{2}$/);
      expect(await directory.bind(p.sam, password)).toBe(true);
      expect(await directory.bind(p.sam, "Old-Passw0rd-1")).toBe(false);
      await nowhere(password);

      // One audit record of the reset joins the caller's verification, the technician, the account and the system.
      const audit = await t.db
        .selectFrom("audit_log")
        .select("after")
        .where("action", "=", "identity.reset_password")
        .where("entity_id", "=", p.contact.id)
        .executeTakeFirstOrThrow();
      expect(audit.after).toMatchObject({
        account: p.sam,
        result: "succeeded",
        technician: tech.name,
        verification: { id: v, methods: ["sms"] },
      });
      const timeline = await call(tech, "GET", `/api/v1/tickets/${p.ticketId}/timeline`);
      expect((timeline.body.items as Json[]).some((e) => /Password reset for .* done on/.test(e.body))).toBe(
        true,
      );
    }, 60_000);

    it("forces a change at next logon and unlocks with the reset; unlock alone clears a lockout", async () => {
      const p = await person("Old-Passw0rd-2");
      await link(p);
      const v = await verify(p);
      await directory.lock(p.sam);
      expect((await directory.attrs(p.sam)).lockoutTime).not.toBe("0");
      const unlocked = await call(tech, "POST", "/api/v1/identity/directory-actions", {
        contactId: p.contact.id,
        verificationId: v,
        action: "unlock",
      });
      expect(unlocked.body.action.status).toBe("succeeded");
      expect(unlocked.body.password).toBeNull();
      expect((await directory.attrs(p.sam)).lockoutTime).toBe("0");
      await directory.lock(p.sam);
      const res = await reset(p, v);
      expect(res.body.action.status).toBe("succeeded");
      expect(await directory.attrs(p.sam)).toEqual({ pwdLastSet: "0", lockoutTime: "0" });
    }, 60_000);

    it("a password the directory refuses comes back with its reason, and nothing is recorded as done", async () => {
      const p = await person("Old-Passw0rd-3");
      await link(p);
      const v = await verify(p);
      const res = await reset(p, v, { password: "alllowercase", mustChange: false });
      expect(res.status).toBe(200);
      expect(res.body.password).toBeNull();
      expect(res.body.action.status).toBe("failed");
      expect(res.body.action.error).toMatch(/complexity/);
      expect(await directory.bind(p.sam, "Old-Passw0rd-3")).toBe(true);
      const audit = await t.db
        .selectFrom("audit_log")
        .select("after")
        .where("action", "=", "identity.reset_password")
        .where("entity_id", "=", p.contact.id)
        .executeTakeFirstOrThrow();
      expect(audit.after).toMatchObject({ result: "failed" });
      await nowhere("alllowercase");
      // Retry with a good typed password: done, and the typed password is not echoed back.
      const retry = await reset(p, v, { password: "Better-Passw0rd-3!", mustChange: false });
      expect(retry.body).toMatchObject({ password: null, action: { status: "succeeded" } });
      expect(await directory.bind(p.sam, "Better-Passw0rd-3!")).toBe(true);
    }, 60_000);

    it("the PowerShell path: the generated script runs on the host and the password only arrives on stdin", async () => {
      const p = await person("Old-Passw0rd-4");
      await link(p);
      const v = await verify(p);
      await setDirectory("active_directory");
      try {
        const res = await reset(p, v);
        expect(res.body.action.status).toBe("succeeded");
        const password = res.body.password as string;
        const recorded = JSON.parse(await readFile(directory.recordingFile, "utf8")).recorded as Json[];
        const last = recorded.at(-1)!;
        expect(last.args.slice(0, 4)).toEqual([
          "-NoProfile",
          "-NonInteractive",
          "-ExecutionPolicy",
          "Bypass",
        ]);
        expect(last.stdin).toBe(`${password}\n`);
        expect(last.script).not.toContain(password);
        expect(last.script).toContain(`$account = '${p.sam}'`);
        expect(last.script).toContain("Set-ADAccountPassword -Identity $user -Reset -NewPassword");
        expect(last.script).toContain("Set-ADUser -Identity $user -ChangePasswordAtLogon $true");
        expect(last.script).toContain("Unlock-ADAccount -Identity $user");
        await nowhere(password);
      } finally {
        await setDirectory("samba");
      }
    }, 60_000);

    it("self-service: a contact verifies in the portal and resets their own password; a resolved ticket records it", async () => {
      const pc = await makePortalContact(t, clientId);
      const sam = rand("s");
      await directory.addUser(sam, pc.email, "Old-Passw0rd-5");
      const phone = `+1517555${String(Math.floor(Math.random() * 10000)).padStart(4, "0")}`;
      const me = await call(tech, "GET", `/api/v1/contacts/${pc.id}/identity`);
      await call(tech, "PUT", `/api/v1/contacts/${pc.id}/identity`, {
        smsNumber: phone,
        email: pc.email,
        approver: false,
        adminAccount: false,
        directoryAccount: sam,
        version: me.body.version,
      });
      const offer = (await asContact(t, pc, "GET", "/api/v1/portal/identity")).json();
      expect(offer.selfService).toEqual({ account: sam, available: true, methods: ["sms", "email"] });
      const v = (await asContact(t, pc, "POST", "/api/v1/portal/identity/verifications")).json();
      // Without passing it, no reset.
      const early = await asContact(t, pc, "POST", "/api/v1/portal/identity/reset", {
        action: "reset_password",
        verificationId: v.id,
        password: "Mine-Passw0rd-55",
      });
      expect(early.statusCode).toBe(403);
      // A manager's approval needs a technician: not offered to the contact.
      const manager = await asContact(
        t,
        pc,
        "POST",
        `/api/v1/portal/identity/verifications/${v.id}/challenges`,
        {
          method: "manager",
        },
      );
      expect(manager.statusCode).toBe(400);
      const before = sms.messages.length;
      const sent = (
        await asContact(t, pc, "POST", `/api/v1/portal/identity/verifications/${v.id}/challenges`, {
          method: "sms",
        })
      ).json();
      const code = /code is (\d{6})/.exec(
        sms.messages.slice(before).find((m) => m.to === phone)?.body ?? "",
      )?.[1];
      const ok = await asContact(t, pc, "POST", `/api/v1/portal/identity/verifications/${v.id}/check`, {
        challengeId: sent.challenges[0].id,
        code,
      });
      expect(ok.json().status).toBe("verified");
      const weak = await asContact(t, pc, "POST", "/api/v1/portal/identity/reset", {
        action: "reset_password",
        verificationId: v.id,
        password: "password",
      });
      expect(weak.json()).toMatchObject({
        ticketNumber: null,
        action: { status: "failed", error: expect.stringMatching(/complexity/) },
      });
      const done = await asContact(t, pc, "POST", "/api/v1/portal/identity/reset", {
        action: "reset_password",
        verificationId: v.id,
        password: "Mine-Passw0rd-55",
      });
      expect(done.statusCode).toBe(200);
      expect(done.json().action.status).toBe("succeeded");
      expect(await directory.bind(sam, "Mine-Passw0rd-55")).toBe(true);
      expect(await directory.bind(sam, "Old-Passw0rd-5")).toBe(false);
      const ticket = await t.db
        .selectFrom("tickets")
        .select(["status_category", "contact_id", "source", "subject"])
        .where("number", "=", done.json().ticketNumber)
        .executeTakeFirstOrThrow();
      expect(ticket).toMatchObject({
        status_category: "resolved",
        contact_id: pc.id,
        source: "portal",
        subject: "Password reset (self-service)",
      });
      await nowhere("Mine-Passw0rd-55");
    }, 60_000);
  },
);
