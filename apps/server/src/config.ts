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
  /** HTTP port for the API, the console and agent connections. */
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Address to listen on. */
  HOST: z.string().min(1).default("0.0.0.0"),
  /** Where the embedded PostgreSQL, attachments and generated keys live. */
  SWITCHBOARD_DATA_DIR: z.string().min(1).default("./data"),
  /**
   * `postgres://` URL of an external PostgreSQL 15+; unset, the embedded one in the data dir is used.
   * @default (embedded)
   */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  /**
   * The login role requests use, which row-level security applies to; unset, `<db>_app` is created with a
   * generated password (see [Data and row-level security](docs/ARCHITECTURE.md#row-level-security)).
   * @default (created)
   */
  DATABASE_APP_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  /**
   * Loopback port of the embedded PostgreSQL. Unset, it listens on 54329, or on the next free port when
   * that one is taken (another instance, another program); set, that port or a clear error.
   * @default `54329`, or the next free port
   */
  SWITCHBOARD_EMBEDDED_PG_PORT: z.coerce.number().int().min(1024).max(65535).optional(),
  /** Connections in the server's pool (2-200). */
  DB_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
  /** `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`. Logs are JSON lines on stdout. */
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Which roles this process runs (see [Running several processes](#running-several-processes)). */
  SWITCHBOARD_ROLES: roles.default(["api", "worker", "gateway"]),
  /**
   * `nats://` URL; lets several gateway processes reach each other's agents. Unset: agents are reachable
   * from the process they are connected to.
   */
  NATS_URL: z.url({ protocol: /^(nats|tls)$/ }).optional(),
  /** With `SWITCHBOARD_ADMIN_PASSWORD`: creates the first admin at start if no user exists. */
  SWITCHBOARD_ADMIN_EMAIL: z.email().optional(),
  /** That admin's password, 12+ characters. Required when `SWITCHBOARD_ADMIN_EMAIL` is set. */
  SWITCHBOARD_ADMIN_PASSWORD: z.string().min(12).optional(),
  /** The MSP's name when the first admin comes from the variables above (or `create-admin`). */
  SWITCHBOARD_MSP_NAME: z.string().min(1).max(200).default("My MSP"),
  /** The URL users and agents reach Switchboard at (behind a proxy). An `https:` URL makes cookies `Secure`. */
  SWITCHBOARD_PUBLIC_URL: z.url().optional(),
  /** Failed sign-ins for one account within 15 minutes before further attempts are refused (429). */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).max(1000).default(5),
  /** Failed sign-ins from one address within 15 minutes before further attempts are refused (429). */
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(30),
  /** How long a console sign-in lasts (1-2160). */
  SESSION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(12),
  /** Largest JSON request body; larger ones get `413`. */
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Largest attachment upload. */
  ATTACHMENT_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(25 * 1024 * 1024),
  /** Twilio-compatible Messages API for text messages (verification codes, pages). */
  SMS_API_URL: z.url({ protocol: /^https?$/ }).default("https://api.twilio.com"),
  /** Account SID for that API; SMS is off until it, `SMS_AUTH_TOKEN` and `SMS_FROM` are set. */
  SMS_ACCOUNT_SID: z.string().min(1).max(200).optional(),
  /** Its auth token (a secret: never logged). */
  SMS_AUTH_TOKEN: z.string().min(1).max(500).optional(),
  /** The sending number, E.164 (`+15175550123`). */
  SMS_FROM: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, { error: "must be a phone number in E.164 form, e.g. +15175550123" })
    .optional(),
  /**
   * When set, `GET /metrics` needs `Authorization: Bearer <token>`; unset, `/metrics` is public (put it
   * behind your proxy).
   */
  METRICS_TOKEN: z.string().min(16, { error: "must be at least 16 characters" }).max(500).optional(),
  /** Trust `X-Forwarded-*` headers (client address for rate limits and audit) when behind a reverse proxy. */
  TRUST_PROXY: bool.default(false),
  /**
   * Force the session cookie's `Secure` flag on or off.
   * @default from `SWITCHBOARD_PUBLIC_URL`
   */
  SECURE_COOKIES: bool.optional(),
  // Agent gateway.
  /** How often agents send a heartbeat (with jitter). */
  AGENT_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** Missed heartbeats after which a device is marked offline. */
  AGENT_OFFLINE_AFTER_MISSED: z.coerce.number().int().min(1).max(100).default(2),
  /** Largest agent message; a bigger one closes that agent's connection (1009). */
  AGENT_MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .min(4096)
    .default(2 * 1024 * 1024),
  /** New agent connections accepted per source address per minute (token bucket, burst of the same size). */
  AGENT_CONNECTS_PER_ADDRESS_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /** How often agents re-check their inventory and send what changed. */
  AGENT_INVENTORY_INTERVAL_SECONDS: z.coerce.number().int().min(10).default(3600),
  /**
   * PEM certificate: with `AGENT_TLS_KEY_FILE`, the gateway also listens with TLS on `AGENT_TLS_PORT`,
   * serving the whole API there too (enrollment, downloads) and agent WebSockets as `wss://`.
   */
  AGENT_TLS_CERT_FILE: z.string().min(1).optional(),
  /** PEM private key for that TLS listener. */
  AGENT_TLS_KEY_FILE: z.string().min(1).optional(),
  /** Port of the agents' TLS listener. */
  AGENT_TLS_PORT: z.coerce.number().int().min(0).max(65535).default(8443),
  /**
   * Encrypts the server's command-signing key at rest in the database (12+ characters); without it the key
   * is stored unencrypted.
   */
  AGENT_SIGNING_KEY_PASSPHRASE: z.string().min(12).optional(),
  // Email channel.
  /** Port of the built-in SMTP listener for inbound mail; unset, it does not run. */
  SWITCHBOARD_SMTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Address the SMTP listener binds to. */
  SWITCHBOARD_SMTP_HOST: z.string().min(1).default("0.0.0.0"),
  /**
   * Comma-separated recipient domains the listener accepts mail for.
   * @default (any)
   */
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
   * In-flow delay: while more accepted messages than this wait for processing, new mail transactions wait
   * (up to 30 s) before MAIL FROM is answered. `0` turns it off.
   */
  SWITCHBOARD_SMTP_BACKLOG: z.coerce.number().int().min(0).default(50),
  /** PEM certificate file for STARTTLS on the listener. */
  SWITCHBOARD_SMTP_TLS_CERT: z.string().min(1).optional(),
  /** Its private key file. */
  SWITCHBOARD_SMTP_TLS_KEY: z.string().min(1).optional(),
  /** Accepted messages larger than this are kept in quarantine instead of becoming tickets. */
  SWITCHBOARD_EMAIL_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(25 * 1024 * 1024),
  /** Inbound messages per sender per hour before the rest wait in quarantine (mail-loop brake). */
  SWITCHBOARD_EMAIL_RATE_LIMIT: z.coerce.number().int().min(1).default(30),
  /**
   * 32 bytes, base64: encrypts stored mailbox passwords. Unset, a key is generated in `<data
   * dir>/email.key`.
   * @default (generated)
   */
  SWITCHBOARD_EMAIL_KEY: z
    .string()
    .refine((v) => Buffer.from(v, "base64").length === 32, { error: "must be 32 bytes, base64-encoded" })
    .optional(),
  /**
   * `smtp://` or `smtps://` relay for outbound mail from mailboxes without their own SMTP settings, while no
   * relay is set in Admin > Email (e.g. `smtp://user:pass@relay:587`).
   */
  SWITCHBOARD_SMTP_RELAY_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  /**
   * From address when neither the mailbox nor the client gives one and no default From is set in Admin >
   * Email.
   */
  SWITCHBOARD_EMAIL_FROM: z.email().optional(),
  /** Poll the IMAP mailboxes configured in the console (worker role). */
  SWITCHBOARD_IMAP_ENABLED: bool.default(true),
  /**
   * 32 bytes, base64: the vault's key-encryption key, which wraps each client's data key (it also derives
   * the key that signs rating links). Unset, a key is generated in `<data dir>/vault.key`; several processes
   * need the variable.
   * @default (generated)
   */
  SWITCHBOARD_VAULT_KEK: key32.optional(),
  /** Earlier KEKs, comma-separated, kept until `POST /api/v1/vault/rotate` has re-wrapped what they wrapped. */
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
  /**
   * 32 bytes, base64: caller verification's key, from which the HMAC key that codes are stored under and
   * the key that seals contacts' authenticator seeds are derived. Unset, a key is generated in
   * `<data dir>/identity.key`; several processes need the variable.
   * @default (generated)
   */
  SWITCHBOARD_IDENTITY_KEY: key32.optional(),
  /** How long re-entering the password lets a technician reveal vault secrets (1-60). */
  VAULT_STEP_UP_MINUTES: z.coerce.number().int().min(1).max(60).default(5),
  /** How long a portal sign-in lasts (1-2160). */
  PORTAL_SESSION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(24 * 7),
  /** How long an emailed portal sign-in link works (1-1440). */
  PORTAL_LINK_TTL_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  // Remote access (shells, files, attended support sessions).
  /** A shell's asciicast recording stops (with a marker) past this size. */
  REMOTE_RECORDING_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .default(20 * 1024 * 1024),
  /** Largest file uploaded to or fetched from a device. */
  REMOTE_FILE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(100 * 1024 * 1024),
  /** How long a support session's code can be entered (1-10), and the window of the guess limits. */
  SUPPORT_CODE_TTL_MINUTES: z.coerce.number().int().min(1).max(10).default(10),
  /** Wrong codes from one address per window before it must wait. */
  SUPPORT_JOIN_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(99).default(10),
  /**
   * STUN/TURN servers for screen sharing, JSON
   * (`[{"urls":"turn:turn.example.com","username":"u","credential":"p"}]`). Empty: direct connections only
   * (enough on one network).
   * @default `[]`
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
  /**
   * How long the one-time code the caller gives the support agent (control and shell on request) may be
   * used; once used, the agent lives only as long as the support session.
   */
  SUPPORT_AGENT_CODE_TTL_MINUTES: z.coerce.number().int().min(1).max(60).default(15),
  /**
   * An attended support session nobody ended ends by itself this long after the caller joined (and with
   * it any support agent on the caller's machine).
   */
  SUPPORT_SESSION_MAX_HOURS: z.coerce.number().int().min(1).max(24).default(4),
  // Operations.
  /**
   * Seconds without a heartbeat after which a running job (mail, delivery, event handler, reminder) is
   * given to another worker: its process is taken for dead. A restart picks up a dead process's jobs at
   * once; this is for the case where other processes live on.
   */
  JOB_HEARTBEAT_SECONDS: z.coerce.number().int().min(10).max(3600).default(20),
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
  /** The same check firing on more devices of a client within this many seconds joins the first one's ticket. */
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
