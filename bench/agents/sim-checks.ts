// The monitoring half of a simulated agent (used by fleet.ts when the fleet runs with `monitoring`): it
// takes the signed `checks` frame exactly as the real agent does (apps/agent/src/checks/runner.ts
// verifyChecks: signature, shape, addressee, freshness), runs the checks on their interval, and reports
// as the real CheckRunner does: a result at once when a check's state changes and on every run while it
// fails or recovers (until passAfter passes), and a summary of every check's latest result every
// `summarySeconds` (a timer started when the set is applied, as the agent's). The probes are replaced by
// plausible outputs and numbers per check kind; state changes come from random failure episodes at a
// set rate, or from the controller forcing a check to fail.
import type { KeyObject } from "node:crypto";
import { verifyChecks } from "../../apps/agent/src/checks/runner.ts";
import type { CheckDefinition, CheckResult, CheckState } from "../../packages/shared/src/agent/checks.ts";

export interface MonitoringInit {
  /** Percent of checks changing state per hour (a failure episode is two changes: fail, recover). */
  changesPerHourPercent: number;
  /** Runs a random failure episode lasts (failing), then it passes again. */
  episodeRuns: number;
  /**
   * The first run of each check reports its result at once (a state from nothing), as the real agent
   * does; false leaves it to the first summary (to fit a 20,000-agent run in its time: see README.md).
   */
  firstResults: boolean;
}

export const monitoringStats = {
  checksFrames: 0,
  checksRefused: 0,
  /** Agents running a non-empty set. */
  agentsWithChecks: 0,
  checksRunning: 0,
  summaries: 0,
  /** Result frames sent at once (state changes, failing and recovering runs). */
  changeFrames: 0,
  /** Check results sent, in summaries and at once. */
  results: 0,
  summaryResults: 0,
  episodes: 0,
};

/** Every failure episode with the moments its failing results were sent (the controller reads them). */
export interface Episode {
  deviceId: string;
  checkId: string;
  forced: boolean;
  sent: number[];
  recoveredAt: number | null;
}
export const episodes: Episode[] = [];

interface Running {
  def: CheckDefinition;
  key: string;
  last: CheckResult | null;
  unsettled: boolean;
  forced: boolean;
  /** Failing runs left in a random episode. */
  episodeLeft: number;
  episode: Episode | null;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** What a probe of this kind would say: output and numbers, as apps/agent/src/checks/probes.ts. */
function probe(
  def: CheckDefinition,
  failing: boolean,
): { state: CheckState; output: string; metrics?: Record<string, number> } {
  const c = def.config;
  const state: CheckState = failing ? "critical" : "ok";
  const r = Math.random();
  switch (c.kind) {
    case "service":
      return { state, output: failing ? `${c.service} is stopped` : `${c.service} is running` };
    case "process":
      return failing
        ? { state, output: `${c.process} is not running`, metrics: { processes: 0 } }
        : { state, output: `${c.process} is running`, metrics: { processes: 1 + Math.floor(r * 3) } };
    case "disk": {
      const free = failing ? 4 + r : 35 + r * 5;
      return {
        state,
        output: `${c.volume}: ${round(free * 2.56, 2)} GB free (${round(free)}%)${failing ? ", below the threshold" : ""}`,
        metrics: { free_percent: round(free), free_gb: round(free * 2.56, 2), total_gb: 256 },
      };
    }
    case "cpu":
    case "memory": {
      const v = failing ? 97 + r * 3 : 20 + r * 30;
      return {
        state,
        output: `${c.kind === "cpu" ? "CPU" : "Memory"} at ${round(v)}% on average`,
        metrics: { [`${c.kind}_percent`]: round(v), [`${c.kind}_avg_percent`]: round(v * 0.95) },
      };
    }
    case "ping":
      return failing
        ? { state, output: `${c.host} did not answer` }
        : {
            state,
            output: `${c.host} answered in ${round(1 + r * 20)} ms`,
            metrics: { latency_ms: round(1 + r * 20) },
          };
    case "tcp":
      return failing
        ? { state, output: `${c.host}:${c.port}: connect ECONNREFUSED` }
        : {
            state,
            output: `${c.host}:${c.port} answered in ${round(r * 5)} ms`,
            metrics: { latency_ms: round(r * 5) },
          };
    case "http":
      return failing
        ? {
            state,
            output: `${c.url}: 503 Service Unavailable`,
            metrics: { latency_ms: round(50 + r * 100), status: 503 },
          }
        : {
            state,
            output: `${c.url}: 200 in ${round(50 + r * 100)} ms`,
            metrics: { latency_ms: round(50 + r * 100), status: 200, cert_days_left: 60 },
          };
    case "updates":
      return {
        state,
        output: failing ? "3 security updates missing" : "no security updates missing",
        metrics: {
          updates_missing: failing ? 5 : 2,
          security_missing: failing ? 3 : 0,
          oldest_security_days: failing ? 12 : 0,
        },
      };
    case "backup":
      return {
        state,
        output: failing ? "the newest backup is 52 h old (over 26 h)" : "the newest backup is 7 h old",
        metrics: { backup_age_hours: failing ? 52 : 7 },
      };
    default:
      return { state, output: failing ? "failing" : "ok" };
  }
}

/** One simulated agent's checks. `send` writes a frame on its socket (false when it cannot). */
export class SimChecks {
  private readonly deviceId: string;
  private readonly opts: MonitoringInit;
  private readonly checks = new Map<string, Running>();
  private tickTimer: NodeJS.Timeout | null = null;
  private summaryTimer: NodeJS.Timeout | null = null;
  private summarySeconds = 0;
  private lastIssuedAt = 0;
  send: (frame: object) => void = () => {};

