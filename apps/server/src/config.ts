import path from "node:path";
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const roles = z
  .string()
  .transform((v) => v.split(",").map((r) => r.trim()))
  .pipe(z.array(z.enum(["api", "worker", "gateway"])).min(1));

const key32 = z
  .string()
  .refine((v) => /^[A-Za-z0-9+/=_-]+$/.test(v) && Buffer.from(v, "base64").length === 32, {
    error: "must be 32 bytes, base64-encoded (openssl rand -base64 32)",
  });

/** Every setting Switchboard reads from the environment. A bad value stops the server with its name. */
export const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default("0.0.0.0"),
  SWITCHBOARD_DATA_DIR: z.string().min(1).default("./data"),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  /** The login role requests use (row-level security applies to it); unset, `<db>_app` is created. */
  DATABASE_APP_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  SWITCHBOARD_EMBEDDED_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),
  DB_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SWITCHBOARD_ROLES: roles.default(["api", "worker", "gateway"]),
  NATS_URL: z.url({ protocol: /^(nats|tls)$/ }).optional(),
  SWITCHBOARD_ADMIN_EMAIL: z.email().optional(),
  SWITCHBOARD_ADMIN_PASSWORD: z.string().min(12).optional(),
  SWITCHBOARD_MSP_NAME: z.string().min(1).max(200).default("My MSP"),
  SWITCHBOARD_PUBLIC_URL: z.url().optional(),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).max(1000).default(5),
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(30),
  SESSION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(12),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  ATTACHMENT_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(25 * 1024 * 1024),
  /** Twilio-compatible Messages API (verification codes, pages); SMS is off until the three below are set. */
  SMS_API_URL: z.url({ protocol: /^https?$/ }).default("https://api.twilio.com"),
  SMS_ACCOUNT_SID: z.string().min(1).max(200).optional(),
  SMS_AUTH_TOKEN: z.string().min(1).max(500).optional(),
  SMS_FROM: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, { error: "must be a phone number in E.164 form, e.g. +15175550123" })
    .optional(),
  /** When set, GET /metrics needs `Authorization: Bearer <this>`; unset, /metrics is public. */
  METRICS_TOKEN: z.string().min(16, { error: "must be at least 16 characters" }).max(500).optional(),
  TRUST_PROXY: bool.default(false),
  SECURE_COOKIES: bool.optional(),
  // Agent gateway. An agent is marked offline after AGENT_OFFLINE_AFTER_MISSED heartbeats go missing.
  AGENT_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  AGENT_OFFLINE_AFTER_MISSED: z.coerce.number().int().min(1).max(100).default(2),
  /** Larger agent frames close that agent's connection (1009). */
  AGENT_MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .min(4096)
    .default(2 * 1024 * 1024),
  /** New agent connections accepted per source address per minute (token bucket, burst of the same size). */
  AGENT_CONNECTS_PER_ADDRESS_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  AGENT_INVENTORY_INTERVAL_SECONDS: z.coerce.number().int().min(10).default(3600),
  /**
   * With a certificate and key (PEM files), the gateway also listens with TLS on AGENT_TLS_PORT, serving
   * the whole API there too (enrollment, downloads) and agent WebSockets as wss://.
   */
  AGENT_TLS_CERT_FILE: z.string().min(1).optional(),
  AGENT_TLS_KEY_FILE: z.string().min(1).optional(),
  AGENT_TLS_PORT: z.coerce.number().int().min(0).max(65535).default(8443),
  /** Encrypts the server's command-signing key at rest in the database; without it the key is stored plain. */
  AGENT_SIGNING_KEY_PASSPHRASE: z.string().min(12).optional(),
  // Email channel. The SMTP listener runs only when SWITCHBOARD_SMTP_PORT is set.
  SWITCHBOARD_SMTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  SWITCHBOARD_SMTP_HOST: z.string().min(1).default("0.0.0.0"),
  /** Recipient domains the listener accepts mail for (comma separated); empty accepts any. */
  SWITCHBOARD_SMTP_DOMAINS: z
    .string()
    .transform((v) =>
      v
        .split(",")
        .map((d) => d.trim().toLowerCase())
        .filter(Boolean),
    )
    .default([]),
  /** Larger messages are refused in the SMTP dialogue (552), so the sending server keeps and bounces them. */
  SWITCHBOARD_SMTP_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(50 * 1024 * 1024),
  /**
   * In-flow delay: while more accepted messages than this wait for processing, the listener answers a
   * new MAIL FROM only once the backlog is below it again (30 s at most). 0 turns it off.
   */
  SWITCHBOARD_SMTP_BACKLOG: z.coerce.number().int().min(0).default(50),
  SWITCHBOARD_SMTP_TLS_CERT: z.string().min(1).optional(),
  SWITCHBOARD_SMTP_TLS_KEY: z.string().min(1).optional(),
  /** Accepted messages larger than this are stored but go to quarantine instead of a ticket. */
  SWITCHBOARD_EMAIL_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(25 * 1024 * 1024),
  /** Inbound messages per sender per hour before the rest wait in quarantine (mail-loop brake). */
  SWITCHBOARD_EMAIL_RATE_LIMIT: z.coerce.number().int().min(1).default(30),
  /** 32 bytes, base64: encrypts mailbox passwords. Without it a key file is generated in the data dir. */
  SWITCHBOARD_EMAIL_KEY: z
    .string()
    .refine((v) => Buffer.from(v, "base64").length === 32, { error: "must be 32 bytes, base64-encoded" })
    .optional(),
  /** Outbound relay for mailboxes without their own SMTP settings, e.g. smtp://user:pass@relay:587. */
  SWITCHBOARD_SMTP_RELAY_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  /** From address when neither the mailbox nor the client settings give one. */
  SWITCHBOARD_EMAIL_FROM: z.email().optional(),
  SWITCHBOARD_IMAP_ENABLED: bool.default(true),
  /**
   * The vault's key-encryption key (32 bytes, base64): wraps each client's data key. Unset, a key file is
   * generated in the data dir (vault.key). It also derives the key that signs rating links.
   */
  SWITCHBOARD_VAULT_KEK: key32.optional(),
  /** Earlier KEKs (comma-separated, base64): still open what they wrapped until `vault rotate` re-wraps it. */
  SWITCHBOARD_VAULT_PREVIOUS_KEKS: z
    .string()
    .transform((v) =>
      v
        .split(",")
        .map((k) => k.trim())
        .filter(Boolean),
    )
    .pipe(z.array(key32))
    .default([]),
  /** Minutes a re-entered password lets a technician reveal vault secrets. */
  VAULT_STEP_UP_MINUTES: z.coerce.number().int().min(1).max(60).default(5),
  /** How long a portal sign-in lasts (1-2160 hours). */
  PORTAL_SESSION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(24 * 7),
  /** How long an emailed portal sign-in link works. */
  PORTAL_LINK_TTL_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  // Remote access (shells, files, attended support sessions).
  /** A shell's asciicast recording stops (with a marker) past this size. */
  REMOTE_RECORDING_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .default(20 * 1024 * 1024),
  /** Largest file uploaded to or downloaded from a device. */
  REMOTE_FILE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(100 * 1024 * 1024),
  /** How long a support session's 6-digit code may be entered (and the window of the guess limits). */
  SUPPORT_CODE_TTL_MINUTES: z.coerce.number().int().min(1).max(10).default(10),
  /** Wrong codes from one address per code lifetime before that address must wait. */
  SUPPORT_JOIN_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(99).default(10),
  /**
   * STUN/TURN servers for screen sharing, as JSON (RTCIceServer[]), e.g.
   * [{"urls":"stun:stun.example.com:3478"},{"urls":"turn:turn.example.com","username":"u","credential":"p"}].
   * Empty: direct connections only (enough on one network).
   */
  REMOTE_ICE_SERVERS: z
    .string()
    .transform((v, ctx) => {
      try {
        return z
          .array(
            z.object({
              urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
              username: z.string().optional(),
              credential: z.string().optional(),
            }),
          )
          .parse(JSON.parse(v));
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a JSON array of {urls, username?, credential?}" });
        return z.NEVER;
      }
    })
    .default([]),
  // Monitoring (domains/monitoring). Device offline alerts come from the gateways' presence.
  /** A device silent this long (after the gateway marked it offline) gets an offline alert. */
  MONITORING_OFFLINE_GRACE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(120),
  /** Back online (or a check passing) this long before an offline alert resolves: flapping stays one alert. */
  MONITORING_RECOVER_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  /** An offline alert waits this long for other devices of its site before opening a ticket of its own. */
  MONITORING_CORRELATION_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  /** A site outage: at least this many devices of one site offline... */
  MONITORING_SITE_MIN_OFFLINE: z.coerce.number().int().min(1).max(10_000).default(2),
  /** ...and at least this percentage of its devices. */
  MONITORING_SITE_OFFLINE_PERCENT: z.coerce.number().int().min(1).max(100).default(50),
  /** An alert failing again this soon after it resolved reopens, with its ticket, instead of a new one. */
  MONITORING_REOPEN_SECONDS: z.coerce.number().int().min(0).max(86_400).default(900),
  /** The same check firing on more devices within this many seconds joins the first one's ticket. */
  MONITORING_GROUP_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  /** Days of hourly metric history kept for the device charts. */
  MONITORING_METRIC_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** How often a worker runs the monitoring sweep (offline detection, correlation, tickets). */
  MONITORING_SWEEP_SECONDS: z.coerce.number().int().min(1).max(300).default(5),
  /** How often agents send the compact summary of every check (state changes are sent at once). */
  MONITORING_SUMMARY_SECONDS: z.coerce.number().int().min(10).max(86_400).default(300),
});

export type Config = z.output<typeof ConfigSchema> & { dataDir: string };

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError naming every bad variable and what it expected. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== "") input[key] = value;
  }
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${String(i.path[0])}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  if (parsed.data.SWITCHBOARD_ADMIN_EMAIL && !parsed.data.SWITCHBOARD_ADMIN_PASSWORD) {
    throw new ConfigError(
      "Invalid configuration:\n  SWITCHBOARD_ADMIN_PASSWORD: required (12+ characters) when SWITCHBOARD_ADMIN_EMAIL is set",
    );
  }
  return { ...parsed.data, dataDir: path.resolve(parsed.data.SWITCHBOARD_DATA_DIR) };
}
