import type { PatchInstallRunDto, UpdateInstallResult } from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { Database } from "../../db/database.ts";
import type { DB, PatchInstallStatus } from "../../db/schema.ts";
import { AppError, notFound } from "../../http/errors.ts";
import type { CommandDeps } from "../agents/commands.ts";
import { type Actor, canSeeClient } from "../auth/actor.ts";
import { emitEvent } from "../events/outbox.ts";
import { validZone } from "./cron.ts";
import { INSTALL_TIMEOUT_SECONDS, inWindow, minuteOfDay, startInstall, targetOf } from "./patch-install.ts";
import { monitorActor } from "./tickets.ts";

// An install run's state follows its command: queued while the command waits for the agent, running once
// the agent started it, then done (every update installed or not applicable), partial (some failed) or
// failed (all failed, or the command never ran: the device stayed offline, the agent refused it, or it
// never answered). Settled when the gateway records the agent's answer, on the worker's timer, and before
// a device's runs are read, so what the console shows is never behind the command.

/** A run whose agent started it and went silent this long after its own limit fails, saying so. */
const SILENCE_GRACE_MS = 10 * 60_000;

interface Open {
  id: string;
  device_id: string;
  client_id: string;
  status: PatchInstallStatus;
  command_status: string | null;
  command_error: string | null;
  update_results: UpdateInstallResult[] | null;
  reboot_required: boolean | null;
  started_at: Date | null;
  finished_at: Date | null;
}

function whyNotRun(c: Open): string {
  switch (c.command_status) {
    case "expired":
      return c.command_error === "not delivered before it expired"
        ? "The device was offline: the install was not delivered before it expired. Retry once it is back."
        : "The agent never started the install (it lost its connection). Retry once it is back.";
    case "refused":
      return `The agent refused the install (${c.command_error ?? "refused"}); an agent too old for update installs refuses it as unsupported.`;
    case null:
      return "The install's command was removed before it ran.";
    default:
      return c.command_error ?? "The agent reported a failure without a reason.";
  }
}

/** Moves open runs on from their commands' state; `where` narrows it to one command or one device. */
export async function settleRuns(db: Database, where: { commandId?: string; deviceId?: string } = {}) {
  // The gateway asks after every command frame: one indexed read, no transaction, when it is no install's.
  if (where.commandId) {
    const open = await db
      .selectFrom("patch_install_runs")
      .select("id")
      .where("command_id", "=", where.commandId)
      .where("status", "in", ["queued", "running"])
      .executeTakeFirst();
    if (!open) return 0;
  }
  return db.transaction().execute(async (trx) => {
    let q = trx
      .selectFrom("patch_install_runs as r")
      .leftJoin("device_commands as c", "c.id", "r.command_id")
      .select([
        "r.id",
        "r.device_id",
        "r.client_id",
        "r.status",
        "c.status as command_status",
        "c.error as command_error",
        "c.update_results",
        "c.reboot_required",
        "c.started_at",
        "c.finished_at",
      ])
      .where("r.status", "in", ["queued", "running"])
      .forUpdate("r")
      .skipLocked()
      .limit(500);
    if (where.commandId) q = q.where("r.command_id", "=", where.commandId);
    if (where.deviceId) q = q.where("r.device_id", "=", where.deviceId);
    const open = (await q.execute()) as Open[];
    let settled = 0;
    for (const r of open) {
      const now = new Date();
      const cs = r.command_status;
      if (cs === "queued" || cs === "sent") continue;
      if (cs === "running") {
        const silent =
          r.started_at &&
          now.getTime() - r.started_at.getTime() > INSTALL_TIMEOUT_SECONDS * 1000 + SILENCE_GRACE_MS;
        if (!silent) {
          if (r.status === "queued") {
            await trx
              .updateTable("patch_install_runs")
              .set({ status: "running", started_at: r.started_at ?? now })
              .where("id", "=", r.id)
              .execute();
            await emitEvent(trx, monitorActor, {
              type: "monitoring.patch_install_changed",
              clientId: r.client_id,
              payload: { runId: r.id, deviceId: r.device_id, status: "running" },
            });
          }
          continue;
        }
        await finish(trx, r, {
          results: null,
          error: `No result from the agent within ${Math.round((INSTALL_TIMEOUT_SECONDS * 1000 + SILENCE_GRACE_MS) / 60_000)} min of starting the install (it may have restarted or lost its connection); the next scan shows what was installed.`,
        });
        settled++;
        continue;
      }
      const ran = cs === "succeeded" || cs === "failed" || cs === "timed_out";
      await finish(trx, r, {
        results: ran ? (r.update_results ?? null) : null,
        error: ran && r.update_results?.length ? r.command_error : whyNotRun(r),
      });
      settled++;
    }
    return settled;
  });
}

