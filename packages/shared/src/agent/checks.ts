import { z } from "zod";
import { ScriptInterpreter, ServiceName } from "./commands.ts";

/**
 * Monitoring checks as the agent runs them. The server pushes the device's checks in one signed
 * `checks` frame (after the welcome and whenever a policy changes); the agent runs each on its interval
 * and reports results: at once when the state changes, every run while the check is failing or still
 * recovering, and in a compact periodic summary (the latest state and numbers of every check).
 */
export const CheckState = z.enum(["ok", "warning", "critical", "unknown"]);
export type CheckState = z.infer<typeof CheckState>;

const Host = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:_-]+$/, { error: "must be a host name or address" });
const Percent = z.number().min(0).max(100);
/** A volume's mount point or drive ("/", "/var", "C:"): no shell syntax. */
const Volume = z
  .string()
  .min(1)
  .max(260)
  .regex(/^[A-Za-z0-9/\\:._ -]+$/, { error: "must be a mount point or drive letter" });

/** A unit, path or event log name: printable, no shell or PowerShell syntax. */
const LogTarget = z
  .string()
  .min(1)
  .max(500)
  .regex(/^[A-Za-z0-9/\\:._@ -]+$/, { error: "must be a unit, path or log name without special characters" });

export const CheckConfig = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("service"), service: ServiceName }),
  z.object({
    kind: z.literal("process"),
    /** The executable's name, compared without case and without ".exe". */
    process: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^/\\\0]+$/, { error: "must be a process name, not a path" }),
  }),
  z.object({
    kind: z.literal("disk"),
    volume: Volume,
    /** Failing when free space falls under either threshold. */
    minFreePercent: Percent.optional(),
    minFreeGb: z.number().min(0).max(1_000_000).optional(),
  }),
  z.object({
    kind: z.literal("cpu"),
    maxPercent: Percent,
    /** Failing only when the average over this window is above the threshold. */
    windowSeconds: z.number().int().min(10).max(3600).default(300),
  }),
  z.object({
    kind: z.literal("memory"),
    maxPercent: Percent,
    windowSeconds: z.number().int().min(10).max(3600).default(300),
  }),
  z.object({
    kind: z.literal("ping"),
    host: Host,
    timeoutMs: z.number().int().min(100).max(30_000).default(3000),
  }),
  z.object({
    kind: z.literal("tcp"),
    host: Host,
    port: z.number().int().min(1).max(65_535),
    timeoutMs: z.number().int().min(100).max(30_000).default(3000),
  }),
  z.object({
    kind: z.literal("http"),
    url: z.url({ protocol: /^https?$/ }).max(2000),
    expectStatus: z.number().int().min(100).max(599).optional(),
    /** Plain text the body must contain (no regular expressions: nothing a pattern can hang on). */
    bodyContains: z.string().max(500).optional(),
    /** HTTPS: warning when the certificate expires within this many days. */
    minCertDays: z.number().int().min(0).max(3650).optional(),
    timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  }),
  z.object({
    kind: z.literal("script"),
    interpreter: ScriptInterpreter,
    script: z
      .string()
      .min(1)
      .max(16 * 1024),
    /** Exit 0 ok, 1 warning, 2 critical, anything else unknown (the Nagios convention). */
    timeoutSeconds: z.number().int().min(1).max(600).default(60),
  }),
  z.object({
    kind: z.literal("reboot"),
    /** Failing once a reboot has been pending longer than this (0: as soon as one is pending). */
    graceHours: z
      .number()
      .int()
      .min(0)
      .max(24 * 90)
      .default(0),
  }),
  z.object({
    kind: z.literal("updates"),
    /** Critical when more security updates than this are missing. */
    maxSecurity: z.number().int().min(0).max(10_000).default(0),
    /** Warning when more updates of any kind than this are missing. */
    maxTotal: z.number().int().min(0).max(10_000).optional(),
    /** Critical when a missing security update is older than this (released, or first seen missing). */
    maxAgeDays: z.number().int().min(1).max(3650).optional(),
  }),
  z
    .object({
      kind: z.literal("log"),
      /** journald (optionally one unit), a text file tailed between runs, or a Windows event log. */
      source: z.enum(["journal", "file", "eventlog"]),
      /** journal: a systemd unit; file: an absolute path; eventlog: a log name (System, Application). */
      target: LogTarget.optional(),
      /** Plain text, matched without case (no regular expressions: nothing a pattern can hang on). */
      contains: z.string().min(1).max(500),
      /** Failing when more lines than this match within the window (file: since the previous run). */
      maxMatches: z.number().int().min(0).max(100_000).default(0),
      windowMinutes: z.number().int().min(1).max(1440).default(15),
    })
    .superRefine((c, ctx) => {
      if (c.source !== "journal" && !c.target)
        ctx.addIssue({ code: "custom", path: ["target"], message: `a ${c.source} check needs a target` });
      if (c.source === "file" && c.target && !/^(\/|[A-Za-z]:[\\/])/.test(c.target))
        ctx.addIssue({ code: "custom", path: ["target"], message: "must be an absolute path" });
    }),
  z.object({
    kind: z.literal("backup"),
    /** A backup file or marker, or a directory: the newest entry directly inside it counts. */
    path: LogTarget,
    maxAgeHours: z
      .number()
      .min(0.1)
      .max(24 * 365),
  }),
]);
export type CheckConfig = z.infer<typeof CheckConfig>;
export type CheckConfigInput = z.input<typeof CheckConfig>;
export const CheckKind = z.enum([
  "service",
  "process",
  "disk",
  "cpu",
  "memory",
  "ping",
  "tcp",
  "http",
  "script",
  "reboot",
  "updates",
  "log",
  "backup",
]);
export type CheckKind = z.infer<typeof CheckKind>;

