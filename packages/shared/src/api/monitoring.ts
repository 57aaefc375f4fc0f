import { z } from "zod";
import { CheckConfig, CheckKind, CheckState } from "../agent/checks.ts";
import { ScriptInterpreter, ServiceName } from "../agent/commands.ts";
import { Id, Timestamp, Versioned } from "./common.ts";

export const AlertSeverity = z.enum(["critical", "high", "medium", "low"]);
export type AlertSeverity = z.infer<typeof AlertSeverity>;
export const AlertState = z.enum(["pending", "firing", "resolved"]);

export const AlertDto = z.object({
  id: Id,
  number: z.number().int(),
  clientId: Id,
  clientName: z.string(),
  siteId: Id.nullable(),
  siteName: z.string().nullable(),
  deviceId: Id,
  hostname: z.string(),
  checkId: Id.nullable(),
  /** "offline" (the server's presence check) or the check's kind. */
  kind: z.string(),
  name: z.string(),
  severity: AlertSeverity,
  state: AlertState,
  output: z.string(),
  failCount: z.number().int(),
  flaps: z.number().int(),
  firstFailedAt: Timestamp,
  firedAt: Timestamp.nullable(),
  resolvedAt: Timestamp.nullable(),
  resolution: z.string().nullable(),
  acknowledgedAt: Timestamp.nullable(),
  acknowledgedBy: z.string().nullable(),
  snoozedUntil: Timestamp.nullable(),
  incidentId: Id.nullable(),
  ticket: z.object({ id: Id, number: z.number().int(), priority: z.number().int() }).nullable(),
  /** The service a restart would act on (a service check's), when there is one. */
  service: z.string().nullable(),
  remediation: z
    .object({
      commandId: Id,
      /** service.restart or script.run. */
      kind: z.string(),
      status: z.string(),
      error: z.string().nullable(),
      exitCode: z.number().int().nullable(),
    })
    .nullable(),
  version: z.number().int(),
});
export type AlertDto = z.infer<typeof AlertDto>;

export const AlertListQuery = z.object({
  state: z.enum(["open", "resolved", "all"]).default("open"),
  clientId: Id.optional(),
  siteId: Id.optional(),
  deviceId: Id.optional(),
  severity: AlertSeverity.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});
export const AlertList = z.object({ items: z.array(AlertDto) });

export const SnoozeAlertRequest = Versioned.extend({
  minutes: z
    .number()
    .int()
    .min(5)
    .max(7 * 24 * 60),
});
export const ResolveAlertRequest = Versioned.extend({ note: z.string().trim().max(2000).default("") });
export const AcknowledgeAlertRequest = Versioned;
export const RestartServiceRequest = z.object({
  /** Defaults to the service the alert's check watches. */
  service: ServiceName.optional(),
});

/** What a check tries once when its alert fires. */
export const CheckRemediation = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("service.restart"), name: ServiceName }),
  z.object({
    kind: z.literal("script.run"),
    interpreter: ScriptInterpreter,
    script: z
      .string()
      .min(1)
      .max(64 * 1024),
    timeoutSeconds: z.number().int().min(1).max(3600).default(120),
  }),
]);
export type CheckRemediation = z.output<typeof CheckRemediation>;

export const CheckInput = z.object({
  /** A check of this policy to keep (its alerts and history stay); omitted: a new check. */
  id: Id.optional(),
  name: z.string().trim().min(1).max(200),
  config: CheckConfig,
  intervalSeconds: z.number().int().min(5).max(86_400).default(60),
  severity: AlertSeverity.default("high"),
  failAfter: z.number().int().min(1).max(100).default(2),
  passAfter: z.number().int().min(1).max(100).default(1),
  /** false: switches off an inherited check of the same kind and name (an exclusion). */
  enabled: z.boolean().default(true),
  /** Tried once when the alert fires: restart a service, or run a script (signed like every command). */
  remediation: CheckRemediation.nullable().default(null),
  /**
   * A ping, TCP or HTTP check may watch a site's connection (its router or internet line): when it fires,
   * the site's outage is one incident and one P1 at once, and the site's devices that drop join it.
   */
  uplinkSiteId: Id.nullable().default(null),
});
export type CheckInput = z.input<typeof CheckInput>;
export const CheckDto = z.object({
  id: Id,
  kind: CheckKind,
  name: z.string(),
  config: CheckConfig,
  intervalSeconds: z.number().int(),
  severity: AlertSeverity,
  failAfter: z.number().int(),
  passAfter: z.number().int(),
  enabled: z.boolean(),
  remediation: CheckRemediation.nullable(),
  /** The site whose connection this check watches, if it does. */
  uplink: z.object({ siteId: Id, siteName: z.string(), clientId: Id, clientName: z.string() }).nullable(),
});
export type CheckDto = z.infer<typeof CheckDto>;

