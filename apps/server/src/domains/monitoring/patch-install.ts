import { randomUUID } from "node:crypto";
import {
  type CommandPayload,
  type InstallUpdatesRequest,
  type PatchSettingsDto,
  UpdatePackageName,
  type UpdatePatchSettingsRequest,
} from "@switchboard/shared";
import type { Transaction } from "kysely";
import type { Database } from "../../db/database.ts";
import type { DB, PatchStatusUpdate } from "../../db/schema.ts";
import { AppError, invalid, notFound } from "../../http/errors.ts";
import type { CommandDeps } from "../agents/commands.ts";
import { commandFrame } from "../agents/commands.ts";
import { signCommandPayload } from "../agents/signing-key.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, canSeeClient, requireRole, requireWriter } from "../auth/actor.ts";

// Approving and installing updates: a technician picks updates the device reported missing (or every
// security update, or all), and one signed `updates.install` command carries exactly those packages or
// KB ids to the agent. The run and its rows per update are written with the command, in one transaction;
// the agent's answer settles them (patch-install-runs.ts).

/** Long enough for a device that is rebooting or briefly offline; after that the run fails, saying so. */
const DELIVERY_SECONDS = 30 * 60;
/** The agent's limit for the whole run. */
export const INSTALL_TIMEOUT_SECONDS = 3600;
const KB = /\bKB(\d{4,10})\b/i;

interface Chosen {
  name: string;
  target: string;
  security: boolean;
  severity: string | null;
}

/** What the agent installs for an update of the list: the package itself, or the KB of a Windows title. */
export function targetOf(source: "apt" | "dnf" | "windows_update", u: PatchStatusUpdate): string | null {
  if (source === "windows_update") {
    const m = u.name.match(KB);
    return m ? `KB${m[1]}` : null;
  }
  return UpdatePackageName.safeParse(u.name).success ? u.name : null;
}

function choose(
  source: "apt" | "dnf" | "windows_update",
  missing: PatchStatusUpdate[],
  input: InstallUpdatesRequest,
): Chosen[] {
  let picked: PatchStatusUpdate[];
  if (input.select === "updates") {
    const byName = new Map(missing.map((u) => [u.name, u]));
    picked = [];
    for (const [i, name] of [...new Set(input.updates)].entries()) {
      const u = byName.get(name);
      if (!u)
        throw invalid(
          `body.updates.${i}`,
          `"${name.slice(0, 200)}" is not an update this device reported missing`,
        );
      if (targetOf(source, u) === null)
        throw invalid(
          `body.updates.${i}`,
          source === "windows_update"
            ? `"${name.slice(0, 200)}" names no KB id: Windows Update installs by KB`
            : `"${name.slice(0, 200)}" is not a package name the agent can install`,
        );
      picked.push(u);
    }
  } else {
    picked = missing.filter((u) => (input.select === "all" || u.security) && targetOf(source, u) !== null);
    if (!picked.length)
      throw new AppError(
        "invalid_transition",
        409,
        input.select === "security"
          ? "This device reports no missing security update that can be installed"
          : "This device reports no missing update that can be installed",
      );
  }
  const seen = new Set<string>();
  return picked.flatMap((u) => {
    const target = targetOf(source, u)!;
    if (seen.has(target)) return [];
    seen.add(target);
    return [{ name: u.name, target, security: u.security, severity: u.severity }];
  });
}

export interface StartOptions {
  trigger?: "manual" | "auto";
  retryOf?: string;
}

/**
 * Approves the chosen updates and installs them now: the run, its items, the signed command, the audit
 * row and the event commit together; the command then goes to the agent (queued while it is offline).
 */
