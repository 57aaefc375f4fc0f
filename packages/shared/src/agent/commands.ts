import { z } from "zod";

/** Service names go to systemctl, launchctl, sc or an init script: no paths, no shell syntax. */
export const ServiceName = z
  .string()
  .regex(/^[A-Za-z0-9@._:+-]{1,200}$/, { error: "must be a service name (letters, digits, @._:+-)" })
  .refine((v) => !v.startsWith(".") && !v.startsWith("-"), {
    error: "must not start with a dot or a dash",
  });

export const ScriptInterpreter = z.enum(["bash", "sh", "powershell", "cmd"]);

export const ScriptRunCommand = z.object({
  kind: z.literal("script.run"),
  interpreter: ScriptInterpreter,
  script: z
    .string()
    .min(1)
    .max(64 * 1024),
  timeoutSeconds: z.number().int().min(1).max(86_400).default(300),
  /** Bytes of stdout and stderr together; the rest is dropped and the result says so. */
  outputLimitBytes: z
    .number()
    .int()
    .min(1)
    .max(10 * 1024 * 1024)
    .default(1024 * 1024),
});
export const ServiceListCommand = z.object({ kind: z.literal("service.list") });
export const ServiceRestartCommand = z.object({
  kind: z.literal("service.restart"),
  name: ServiceName,
  timeoutSeconds: z.number().int().min(1).max(3600).default(120),
});
export const RebootCommand = z.object({
  kind: z.literal("reboot"),
  delaySeconds: z.number().int().min(0).max(3600).default(60),
  message: z.string().max(200).optional(),
});

export const AgentCommand = z.discriminatedUnion("kind", [
  ScriptRunCommand,
  ServiceListCommand,
  ServiceRestartCommand,
  RebootCommand,
]);
export type AgentCommand = z.infer<typeof AgentCommand>;
export type AgentCommandInput = z.input<typeof AgentCommand>;
export const AgentCommandKind = z.enum(["script.run", "service.list", "service.restart", "reboot"]);
export type AgentCommandKind = z.infer<typeof AgentCommandKind>;

/**
 * What the server signs. The agent verifies the signature over the exact payload string before it parses
 * it, so no canonical JSON form is needed.
 */
export const CommandPayload = z.object({
  v: z.literal(1),
  id: z.uuid(),
  deviceId: z.uuid(),
  issuedAt: z.iso.datetime({ offset: true }),
  expiresAt: z.iso.datetime({ offset: true }),
  command: AgentCommand,
});
export type CommandPayload = z.infer<typeof CommandPayload>;

export const ServiceInfo = z.object({
  name: z.string().max(300),
  state: z.string().max(100),
  description: z.string().max(500).optional(),
});
export type ServiceInfo = z.infer<typeof ServiceInfo>;