/** A device tag: stored lowercase; letters, digits and . _ - (starting with a letter or digit). */
export const DeviceTag = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, "a tag cannot be empty")
  .max(40, "a tag has at most 40 characters")
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "use letters, digits, '.', '_' and '-', starting with a letter or digit");
export const MAX_DEVICE_TAGS = 20;
export const UpdateDeviceTagsRequest = z.object({
  /** The whole set (duplicates after lowercasing are kept once). */
  tags: z
    .array(DeviceTag)
    .max(MAX_DEVICE_TAGS, `a device has at most ${MAX_DEVICE_TAGS} tags`)
    .transform((t) => [...new Set(t)].sort()),
});
export const DeviceTagsDto = z.object({ deviceId: Id, tags: z.array(z.string()) });

export const PolicyScope = z.object({
  /** All null: the MSP default for every device. */
  clientId: Id.nullable().default(null),
  siteId: Id.nullable().default(null),
  deviceId: Id.nullable().default(null),
  /**
   * The devices carrying this tag (every client's, or with clientId that client's only); no site or
   * device with it. In inheritance a tag policy sits after the site's and before the device's own.
   */
  tag: DeviceTag.nullable().default(null),
});
export const CreatePolicyRequest = PolicyScope.extend({
  name: z.string().trim().min(1).max(200),
  enabled: z.boolean().default(true),
  checks: z.array(CheckInput).max(100).default([]),
});
export type CreatePolicyRequest = z.input<typeof CreatePolicyRequest>;
export const UpdatePolicyRequest = Versioned.extend({
  name: z.string().trim().min(1).max(200),
  enabled: z.boolean(),
  /** The whole set: checks not listed are removed (their open alerts resolve). */
  checks: z.array(CheckInput).max(100),
});
export const PolicyDto = z.object({
  id: Id,
  name: z.string(),
  enabled: z.boolean(),
  clientId: Id.nullable(),
  clientName: z.string().nullable(),
  siteId: Id.nullable(),
  siteName: z.string().nullable(),
  deviceId: Id.nullable(),
  hostname: z.string().nullable(),
  tag: z.string().nullable(),
  checks: z.array(CheckDto),
  version: z.number().int(),
});
export type PolicyDto = z.infer<typeof PolicyDto>;
export const PolicyList = z.object({ items: z.array(PolicyDto) });

export const DeviceCheckDto = z.object({
  check: CheckDto,
  policyName: z.string(),
  state: CheckState.nullable(),
  output: z.string(),
  metrics: z.record(z.string(), z.number()).nullable(),
  changedAt: Timestamp.nullable(),
  reportedAt: Timestamp.nullable(),
});
export const DeviceMonitoringDto = z.object({
  deviceId: Id,
  online: z.boolean(),
  checks: z.array(DeviceCheckDto),
  alerts: z.array(AlertDto),
});
export type DeviceMonitoringDto = z.infer<typeof DeviceMonitoringDto>;

export const CreateMaintenanceRequest = z
  .object({
    clientId: Id,
    siteId: Id.nullable().default(null),
    deviceId: Id.nullable().default(null),
    startsAt: Timestamp,
    endsAt: Timestamp,
    reason: z.string().trim().max(500).default(""),
  })
  .refine((v) => Date.parse(v.endsAt) > Date.parse(v.startsAt), {
    path: ["endsAt"],
    error: "must be after startsAt",
  });
