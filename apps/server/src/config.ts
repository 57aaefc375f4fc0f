import path from "node:path";
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const roles = z
  .string()
  .transform((v) => v.split(",").map((r) => r.trim()))
  .pipe(z.array(z.enum(["api", "worker", "gateway"])).min(1));

/** Every setting Switchboard reads from the environment. A bad value stops the server with its name. */
export const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default("0.0.0.0"),
  SWITCHBOARD_DATA_DIR: z.string().min(1).default("./data"),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  SWITCHBOARD_EMBEDDED_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),
  DB_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SWITCHBOARD_ROLES: roles.default(["api", "worker", "gateway"]),
  NATS_URL: z.url({ protocol: /^(nats|tls)$/ }).optional(),
  SWITCHBOARD_ADMIN_EMAIL: z.email().optional(),
  SWITCHBOARD_ADMIN_PASSWORD: z.string().min(12).optional(),
  SWITCHBOARD_MSP_NAME: z.string().min(1).max(200).default("My MSP"),
  SWITCHBOARD_PUBLIC_URL: z.url().optional(),
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
  TRUST_PROXY: bool.default(false),
  SECURE_COOKIES: bool.optional(),
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