export async function startInstall(
  deps: CommandDeps,
  actor: Actor,
  deviceId: string,
  input: InstallUpdatesRequest,
  opts: StartOptions = {},
) {
  requireWriter(actor);
  const key = await deps.serverKey();
  const created = await deps.db.transaction().execute(async (trx) => {
    const device = await trx
      .selectFrom("devices")
      .select(["id", "client_id", "hostname", "retired_at", "support_session_id"])
      .where("id", "=", deviceId)
      .forUpdate()
      .executeTakeFirst();
    if (!device || !canSeeClient(actor, device.client_id)) throw notFound("Device");
    if (device.retired_at) throw new AppError("invalid_transition", 409, "The device is retired");
    if (device.support_session_id)
      throw new AppError("invalid_transition", 409, "A support agent installs nothing");
    const status = await trx
      .selectFrom("patch_status")
      .select(["source", "updates"])
      .where("device_id", "=", deviceId)
      .executeTakeFirst();
    if (!status)
      throw new AppError("invalid_transition", 409, "The device has not reported a patch scan yet");
    if (!status.source)
      throw new AppError(
        "invalid_transition",
        409,
        "The device reported no supported package manager (apt, dnf, Windows Update)",
      );
    const source = status.source;
    // One run at a time per device (the row lock above orders concurrent requests).
    const open = await trx
      .selectFrom("patch_install_runs")
      .select("id")
      .where("device_id", "=", deviceId)
      .where("status", "in", ["queued", "running"])
      .executeTakeFirst();
    if (open)
      throw new AppError(
        "invalid_transition",
        409,
        "An update install is already queued or running on this device; wait for its result",
      );
    const chosen = choose(source, status.updates, input);
    return insertRun(trx, key, actor, device, source, chosen, { ...opts, select: input.select });
  });
  // After the commit, like any command: delivered now, or left queued for the agent's reconnect.
  if (!(await deps.hub.deliver(deviceId, commandFrame(created)))) {
    await deps.db
      .updateTable("device_commands")
      .set({ status: "queued", sent_at: null })
      .where("id", "=", created.id)
      .where("status", "=", "sent")
      .execute();
  }
  return created.runId;
}