async function finish(
  trx: Transaction<DB>,
  r: Open,
  out: { results: UpdateInstallResult[] | null; error: string | null },
) {
  const items = await trx
    .selectFrom("patch_install_items")
    .select(["position", "target"])
    .where("run_id", "=", r.id)
    .orderBy("position")
    .execute();
  const byName = new Map((out.results ?? []).map((u) => [u.name, u]));
  let installed = 0;
  let failed = 0;
  for (const it of items) {
    const u = byName.get(it.target);
    const status = u?.status ?? "failed";
    if (status === "installed") installed++;
    if (status === "failed") failed++;
    await trx
      .updateTable("patch_install_items")
      .set({
        status,
        version_from: u?.from ?? null,
        version_to: u?.to ?? null,
        error: u
          ? (u.error ?? null)
          : out.results
            ? "The agent reported no result for this update."
            : out.error,
      })
      .where("run_id", "=", r.id)
      .where("position", "=", it.position)
      .execute();
  }
  const status: PatchInstallStatus = failed === 0 ? "done" : installed > 0 ? "partial" : "failed";
  const finishedAt = r.finished_at ?? new Date();
  await trx
    .updateTable("patch_install_runs")
    .set({
      status,
      error: status === "done" ? null : out.error,
      reboot_required: out.results ? r.reboot_required : null,
      started_at: sql`coalesce(started_at, ${r.started_at ?? finishedAt})`,
      finished_at: finishedAt,
    })
    .where("id", "=", r.id)
    .execute();
  // The device's (and so the client's) last successful install, whatever the package log says later.
  if (installed > 0)
    await trx
      .updateTable("patch_status")
      .set({ last_install_at: sql`greatest(last_install_at, ${finishedAt})` })
      .where("device_id", "=", r.device_id)
      .execute();
  await emitEvent(trx, monitorActor, {
    type: "monitoring.patch_install_changed",
    clientId: r.client_id,
    payload: { runId: r.id, deviceId: r.device_id, status },
  });
}

/** The device's latest install runs with a result per update, newest first. */
export async function listRuns(db: Database, actor: Actor, deviceId: string): Promise<PatchInstallRunDto[]> {
  const device = await db
    .selectFrom("devices")
    .select("client_id")
    .where("id", "=", deviceId)
    .executeTakeFirst();
  if (!device || !canSeeClient(actor, device.client_id)) throw notFound("Device");
  await settleRuns(db, { deviceId });
  const runs = await db
    .selectFrom("patch_install_runs")
    .selectAll()
    .where("device_id", "=", deviceId)
    .orderBy("created_at", "desc")
    .limit(20)
    .execute();
  if (!runs.length) return [];
  const items = await db
    .selectFrom("patch_install_items")
    .selectAll()
    .where(
      "run_id",
      "in",
      runs.map((r) => r.id),
    )
    .orderBy("position")
    .execute();
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return runs.map((r) => ({
    id: r.id,
    deviceId: r.device_id,
    status: r.status,
    trigger: r.trigger,
    requestedBy: r.requested_by_label,
    rebootRequired: r.reboot_required,
    error: r.error,
    retryOf: r.retry_of,
    commandId: r.command_id,
    createdAt: r.created_at.toISOString(),
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
    items: items
      .filter((i) => i.run_id === r.id)
      .map((i) => ({
        name: i.name,
        target: i.target,
        security: i.security,
        severity: i.severity,
        status: i.status,
        versionFrom: i.version_from,
        versionTo: i.version_to,
        error: i.error,
      })),
  }));
}

