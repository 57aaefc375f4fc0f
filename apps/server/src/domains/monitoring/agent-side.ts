import type { CheckResultsFrame } from "@switchboard/shared";
import type { FastifyBaseLogger as Logger } from "fastify";
import type { Database } from "../../db/database.ts";
import { asSystem } from "../../db/scope.ts";
import { Batcher } from "../../gateway/batcher.ts";
import type { AgentHub } from "../../gateway/hub.ts";
import { createCommand } from "../agents/commands.ts";
import type { ServerKey } from "../agents/signing-key.ts";
import { checksFrame, effectiveChecks } from "./checks.ts";
import { savePatchReport } from "./patch.ts";
import { autoInstallAfterScan, settleRuns } from "./patch-install-runs.ts";
import { ingestResults, type Remediation, remediationCommand } from "./results.ts";
import { type SummaryBatchItem, saveSummaries } from "./summaries.ts";
import { monitorActor, noteOnTicket } from "./tickets.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface MonitoringAgentDeps {
  db: Database;
  hub: AgentHub;
  serverKey: () => Promise<ServerKey>;
  log: Logger;
  summarySeconds: number;
  reopenSeconds: number;
  groupSeconds: number;
}

/**
 * Monitoring as the gateway and the API see agents: the signed set of checks each device runs (sent after
 * the welcome and again when a policy changes), and the results coming back.
 */
export class MonitoringAgentSide {
  private readonly deps: MonitoringAgentDeps;
  /** Summaries of every connected device, written like heartbeats: one statement per batch. */
  private readonly summaries: Batcher<SummaryBatchItem, null>;

  constructor(deps: MonitoringAgentDeps) {
    this.deps = deps;
    this.summaries = new Batcher(
      async (items) => {
        await asSystem(() => saveSummaries(deps.db, items));
        return items.map(() => null);
      },
      { maxSize: 500, waitMs: 50 },
    );
  }

  /** After the handshake: the device's checks, even none (the agent then stops what it ran). */
  async welcome(deviceId: string, send: (frame: string) => boolean) {
    const key = await this.deps.serverKey();
    const checks = (await asSystem(() => effectiveChecks(this.deps.db, [deviceId]))).get(deviceId) ?? [];
    send(checksFrame(key, deviceId, checks, this.deps.summarySeconds));
  }

  /** A policy changed: its devices get their new set wherever they are connected (100 at a time). */
  async push(deviceIds: string[]) {
    const key = await this.deps.serverKey();
    for (let i = 0; i < deviceIds.length; i += 100) {
      const slice = deviceIds.slice(i, i + 100);
      const sets = await asSystem(() => effectiveChecks(this.deps.db, slice));
      await Promise.all(
        slice.map((id) =>
          this.deps.hub.deliver(id, checksFrame(key, id, sets.get(id) ?? [], this.deps.summarySeconds)),
        ),
      );
    }
  }

  async results(deviceId: string, frame: CheckResultsFrame) {
    if (frame.summary) {
      const patch = frame.patch;
      if (patch) {
        await asSystem(() => savePatchReport(this.deps.db, deviceId, patch));
        if (!patch.error) await this.autoInstall(deviceId);
      }
      if (frame.results.length) await this.summaries.add({ deviceId, results: frame.results });
      return;
    }
    const out = await asSystem(() =>
      ingestResults(this.deps.db, deviceId, frame, {
        reopenSeconds: this.deps.reopenSeconds,
        groupSeconds: this.deps.groupSeconds,
      }),
    );
    if (out.unknown)
      this.deps.log.warn(
        { deviceId, unknown: out.unknown },
        "check results for checks the device does not run",
      );
    for (const r of out.remediations) await this.remediate(r);
  }

  /** The agent started, finished or refused a command: an update install run follows it at once. */
  async commandChanged(commandId: string | null) {
    if (!commandId || !UUID.test(commandId)) return;
    await asSystem(() => settleRuns(this.deps.db, { commandId }));
  }

  /** A scan arrived: the client's auto-approval installs the security updates it reports. */
  private async autoInstall(deviceId: string) {
    const { db, hub, serverKey } = this.deps;
    try {
      await asSystem(() => autoInstallAfterScan({ db, hub, serverKey }, deviceId));
    } catch (err) {
      this.deps.log.error({ err, deviceId }, "auto-approved updates could not be sent");
    }
  }

  /** Runs the check's remediation through the agent; its result lands on the alert's ticket. */
  private async remediate(r: Remediation) {
    const { db, hub, serverKey } = this.deps;
    try {
      const command = await asSystem(() =>
        createCommand({ db, hub, serverKey }, monitorActor, r.deviceId, {
          command: remediationCommand(r.command),
          ticketId: r.ticketId ?? undefined,
          expiresInSeconds: 600,
        }),
      );
      await asSystem(() =>
        db
          .updateTable("monitoring_alerts")
          .set({ remediation_command_id: command.id })
          .where("id", "=", r.alertId)
          .execute(),
      );
    } catch (err) {
      this.deps.log.error({ err, alertId: r.alertId }, "remediation could not be sent");
      if (r.ticketId) {
        const ticketId = r.ticketId;
        await asSystem(() =>
          db
            .transaction()
            .execute((trx) =>
              noteOnTicket(trx, ticketId, `The remediation could not be sent: ${(err as Error).message}`),
            ),
        ).catch(() => {});
      }
    }
  }
}
