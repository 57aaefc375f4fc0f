import { randomInt } from "node:crypto";
import {
  AGENT_WS_PATH,
  type SupportDeviceDto,
  type SupportEnrollRequest,
  type SupportEnrollResponse,
  type SupportEventDto,
} from "@switchboard/shared";
import type { Selectable, Transaction } from "kysely";
import type { Config } from "../../../config.ts";
import type { Database } from "../../../db/database.ts";
import type { DB, SupportSessionsTable } from "../../../db/schema.ts";
import { AppError } from "../../../http/errors.ts";
import type { ServerKey } from "../../agents/signing-key.ts";
import { writeAudit } from "../../audit/audit.ts";
import { recordChange } from "../../audit/record.ts";
import { type Actor, systemActor } from "../../auth/actor.ts";
import { emitEvent } from "../../events/outbox.ts";
import { hashSecret } from "./codes.ts";
import { addEvent } from "./service.ts";

type SessionRow = Selectable<SupportSessionsTable>;
type Db = Database | Transaction<DB>;

/**
 * The support agent's code: 10 symbols of Crockford's base32 (no I, L, O, U: nothing to misread over the
 * phone), 50 bits from the CSPRNG. It is stored as SHA-256 only, works once, for
 * SUPPORT_AGENT_CODE_TTL_MINUTES, and only while its session is active with the caller's control consent
 * standing; a handful are live at any time, so guessing one online takes ~2^50 / live tries.
 */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export function newAgentCode() {
  let c = "";
  for (let i = 0; i < 10; i++) c += ALPHABET[randomInt(0, 32)];
  return `${c.slice(0, 5)}-${c.slice(5)}`;
}
/** The hash ignores the dash and case, so `abcde fghjk` typed by hand is the same code. */
export const agentCodeHash = (code: string) =>
  hashSecret(`agent:${code.replace(/[\s-]/g, "").toUpperCase()}`);

/** The caller's standing answer to "control": their latest one, while the session is active. */
export async function controlConsented(db: Db, sessionId: string) {
  const s = await db
    .selectFrom("support_sessions")
    .select("status")
    .where("id", "=", sessionId)
    .executeTakeFirst();
  if (s?.status !== "active") return false;
  const last = await db
    .selectFrom("support_session_events")
    .select("data")
    .where("session_id", "=", sessionId)
    .where("kind", "=", "consent")
    .where((eb) => eb(eb.ref("data", "->>").key("scope"), "=", "control"))
    .orderBy("id", "desc")
    .executeTakeFirst();
  return last?.data?.granted === true;
}

export async function supportDevices(db: Db, sessionId: string): Promise<SupportDeviceDto[]> {
  const rows = await db
    .selectFrom("devices")
    .select(["id", "hostname", "platform", "online", "enrolled_at", "retired_at"])
    .where("support_session_id", "=", sessionId)
    .orderBy("enrolled_at")
    .execute();
  return rows.map((d) => ({
    id: d.id,
    hostname: d.hostname,
    platform: d.platform,
    status: d.retired_at ? "retired" : d.online ? "online" : "offline",
    enrolledAt: d.enrolled_at.toISOString(),
    retiredAt: d.retired_at?.toISOString() ?? null,
  }));
}

/**
 * A new code for the caller, after they allowed control: any earlier unused one stops working (a caller
 * who asks again gets a fresh code, never two live ones).
 */
