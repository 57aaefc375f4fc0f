import { type KeyObject, verify } from "node:crypto";
import {
  type CheckDefinition,
  type CheckResult,
  type CheckState,
  ChecksPayload,
  checksMessage,
  type PatchReport,
} from "@switchboard/shared";
import type { Log } from "../log.ts";
import { backupProbe, logProbe, rebootProbe, updatesProbe } from "./os-probes.ts";
import { scanPatches } from "./patch.ts";
import {
  diskProbe,
  httpProbe,
  type Probe,
  pingProbe,
  processProbe,
  scriptProbe,
  serviceProbe,
  tcpProbe,
  WindowedUsage,
} from "./probes.ts";

/** A checks frame older than this (server time) is refused: a captured one cannot be replayed later. */
const MAX_AGE_MS = 10 * 60_000;

/** Signature over the exact payload first, then shape, addressee and freshness. */
export function verifyChecks(
  serverKey: KeyObject,
  deviceId: string,
  frame: { payload: string; signature: string },
  now: number,
  lastIssuedAt: number,
): { ok: true; payload: ChecksPayload } | { ok: false; reason: string } {
  let sig: Buffer;
  try {
    sig = Buffer.from(frame.signature, "base64");
  } catch {
    return { ok: false, reason: "bad signature" };
  }
  if (!verify(null, Buffer.from(checksMessage(frame.payload)), serverKey, sig))
    return { ok: false, reason: "bad signature" };
  let parsed: ChecksPayload;
  try {
    parsed = ChecksPayload.parse(JSON.parse(frame.payload));
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (parsed.deviceId !== deviceId) return { ok: false, reason: "wrong device" };
  const issued = Date.parse(parsed.issuedAt);
  if (Math.abs(now - issued) > MAX_AGE_MS) return { ok: false, reason: "expired" };
  if (issued < lastIssuedAt) return { ok: false, reason: "older than the checks in force" };
  return { ok: true, payload: parsed };
}

interface Running {
  def: CheckDefinition;
  key: string;
  timer: NodeJS.Timeout | null;
  busy: boolean;
  last: CheckResult | null;
  /** Results are sent each run until the check passed `passAfter` times in a row after a failure. */
  unsettled: boolean;
  usage: WindowedUsage;
}

export interface RunnerOptions {
  /** Frames to the server (queued by the client while it is disconnected). */
  send: (frame: object) => void;
  log: Log;
  /** Replaces the real probes in tests. */
  probe?: (def: CheckDefinition, usage: WindowedUsage) => Promise<Probe>;
  /** The patch scan (replaced in tests); its report rides on the next summary. */
  patchScan?: () => Promise<PatchReport>;
  /** First scan this long after the first checks frame, then every `patchIntervalMs`. */
  patchFirstMs?: number;
  patchIntervalMs?: number;
}

/** Missing updates are looked up from cached lists: cheap, but the lists only change every few hours. */
const PATCH_INTERVAL_MS = 6 * 3_600_000;

/**
 * Runs the device's checks on their intervals. A result goes to the server at once when the state
 * changes and on every run while failing or recovering (the server counts failures in a row); otherwise
 * only the periodic summary carries it, so a healthy fleet sends one small frame per device per summary.
 */
export class CheckRunner {
  private readonly opts: RunnerOptions;
  private readonly checks = new Map<string, Running>();
  private summaryTimer: NodeJS.Timeout | null = null;
  private summarySeconds = 0;
  private patchTimer: NodeJS.Timeout | null = null;
  /** The latest patch scan, until a summary carried it. */
  private patch: PatchReport | null = null;
  lastIssuedAt = 0;

  constructor(opts: RunnerOptions) {
    this.opts = opts;
  }

  get size() {
    return this.checks.size;
  }

  /** The new set replaces the old: unchanged checks keep their state and schedule. */
  apply(payload: ChecksPayload) {
    this.lastIssuedAt = Date.parse(payload.issuedAt);
    if (!this.patchTimer) this.schedulePatchScan(this.opts.patchFirstMs ?? 30_000);
    const next = new Map(payload.checks.map((c) => [c.id, c]));
    for (const [id, r] of this.checks) {
      const def = next.get(id);
      if (!def || JSON.stringify(def) !== r.key) {
        if (r.timer) clearTimeout(r.timer);
        this.checks.delete(id);
      }
    }
    for (const def of payload.checks) {
      if (this.checks.has(def.id)) continue;
      const r: Running = {
        def,
        key: JSON.stringify(def),
        timer: null,
        busy: false,
        last: null,
        unsettled: false,
        usage: new WindowedUsage(),
      };
      this.checks.set(def.id, r);
      // The first run soon, spread over a few seconds so checks do not all start together.
      this.schedule(r, Math.random() * Math.min(def.intervalSeconds * 1000, 3000));
    }
    if (payload.summarySeconds !== this.summarySeconds) {
      this.summarySeconds = payload.summarySeconds;
      if (this.summaryTimer) clearInterval(this.summaryTimer);
      this.summaryTimer = setInterval(() => this.summary(), payload.summarySeconds * 1000);
      this.summaryTimer.unref();
    }
    this.opts.log("info", "monitoring checks updated", { checks: this.checks.size });
  }

  stop() {
    for (const r of this.checks.values()) if (r.timer) clearTimeout(r.timer);
    this.checks.clear();
    if (this.summaryTimer) clearInterval(this.summaryTimer);
    this.summaryTimer = null;
    if (this.patchTimer) clearTimeout(this.patchTimer);
    this.patchTimer = null;
  }

  /** A scan now, reported at once (after an update install: the missing list shrinks without waiting). */
  async rescanPatches() {
    try {
      const patch = await (this.opts.patchScan ?? scanPatches)();
      this.patch = null;
      this.opts.send({ type: "check.results", summary: true, results: [], patch });
    } catch (err) {
      this.opts.log("warn", "patch scan failed", { error: (err as Error).message });
    }
  }

  private schedulePatchScan(ms: number) {
    this.patchTimer = setTimeout(async () => {
      try {
        this.patch = await (this.opts.patchScan ?? scanPatches)();
      } catch (err) {
        this.opts.log("warn", "patch scan failed", { error: (err as Error).message });
      }
      if (this.patchTimer) this.schedulePatchScan(this.opts.patchIntervalMs ?? PATCH_INTERVAL_MS);
    }, ms);
    this.patchTimer.unref();
  }

  private schedule(r: Running, ms: number) {
    r.timer = setTimeout(() => void this.run(r), ms);
    r.timer.unref();
  }

  private async run(r: Running) {
    if (this.checks.get(r.def.id) !== r) return;
    if (!r.busy) {
      r.busy = true;
      let p: Probe;
      try {
        p = await (this.opts.probe ?? probe)(r.def, r.usage);
      } catch (err) {
        p = { state: "unknown", output: `the check failed to run: ${(err as Error).message}` };
      } finally {
        r.busy = false;
      }
      if (this.checks.get(r.def.id) !== r) return;
      this.record(r, p);
    }
    this.schedule(r, r.def.intervalSeconds * 1000);
  }

  private record(r: Running, p: Probe) {
    const previous: CheckState | null = r.last?.state ?? null;
    const streak = previous === p.state ? (r.last?.streak ?? 0) + 1 : 1;
    const result: CheckResult = {
      checkId: r.def.id,
      state: p.state,
      output: p.output.slice(0, 4000),
      metrics: p.metrics,
      streak,
      at: new Date().toISOString(),
    };
    r.last = result;
    const failing = p.state !== "ok";
    const send = failing || previous !== p.state || r.unsettled;
    if (failing) r.unsettled = true;
    else if (streak >= r.def.passAfter) r.unsettled = false;
    if (send) this.opts.send({ type: "check.results", summary: false, results: [result] });
  }

  private summary() {
    const results = [...this.checks.values()].flatMap((r) => (r.last ? [r.last] : []));
    const patch = this.patch;
    this.patch = null;
    if (results.length || patch)
      this.opts.send({ type: "check.results", summary: true, results, ...(patch ? { patch } : {}) });
  }
}

function probe(def: CheckDefinition, usage: WindowedUsage): Promise<Probe> {
  const c = def.config;
  switch (c.kind) {
    case "service":
      return serviceProbe(c);
    case "process":
      return processProbe(c);
    case "disk":
      return diskProbe(c);
    case "cpu":
    case "memory":
      return Promise.resolve(usage.probe(c.kind, c));
    case "ping":
      return pingProbe(c);
    case "tcp":
      return tcpProbe(c);
    case "http":
      return httpProbe(c);
    case "script":
      return scriptProbe(c);
    case "reboot":
      return rebootProbe(c);
    case "updates":
      return updatesProbe(c);
    case "log":
      return logProbe(c);
    case "backup":
      return backupProbe(c);
  }
}