  constructor(deviceId: string, opts: MonitoringInit) {
    this.deviceId = deviceId;
    this.opts = opts;
  }

  /** The `checks` frame, verified as the agent verifies it, then applied (the new set replaces the old). */
  onFrame(frame: { payload: string; signature: string }, serverKey: KeyObject) {
    monitoringStats.checksFrames++;
    const verdict = verifyChecks(serverKey, this.deviceId, frame, Date.now(), this.lastIssuedAt);
    if (!verdict.ok) {
      monitoringStats.checksRefused++;
      return;
    }
    const payload = verdict.payload;
    this.lastIssuedAt = Date.parse(payload.issuedAt);
    const before = this.checks.size;
    const next = new Map(payload.checks.map((c) => [c.id, c]));
    for (const [id, r] of this.checks) {
      const def = next.get(id);
      if (!def || JSON.stringify(def) !== r.key) this.checks.delete(id);
    }
    for (const def of payload.checks) {
      if (this.checks.has(def.id)) continue;
      this.checks.set(def.id, {
        def,
        key: JSON.stringify(def),
        last: null,
        unsettled: false,
        forced: false,
        episodeLeft: 0,
        episode: null,
      });
    }
    monitoringStats.checksRunning += this.checks.size - before;
    if (before === 0 && this.checks.size > 0) monitoringStats.agentsWithChecks++;
    if (before > 0 && this.checks.size === 0) monitoringStats.agentsWithChecks--;
    // One timer per agent for its checks (all on one interval here); the first run within 3 s, as the agent.
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = null;
    if (this.checks.size) {
      const interval = Math.min(...[...this.checks.values()].map((r) => r.def.intervalSeconds)) * 1000;
      this.tickTimer = setTimeout(() => this.tick(interval), Math.random() * Math.min(interval, 3000));
    }
    if (payload.summarySeconds !== this.summarySeconds) {
      this.summarySeconds = payload.summarySeconds;
      if (this.summaryTimer) clearInterval(this.summaryTimer);
      this.summaryTimer = setInterval(() => this.summary(), payload.summarySeconds * 1000);
    }
  }

  /** The controller forces a check to fail (true) or lets it pass again (false). */
  force(checkId: string, failing: boolean) {
    const r = this.checks.get(checkId);
    if (r) r.forced = failing;
    return !!r;
  }

  stop() {
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.summaryTimer) clearInterval(this.summaryTimer);
    this.tickTimer = null;
    this.summaryTimer = null;
  }

  private tick(interval: number) {
    this.tickTimer = setTimeout(() => this.tick(interval), interval);
    // A state change per check and run: half of the changes start an episode, half end one.
    const start = ((this.opts.changesPerHourPercent / 100) * (interval / 3_600_000)) / 2;
    for (const r of this.checks.values()) {
      if (!r.forced && r.episodeLeft === 0 && start > 0 && Math.random() < start) {
        r.episodeLeft = this.opts.episodeRuns;
      }
      const randomFail = r.episodeLeft > 0;
      if (randomFail) r.episodeLeft--;
      this.record(r, r.forced || randomFail, r.forced);
    }
  }

  private record(r: Running, failing: boolean, forced: boolean) {
    const p = probe(r.def, failing);
    const previous = r.last?.state ?? null;
    const streak = previous === p.state ? (r.last?.streak ?? 0) + 1 : 1;
    const result: CheckResult = {
      checkId: r.def.id,
      state: p.state,
      output: p.output,
      ...(p.metrics ? { metrics: p.metrics } : {}),
      streak,
      at: new Date().toISOString(),
    };
    r.last = result;
    const changed = previous !== p.state && (previous !== null || this.opts.firstResults);
    const send = failing || changed || r.unsettled;
    if (failing) r.unsettled = true;
    else if (streak >= r.def.passAfter) r.unsettled = false;
    if (failing && !r.episode) {
      r.episode = { deviceId: this.deviceId, checkId: r.def.id, forced, sent: [], recoveredAt: null };
      episodes.push(r.episode);
      monitoringStats.episodes++;
    }
    if (!send) return;
    const now = Date.now();
    if (failing) r.episode?.sent.push(now);
    else if (r.episode) {
      r.episode.recoveredAt = now;
      r.episode = null;
    }
    monitoringStats.changeFrames++;
    monitoringStats.results++;
    this.send({ type: "check.results", summary: false, results: [result] });
  }

  private summary() {
    const results = [...this.checks.values()].flatMap((r) => (r.last ? [r.last] : []));
    if (!results.length) return;
    monitoringStats.summaries++;
    monitoringStats.results += results.length;
    monitoringStats.summaryResults += results.length;
    this.send({ type: "check.results", summary: true, results });
  }
}