export const CheckDefinition = z.object({
  id: z.uuid(),
  name: z.string().max(200),
  intervalSeconds: z.number().int().min(5).max(86_400),
  /** The agent keeps reporting each result until this many passes in a row (the server resolves on them). */
  passAfter: z.number().int().min(1).max(100),
  config: CheckConfig,
});
export type CheckDefinition = z.infer<typeof CheckDefinition>;

/** What the server signs: the whole set of the device's checks, replacing the previous one. */
export const ChecksPayload = z.object({
  v: z.literal(1),
  deviceId: z.uuid(),
  issuedAt: z.iso.datetime({ offset: true }),
  /** Seconds between compact summaries. */
  summarySeconds: z.number().int().min(10).max(86_400),
  checks: z.array(CheckDefinition).max(200),
});
export type ChecksPayload = z.infer<typeof ChecksPayload>;
export const checksMessage = (payload: string) => `switchboard/checks/v1\n${payload}`;

export const ChecksFrame = z.object({
  type: z.literal("checks"),
  /** JSON of ChecksPayload, exactly as signed. */
  payload: z.string().max(512 * 1024),
  signature: z.string().max(200),
});

const MetricName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/);
export const CheckResult = z.object({
  checkId: z.uuid(),
  state: CheckState,
  output: z.string().max(4000),
  /** Numbers the check measured (free_percent, latency_ms, a script's name=value lines). */
  metrics: z.record(MetricName, z.number().finite()).optional(),
  /** Results in a row in this state, counted by the agent. */
  streak: z.number().int().min(1),
  at: z.iso.datetime({ offset: true }),
});
export type CheckResult = z.infer<typeof CheckResult>;

/** One missing OS update as the agent found it. */
export const MissingUpdate = z.object({
  name: z.string().min(1).max(500),
  current: z.string().max(200).optional(),
  available: z.string().max(200).optional(),
  security: z.boolean(),
  /** Where the OS rates it (dnf, Windows MSRC): critical, important, moderate, low. */
  severity: z.string().max(30).optional(),
  /** Where the OS dates it (Windows Update). */
  releasedAt: z.iso.datetime({ offset: true }).optional(),
});
export type MissingUpdate = z.infer<typeof MissingUpdate>;

/** The device's patch status, scanned every few hours and carried by the next periodic summary. */
export const PatchReport = z.object({
  source: z.enum(["apt", "dnf", "windows_update"]).nullable(),
  updates: z.array(MissingUpdate).max(2000),
  rebootPending: z.boolean(),
  rebootSince: z.iso.datetime({ offset: true }).nullable(),
  /** When updates were last installed successfully (the package manager's history), if known. */
  lastInstallAt: z.iso.datetime({ offset: true }).nullable(),
  collectedAt: z.iso.datetime({ offset: true }),
  /** Why the scan failed: shown on the device, the previous list kept. */
  error: z.string().max(1000).optional(),
});
export type PatchReport = z.infer<typeof PatchReport>;

export const CheckResultsFrame = z.object({
  type: z.literal("check.results"),
  /** true: the periodic summary of every check; false: changes and failing results, sent at once. */
  summary: z.boolean(),
  results: z.array(CheckResult).max(200),
  /** On a summary: the patch status when a scan finished since the previous summary. */
  patch: PatchReport.optional(),
});
export type CheckResultsFrame = z.infer<typeof CheckResultsFrame>;