export async function offerSupportAgent(db: Database, config: Config, s: SessionRow) {
  return db.transaction().execute(async (trx) => {
    await trx.selectFrom("support_sessions").select("id").where("id", "=", s.id).forUpdate().execute();
    if (!(await controlConsented(trx, s.id))) {
      throw new AppError(
        "invalid_transition",
        409,
        "Control was not allowed in this session (or the session has ended)",
      );
    }
    const now = new Date();
    await trx
      .updateTable("support_agent_codes")
      .set({ expires_at: now })
      .where("session_id", "=", s.id)
      .where("used_at", "is", null)
      .where("expires_at", ">", now)
      .execute();
    const code = newAgentCode();
    const row = await trx
      .insertInto("support_agent_codes")
      .values({
        session_id: s.id,
        client_id: s.client_id,
        code_hash: agentCodeHash(code),
        expires_at: new Date(now.getTime() + config.SUPPORT_AGENT_CODE_TTL_MINUTES * 60_000),
      })
      .returning(["id", "expires_at"])
      .executeTakeFirstOrThrow();
    await writeAudit(trx, callerActor(s), {
      action: "support.agent_code_issued",
      entityType: "ticket",
      entityId: s.ticket_id,
      clientId: s.client_id,
      after: { sessionId: s.id, codeId: row.id, expiresAt: row.expires_at },
    });
    return { code, expiresAt: row.expires_at };
  });
}

const refused = () =>
  new AppError(
    "unauthenticated",
    401,
    "This support code is not valid: it was used, it expired, or its support session has ended. Ask your technician for a new one.",
  );

/**
 * `switchboard-agent support --code`: the code is spent in the same statement that checks it, and a
 * temporary device of the ticket's client is made, bound to the session. Every refusal is the same 401,
 * so a guess learns nothing about which codes exist.
 */