export const MaintenanceDto = z.object({
  id: Id,
  clientId: Id,
  siteId: Id.nullable(),
  deviceId: Id.nullable(),
  startsAt: Timestamp,
  endsAt: Timestamp,
  reason: z.string(),
});
export type MaintenanceDto = z.infer<typeof MaintenanceDto>;
/**
 * A recurring window: starts at each time of a five-field cron (one minute of the hour: `0 2 * * 0` is
 * Sundays 02:00), lasts `durationMinutes`, read in the site's time zone (the device's site's, else the
 * MSP's), until an optional last day.
 */
export const CreateMaintenanceSeriesRequest = z.object({
  clientId: Id,
  siteId: Id.nullable().default(null),
  deviceId: Id.nullable().default(null),
  cron: z.string().trim().min(9).max(200),
  durationMinutes: z
    .number()
    .int()
    .min(5)
    .max(7 * 24 * 60),
  until: z.iso.date().nullable().default(null),
  reason: z.string().trim().max(500).default(""),
});
export type CreateMaintenanceSeries = z.input<typeof CreateMaintenanceSeriesRequest>;
export const MaintenanceSeriesDto = z.object({
  id: Id,
  clientId: Id,
  siteId: Id.nullable(),
  deviceId: Id.nullable(),
  cron: z.string(),
  durationMinutes: z.number().int(),
  timeZone: z.string(),
  until: z.string().nullable(),
  reason: z.string(),
  /** The window in force now, or the next one (null once past `until`). */
  next: z.object({ startsAt: Timestamp, endsAt: Timestamp, now: z.boolean() }).nullable(),
});
export type MaintenanceSeriesDto = z.infer<typeof MaintenanceSeriesDto>;
export const MaintenanceList = z.object({
  /** One-off windows now or coming. */
  items: z.array(MaintenanceDto),
  /** Recurring windows. */
  series: z.array(MaintenanceSeriesDto).default([]),
});
export const MaintenanceQuery = z.object({ clientId: Id.optional() });

/** What an alert is about: a check's kind, "offline" (the server's presence check) or "task". */
export const AlertKind = z.enum([...CheckKind.options, "offline", "task"]);
export type AlertKind = z.infer<typeof AlertKind>;
/** When a rule applies, judged on a business-hours calendar in its time zone (holidays are outside). */
export const BusinessHoursCondition = z.enum(["any", "during", "outside"]);

const TicketRuleFields = z.object({
  name: z.string().trim().max(200).default(""),
  /** Conditions: alerts of this severity or worse... */
  minSeverity: AlertSeverity.default("low"),
  /** ...of these kinds (empty: any)... */
  checkKinds: z
    .array(AlertKind)
    .max(20)
    .default([])
    .transform((k) => [...new Set(k)]),
  /** ...at these hours, on this SLA calendar (null: the alert's client's SLA calendar). */
  businessHours: BusinessHoursCondition.default("any"),
  calendarId: Id.nullable().default(null),
  /** Actions: false keeps the alert on the Alerts page with no ticket. */
  openTicket: z.boolean().default(true),
  /** null: from the severity (critical = P1). */
  priority: z.number().int().min(1).max(4).nullable().default(null),
  teamId: Id.nullable().default(null),
  assigneeId: Id.nullable().default(null),
  /** false: recovery notes the ticket and leaves it for a technician to close. */
  resolveOnRecovery: z.boolean().default(true),
});
/**
 * A ticket rule, appended to its list: a client's rules are tried first, then the MSP's (clientId null),
 * in order; the first that matches decides; none: every alert opens an unassigned ticket.
 */
export const CreateTicketRuleRequest = TicketRuleFields.extend({ clientId: Id.nullable() });
export const UpdateTicketRuleRequest = TicketRuleFields.extend(Versioned.shape);
/** The new order of one list (a client's, or the MSP's with clientId null): every rule of it, once. */
export const ReorderTicketRulesRequest = z.object({
  clientId: Id.nullable(),
  ids: z.array(Id).max(500),
});
export const TicketRuleDto = z.object({
  id: Id,
  clientId: Id.nullable(),
  position: z.number().int(),
  name: z.string(),
  minSeverity: AlertSeverity,
  checkKinds: z.array(AlertKind),
  businessHours: BusinessHoursCondition,
  calendarId: Id.nullable(),
  openTicket: z.boolean(),
  priority: z.number().int().nullable(),
  teamId: Id.nullable(),
  assigneeId: Id.nullable(),
  resolveOnRecovery: z.boolean(),
  version: z.number().int(),
});
export type TicketRuleDto = z.infer<typeof TicketRuleDto>;
export const TicketRuleList = z.object({ items: z.array(TicketRuleDto) });