async function insertRun(
  trx: Transaction<DB>,
  key: Awaited<ReturnType<CommandDeps["serverKey"]>>,
  actor: Actor,
  device: { id: string; client_id: string; hostname: string },
  source: "apt" | "dnf" | "windows_update",
  chosen: Chosen[],
  opts: StartOptions & { select: string },
) {
  const now = new Date();
  const payload: CommandPayload = {
    v: 1,
    id: randomUUID(),
    deviceId: device.id,
    issuedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + DELIVERY_SECONDS * 1000).toISOString(),
    command: {
      kind: "updates.install",
      manager: source,
      packages: chosen.map((c) => c.target),
      timeoutSeconds: INSTALL_TIMEOUT_SECONDS,
    },
  };
  const text = JSON.stringify(payload);
  const signature = signCommandPayload(key, text);
  const label = opts.trigger === "auto" ? "Auto-approval: security updates" : actor.name;
  await trx
    .insertInto("device_commands")
    .values({
      id: payload.id,
      device_id: device.id,
      client_id: device.client_id,
      kind: "updates.install",
      command: JSON.stringify(payload.command),
      payload: text,
      signature,
      status: "sent",
      sent_at: now,
      requested_by_user_id: actor.userId,
      requested_by_label: label,
      expires_at: payload.expiresAt,
    })
    .execute();
  const run = await trx
    .insertInto("patch_install_runs")
    .values({
      device_id: device.id,
      client_id: device.client_id,
      command_id: payload.id,
      source,
      trigger: opts.trigger ?? "manual",
      retry_of: opts.retryOf ?? null,
      requested_by_user_id: actor.userId,
      requested_by_label: label,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  await trx
    .insertInto("patch_install_items")
    .values(
      chosen.map((c, position) => ({
        run_id: run.id,
        client_id: device.client_id,
        position,
        name: c.name,
        target: c.target,
        security: c.security,
        severity: c.severity,
      })),
    )
    .execute();
  await recordChange(
    trx,
    actor,
    {
      action: "patch.install_approved",
      entityType: "device",
      entityId: device.id,
      clientId: device.client_id,
      after: {
        runId: run.id,
        commandId: payload.id,
        hostname: device.hostname,
        trigger: opts.trigger ?? "manual",
        select: opts.select,
        retryOf: opts.retryOf ?? null,
        updates: chosen.map((c) => c.target),
      },
    },
    {
      type: "monitoring.patch_install_changed",
      clientId: device.client_id,
      payload: { runId: run.id, deviceId: device.id, status: "queued" },
    },
  );
  return { id: payload.id, device_id: device.id, payload: text, signature, runId: run.id };
}

/** Installs again the updates of a finished run that failed and are still reported missing. */
export async function retryInstall(deps: CommandDeps, actor: Actor, runId: string) {
  requireWriter(actor);
  const run = await deps.db
    .selectFrom("patch_install_runs")
    .select(["id", "device_id", "client_id", "status"])
    .where("id", "=", runId)
    .executeTakeFirst();
  if (!run || !canSeeClient(actor, run.client_id)) throw notFound("Install run");
  if (run.status === "queued" || run.status === "running")
    throw new AppError("invalid_transition", 409, "This install has not finished yet");
  const failed = await deps.db
    .selectFrom("patch_install_items")
    .select("name")
    .where("run_id", "=", runId)
    .where("status", "in", ["failed", "pending"])
    .execute();
  if (!failed.length) throw new AppError("invalid_transition", 409, "No update of this run failed");
  const status = await deps.db
    .selectFrom("patch_status")
    .select("updates")
    .where("device_id", "=", run.device_id)
    .executeTakeFirst();
  const missing = new Set((status?.updates ?? []).map((u) => u.name));
  const again = failed.map((f) => f.name).filter((n) => missing.has(n));
  if (!again.length)
    throw new AppError(
      "invalid_transition",
      409,
      "Nothing to retry: the failed updates are no longer reported missing on this device",
    );
  return startInstall(deps, actor, run.device_id, { select: "updates", updates: again }, { retryOf: runId });
}

// ---- the client's auto-approval ------------------------------------------------------------------

const toClock = (m: number) =>
  `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
const toMinutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

/** The minute of the day it is now in `zone` (wall clock). */
export function minuteOfDay(zone: string, now: Date): number {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(now);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return get("hour") * 60 + get("minute");
}

/** Is `minute` inside [start, end), a window that may run past midnight. */
export function inWindow(start: number, end: number, minute: number): boolean {
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

export async function getPatchSettings(
  db: Database,
  actor: Actor,
  clientId: string,
): Promise<PatchSettingsDto> {
  const client = await db.selectFrom("clients").select("id").where("id", "=", clientId).executeTakeFirst();
  if (!client) throw notFound("Client");
  assertClientVisible(actor, clientId, "Client");
  const s = await db
    .selectFrom("patch_settings")
    .selectAll()
    .where("client_id", "=", clientId)
    .executeTakeFirst();
  return {
    clientId,
    autoInstallSecurity: s?.auto_install_security ?? false,
    installWindow:
      s && s.install_window_start !== null && s.install_window_end !== null
        ? { start: toClock(s.install_window_start), end: toClock(s.install_window_end) }
        : null,
    updatedAt: s ? s.updated_at.toISOString() : null,
    updatedBy: s?.updated_by_label ?? null,
  };
}

export async function setPatchSettings(
  db: Database,
  actor: Actor,
  clientId: string,
  input: UpdatePatchSettingsRequest,
) {
  requireRole(actor, "admin", "dispatcher");
  const before = await getPatchSettings(db, actor, clientId);
  const row = {
    auto_install_security: input.autoInstallSecurity,
    install_window_start: input.installWindow ? toMinutes(input.installWindow.start) : null,
    install_window_end: input.installWindow ? toMinutes(input.installWindow.end) : null,
    updated_by_label: actor.name,
  };
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto("patch_settings")
      .values({ client_id: clientId, ...row })
      .onConflict((oc) => oc.column("client_id").doUpdateSet({ ...row, updated_at: new Date() }))
      .execute();
    await recordChange(
      trx,
      actor,
      {
        action: "patch.settings_changed",
        entityType: "client",
        entityId: clientId,
        clientId,
        before: { autoInstallSecurity: before.autoInstallSecurity, installWindow: before.installWindow },
        after: input,
      },
      { type: "monitoring.patch_install_changed", clientId, payload: { clientId } },
    );
  });
  return getPatchSettings(db, actor, clientId);
}