export async function enrollSupportAgent(
  db: Database,
  key: ServerKey,
  mspName: string,
  input: SupportEnrollRequest,
  ip: string,
): Promise<{ response: SupportEnrollResponse; event: SupportEventDto }> {
  return db.transaction().execute(async (trx) => {
    const now = new Date();
    const code = await trx
      .updateTable("support_agent_codes")
      .set({ used_at: now, used_from: ip })
      .where("code_hash", "=", agentCodeHash(input.code))
      .where("used_at", "is", null)
      .where("expires_at", ">", now)
      .returningAll()
      .executeTakeFirst();
    if (!code) throw refused();
    const s = await trx
      .selectFrom("support_sessions")
      .selectAll()
      .where("id", "=", code.session_id)
      .forUpdate()
      .executeTakeFirstOrThrow();
    // A code outlives neither its session nor the caller's consent (taken back since, or never given).
    if (!(await controlConsented(trx, s.id))) throw refused();
    const ticket = await trx
      .selectFrom("tickets")
      .select("number")
      .where("id", "=", s.ticket_id)
      .executeTakeFirstOrThrow();
    const device = await trx
      .insertInto("devices")
      .values({
        client_id: s.client_id,
        site_id: null,
        hostname: input.hostname,
        platform: input.platform,
        arch: input.arch,
        os_name: input.osName,
        os_version: input.osVersion,
        agent_version: input.agentVersion,
        public_key: input.publicKey,
        enrollment_token_id: null,
        last_address: ip,
        support_session_id: s.id,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx
      .updateTable("support_agent_codes")
      .set({ device_id: device.id })
      .where("id", "=", code.id)
      .execute();
    const event = await addEvent(trx, s, {
      kind: "agent",
      actor: "caller",
      body: `The support agent started on ${device.hostname} (${device.platform} ${device.arch}) from ${ip}`,
      data: { deviceId: device.id, hostname: device.hostname, platform: device.platform, state: "started" },
    });
    const actor = { ...callerActor(s), ip };
    await writeAudit(trx, actor, {
      action: "device.enrolled",
      entityType: "device",
      entityId: device.id,
      clientId: s.client_id,
      after: { hostname: device.hostname, platform: device.platform, supportSessionId: s.id },
    });
    await recordChange(
      trx,
      actor,
      {
        action: "support.agent_enrolled",
        entityType: "ticket",
        entityId: s.ticket_id,
        clientId: s.client_id,
        after: { sessionId: s.id, deviceId: device.id, hostname: device.hostname, codeId: code.id },
      },
      {
        type: "support.session_changed",
        clientId: s.client_id,
        ticketId: s.ticket_id,
        payload: { sessionId: s.id },
      },
    );
    await emitEvent(trx, actor, {
      type: "device.enrolled",
      clientId: s.client_id,
      payload: { deviceId: device.id, hostname: device.hostname, supportSessionId: s.id },
    });
    const response = {
      deviceId: device.id,
      serverPublicKey: key.publicKey,
      gatewayPath: AGENT_WS_PATH,
      heartbeatSeconds: 0,
      supportSessionId: s.id,
      mspName,
      technicianName: s.technician_name,
      ticketNumber: ticket.number,
    };
    return { response, event };
  });
}

/**
 * The session ended (or the caller took control back): its support devices are retired in the same
 * transaction, so their next handshake is refused, and unused codes die. Returns the devices retired;
 * whoever commits tells their agents to stop (`hub.kick(id, CloseCode.retired)`), and the sweep in
 * remote/routes.ts catches any a crash left connected.
 */
export async function retireSupportDevices(
  trx: Transaction<DB>,
  s: Pick<SessionRow, "id" | "client_id" | "ticket_id">,
  reason: string,
) {
  const now = new Date();
  await trx
    .updateTable("support_agent_codes")
    .set({ expires_at: now })
    .where("session_id", "=", s.id)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .execute();
  const retired = await trx
    .updateTable("devices")
    .set((eb) => ({ retired_at: now, online: false, gateway_id: null, version: eb("version", "+", 1) }))
    .where("support_session_id", "=", s.id)
    .where("retired_at", "is", null)
    .returning(["id", "hostname"])
    .execute();
  const actor = systemActor("support-session");
  for (const d of retired) {
    await addEvent(trx, s, {
      kind: "agent",
      actor: "system",
      body: `The support agent on ${d.hostname} was told to stop and remove itself (${reason}); the device is retired`,
      data: { deviceId: d.id, hostname: d.hostname, state: "retired" },
    });
    await writeAudit(trx, actor, {
      action: "device.retired",
      entityType: "device",
      entityId: d.id,
      clientId: s.client_id,
      after: { retiredAt: now, supportSessionId: s.id, reason },
    });
    await emitEvent(trx, actor, {
      type: "device.retired",
      clientId: s.client_id,
      payload: { deviceId: d.id, hostname: d.hostname },
    });
  }
  return retired.map((d) => d.id);
}

/**
 * The session's retired support devices: the agents to tell to stop (never one enrolled since, which
 * is not retired and must not be stopped by an older end).
 */
export async function supportDeviceIds(db: Db, sessionId: string) {
  const rows = await db
    .selectFrom("devices")
    .select("id")
    .where("support_session_id", "=", sessionId)
    .where("retired_at", "is not", null)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Support devices whose session is over but which are not retired yet (a process died between the end
 * and its commit, or a row changed by hand): retired now. Returns every support device of a session
 * ended in the last hour, so the caller can make sure none is still connected.
 */
export async function sweepSupportDevices(db: Database) {
  const stale = await db
    .selectFrom("devices")
    .innerJoin("support_sessions", "support_sessions.id", "devices.support_session_id")
    .select(["support_sessions.id", "support_sessions.client_id", "support_sessions.ticket_id"])
    .where("devices.retired_at", "is", null)
    .where("support_sessions.status", "not in", ["joined", "active"])
    .distinct()
    .execute();
  for (const s of stale) {
    await db.transaction().execute((trx) => retireSupportDevices(trx, s, "the support session ended"));
  }
  const recent = await db
    .selectFrom("devices")
    .select("id")
    .where("support_session_id", "is not", null)
    .where("retired_at", ">", new Date(Date.now() - 3600_000))
    .execute();
  return recent.map((r) => r.id);
}

/** The caller in the audit log: not a user, named by the address they joined from. */
const callerActor = (s: Pick<SessionRow, "caller_address">): Actor => ({
  ...systemActor(`support caller ${s.caller_address ?? ""}`.trim()),
  ip: s.caller_address ?? undefined,
});