export async function getRun(db: Database, actor: Actor, runId: string) {
  const run = await db
    .selectFrom("patch_install_runs")
    .select(["device_id", "client_id"])
    .where("id", "=", runId)
    .executeTakeFirst();
  if (!run || !canSeeClient(actor, run.client_id)) throw notFound("Install run");
  const all = await listRuns(db, actor, run.device_id);
  const found = all.find((r) => r.id === runId);
  if (!found) throw notFound("Install run");
  return found;
}

/**
 * A client's auto-approval: the security updates a scan reports missing are approved and installed at
 * once, or, when the client has an install window, only while it is open in the device's site time zone
 * (the worker's pass below starts them when it opens). An update already tried on the device in the last
 * day is left out (a failing update is not retried on every scan; its failure shows on the device for a
 * technician to retry).
 */
export async function autoInstallAfterScan(deps: CommandDeps, deviceId: string, now = new Date()) {
  const { db } = deps;
  const row = await db
    .selectFrom("devices as d")
    .innerJoin("patch_settings as s", "s.client_id", "d.client_id")
    .innerJoin("patch_status as p", "p.device_id", "d.id")
    .leftJoin("sites as site", "site.id", "d.site_id")
    .select([
      "s.auto_install_security",
      "s.install_window_start",
      "s.install_window_end",
      "p.source",
      "p.updates",
      sql<string>`coalesce(site.timezone, (select timezone from msp limit 1), 'UTC')`.as("zone"),
    ])
    .where("d.id", "=", deviceId)
    .where("d.retired_at", "is", null)
    .where("d.support_session_id", "is", null)
    .executeTakeFirst();
  if (!row?.auto_install_security || !row.source) return null;
  if (
    row.install_window_start !== null &&
    row.install_window_end !== null &&
    !inWindow(row.install_window_start, row.install_window_end, minuteOfDay(validZone(row.zone), now))
  )
    return null;
  const source = row.source;
  const tried = new Set(
    (
      await db
        .selectFrom("patch_install_items as i")
        .innerJoin("patch_install_runs as r", "r.id", "i.run_id")
        .select("i.name")
        .where("r.device_id", "=", deviceId)
        .where("r.created_at", ">", new Date(now.getTime() - 86_400_000))
        .execute()
    ).map((i) => i.name),
  );
  const names = row.updates
    .filter((u) => u.security && !tried.has(u.name) && targetOf(source, u) !== null)
    .map((u) => u.name);
  if (!names.length) return null;
  try {
    return await startInstall(
      deps,
      monitorActor,
      deviceId,
      { select: "updates", updates: names },
      { trigger: "auto" },
    );
  } catch (err) {
    // A run already open installs first; this scan's updates are picked up by the next scan or pass.
    if (err instanceof AppError && err.status === 409) return null;
    throw err;
  }
}

/**
 * The worker's pass for clients with an install window: devices with missing security updates and no
 * open install get their auto-approved updates while the window is open (200 devices a pass at most).
 */
export async function autoInstallInWindows(deps: CommandDeps, now = new Date()) {
  const candidates = await deps.db
    .selectFrom("devices as d")
    .innerJoin("patch_settings as s", "s.client_id", "d.client_id")
    .innerJoin("patch_status as p", "p.device_id", "d.id")
    .leftJoin("sites as site", "site.id", "d.site_id")
    .select([
      "d.id",
      "s.install_window_start",
      "s.install_window_end",
      sql<string>`coalesce(site.timezone, (select timezone from msp limit 1), 'UTC')`.as("zone"),
    ])
    .where("s.auto_install_security", "=", true)
    .where("s.install_window_start", "is not", null)
    .where("p.security_count", ">", 0)
    .where("d.retired_at", "is", null)
    .where("d.support_session_id", "is", null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("patch_install_runs as r")
            .select("r.id")
            .whereRef("r.device_id", "=", "d.id")
            .where("r.status", "in", ["queued", "running"]),
        ),
      ),
    )
    .execute();
  let started = 0;
  for (const c of candidates) {
    if (started >= 200) break;
    if (!inWindow(c.install_window_start!, c.install_window_end!, minuteOfDay(validZone(c.zone), now)))
      continue;
    if (await autoInstallAfterScan(deps, c.id, now)) started++;
  }
  return started;
}