export const MetricHistoryQuery = z.object({
  hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(48),
});
export const MetricPoint = z.object({
  checkId: Id,
  hour: Timestamp,
  /** Each metric's average over the hour. */
  values: z.record(z.string(), z.number()),
});
export type MetricPoint = z.infer<typeof MetricPoint>;
export const MetricHistory = z.object({ items: z.array(MetricPoint) });

/** A scheduled task of a policy: a script run by the agents of the policy's devices on a cron schedule. */
export const TaskInput = z.object({
  name: z.string().trim().min(1).max(200),
  interpreter: ScriptInterpreter,
  script: z
    .string()
    .min(1)
    .max(64 * 1024),
  /** Five fields (minute hour day-of-month month day-of-week), in each device's site time zone. */
  cron: z.string().trim().min(9).max(200),
  timeoutSeconds: z.number().int().min(1).max(86_400).default(300),
  /** A failing run (non-zero exit or timeout) opens an alert of this severity on (device, task). */
  severity: AlertSeverity.default("medium"),
  /** A device offline at the due time runs it once when it reconnects (else the run is recorded missed). */
  runMissed: z.boolean().default(false),
  enabled: z.boolean().default(true),
});
export const CreateTaskRequest = TaskInput;
export type CreateTaskRequest = z.input<typeof CreateTaskRequest>;
export const UpdateTaskRequest = Versioned.extend(TaskInput.shape);
export type UpdateTaskRequest = z.input<typeof UpdateTaskRequest>;
export const TaskDto = z.object({
  id: Id,
  policyId: Id,
  name: z.string(),
  interpreter: ScriptInterpreter,
  script: z.string(),
  cron: z.string(),
  timeoutSeconds: z.number().int(),
  severity: AlertSeverity,
  runMissed: z.boolean(),
  enabled: z.boolean(),
  version: z.number().int(),
});
export type TaskDto = z.infer<typeof TaskDto>;
export const TaskList = z.object({ items: z.array(TaskDto) });
export const TaskRunStatus = z.enum([
  "queued",
  "sent",
  "succeeded",
  "failed",
  "timed_out",
  "missed",
  "skipped",
]);
export const TaskRunDto = z.object({
  id: Id,
  taskId: Id,
  taskName: z.string(),
  dueAt: Timestamp,
  status: TaskRunStatus,
  exitCode: z.number().int().nullable(),
  output: z.string(),
  finishedAt: Timestamp.nullable(),
  commandId: Id.nullable(),
});
export type TaskRunDto = z.infer<typeof TaskRunDto>;
export const TaskRunList = z.object({ items: z.array(TaskRunDto) });

/** Missing security updates by the OS's rating; "unrated" where it gives none (apt). */
export const PatchSeverityCounts = z.object({
  critical: z.number().int(),
  important: z.number().int(),
  moderate: z.number().int(),
  low: z.number().int(),
  unrated: z.number().int(),
});
export const PatchUpdateDto = z.object({
  name: z.string(),
  current: z.string().nullable(),
  available: z.string().nullable(),
  security: z.boolean(),
  severity: z.string().nullable(),
  releasedAt: Timestamp.nullable(),
  /** When the server first saw it missing on this device. */
  firstSeenAt: Timestamp,
});
export const DevicePatchStatusDto = z.object({
  deviceId: Id,
  /** null: the agent has not reported a patch scan yet. */
  status: z
    .object({
      source: z.string().nullable(),
      missing: z.number().int(),
      security: z.number().int(),
      bySeverity: PatchSeverityCounts,
      oldestMissingAt: Timestamp.nullable(),
      oldestSecurityAt: Timestamp.nullable(),
      rebootPending: z.boolean(),
      rebootSince: Timestamp.nullable(),
      lastInstallAt: Timestamp.nullable(),
      scanError: z.string().nullable(),
      collectedAt: Timestamp,
      updates: z.array(PatchUpdateDto),
    })
    .nullable(),
});
export type DevicePatchStatusDto = z.infer<typeof DevicePatchStatusDto>;

