import type { FastifyBaseLogger as Logger } from "fastify";
import type { Config } from "../../config.ts";
import type { Database } from "../../db/database.ts";
import { runSweep, type SweepSettings } from "./sweep.ts";

export const sweepSettings = (config: Config): SweepSettings => ({
  offlineGraceSeconds: config.MONITORING_OFFLINE_GRACE_SECONDS,
  recoverSeconds: config.MONITORING_RECOVER_SECONDS,
  correlationSeconds: config.MONITORING_CORRELATION_SECONDS,
  siteMinOffline: config.MONITORING_SITE_MIN_OFFLINE,
  siteOfflinePercent: config.MONITORING_SITE_OFFLINE_PERCENT,
  reopenSeconds: config.MONITORING_REOPEN_SECONDS,
  metricDays: config.MONITORING_METRIC_DAYS,
});

/**
 * The worker's monitoring timer. Every pass reads and writes only the database (presence, alerts,
 * incidents), under an advisory lock: any number of workers may run it, a restart loses nothing, and a
 * pass that fails is simply the next one's work.
 */
export function startMonitoringSweep(db: Database, config: Config, log: Logger | undefined) {
  const settings = sweepSettings(config);
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    runSweep(db, settings)
      .catch((err) => log?.error({ err }, "monitoring sweep failed"))
      .finally(() => {
        running = false;
      });
  }, config.MONITORING_SWEEP_SECONDS * 1000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