export const ClientHealthDto = z.object({
  clientId: Id,
  openAlerts: z.object({
    critical: z.number().int(),
    high: z.number().int(),
    medium: z.number().int(),
    low: z.number().int(),
  }),
  patch: z.object({
    devices: z.number().int(),
    /** Devices whose agent reported a patch scan. */
    reporting: z.number().int(),
    devicesMissingSecurity: z.number().int(),
    missing: z.number().int(),
    security: z.number().int(),
    bySeverity: PatchSeverityCounts,
    oldestSecurityAt: Timestamp.nullable(),
    /** The device that has gone longest without a successful install, and the latest install anywhere. */
    oldestLastInstallAt: Timestamp.nullable(),
    lastInstallAt: Timestamp.nullable(),
    rebootPending: z.number().int(),
    scanErrors: z.number().int(),
  }),
});
export type ClientHealthDto = z.infer<typeof ClientHealthDto>;

/**
 * Approve and install now: the updates named (as the device's patch status lists them), every missing
 * security update, or every missing update. Only what the device reported missing can be approved.
 */
export const InstallUpdatesRequest = z
  .object({
    select: z.enum(["updates", "security", "all"]),
    updates: z.array(z.string().min(1).max(500)).max(500).optional(),
  })
  .refine((r) => r.select !== "updates" || (r.updates?.length ?? 0) > 0, {
    error: "name at least one update when select is updates",
    path: ["updates"],
  });
export type InstallUpdatesRequest = z.infer<typeof InstallUpdatesRequest>;

export const PatchInstallStatus = z.enum(["queued", "running", "done", "failed", "partial"]);
export const PatchInstallItemStatus = z.enum(["pending", "installed", "failed", "not_applicable"]);
export const PatchInstallItemDto = z.object({
  /** The update as the patch status lists it (a package, a Windows Update title). */
  name: z.string(),
  /** What the agent installs: the package, or the KB id. */
  target: z.string(),
  security: z.boolean(),
  severity: z.string().nullable(),
  status: PatchInstallItemStatus,
  versionFrom: z.string().nullable(),
  versionTo: z.string().nullable(),
  error: z.string().nullable(),
});
export const PatchInstallRunDto = z.object({
  id: Id,
  deviceId: Id,
  status: PatchInstallStatus,
  /** manual: a technician approved it; auto: the client's auto-approval of security updates. */
  trigger: z.enum(["manual", "auto"]),
  requestedBy: z.string(),
  rebootRequired: z.boolean().nullable(),
  /** Why the run failed as a whole (offline, no answer, refused, no package manager). */
  error: z.string().nullable(),
  retryOf: Id.nullable(),
  commandId: Id.nullable(),
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
  items: z.array(PatchInstallItemDto),
});
export type PatchInstallRunDto = z.infer<typeof PatchInstallRunDto>;
export const PatchInstallRunList = z.object({ items: z.array(PatchInstallRunDto) });

const ClockTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: "must be a time of day, HH:MM (24 h)" });
/** In each device's site time zone; `end` before `start` runs past midnight (22:00-04:00). */
export const InstallWindow = z
  .object({ start: ClockTime, end: ClockTime })
  .refine((w) => w.start !== w.end, { error: "must end at another time than it starts", path: ["end"] });

/**
 * A client's patch approval: security updates a scan reports are approved automatically and installed
 * at once, or (with a window) the next time the window is open in the device's site time zone.
 */
export const PatchSettingsDto = z.object({
  clientId: Id,
  autoInstallSecurity: z.boolean(),
  installWindow: z.object({ start: z.string(), end: z.string() }).nullable(),
  updatedAt: Timestamp.nullable(),
  updatedBy: z.string().nullable(),
});
export type PatchSettingsDto = z.infer<typeof PatchSettingsDto>;
export const UpdatePatchSettingsRequest = z.object({
  autoInstallSecurity: z.boolean(),
  installWindow: InstallWindow.nullable().default(null),
});
export type UpdatePatchSettingsRequest = z.infer<typeof UpdatePatchSettingsRequest>;
