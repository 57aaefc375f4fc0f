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
export const AgentCommandKind = z.enum([
  "script.run",
  "service.list",
  "service.restart",
  "reboot",
  "directory.account",
  "updates.install",
]);
export type AgentCommandKind = z.infer<typeof AgentCommandKind>;

/** A directory account: a sAMAccountName, or a user principal name (UPN). */
export const DirectoryAccountName = z
  .string()
  .regex(/^(?:[A-Za-z0-9._-]{1,64}|[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$/, {
    error: "must be a sAMAccountName (letters, digits, . _ -) or a UPN (name@domain)",
  })
  .max(320);
export const DirectorySystem = z.enum(["active_directory", "samba"]);
export const DirectoryAction = z.enum(["find", "reset_password", "unlock", "force_change"]);

/**
 * An account on the client's directory, run by the agent on its domain controller: PowerShell's
 * ActiveDirectory module (`active_directory`) or Samba's ldb tools on sam.ldb (`samba`). Only the
 * identity domain sends it, after a fresh verification of the account's contact: it is not in
 * AgentCommand, so the generic command route cannot carry it.
 */
export const DirectoryCommand = z.object({
  kind: z.literal("directory.account"),
  system: DirectorySystem,
  action: DirectoryAction,
  /** The account acted on (every action but find). */
  account: DirectoryAccountName.optional(),
  /** find: the address whose account is looked up (mail or userPrincipalName). */
  email: z.email().max(254).optional(),
  /** reset_password: the user must choose a new password at next logon; and unlock the account too. */
  mustChange: z.boolean().default(false),
  unlock: z.boolean().default(false),
  /**
   * reset_password: the new password, AES-256-GCM sealed (associated data: the command id) with a
   * one-time key that travels beside the signed payload in the command frame only. What the server
   * stores cannot be opened; a command that was not delivered at once is never sent later.
   */
  sealedPassword: z.string().max(2000).optional(),
  timeoutSeconds: z.number().int().min(5).max(300).default(60),
});
export type DirectoryCommand = z.infer<typeof DirectoryCommand>;

/**
 * A package or update the agent may install: a Debian/RPM package name (with an optional `:arch`), or a
 * Windows Update KB id. It becomes one argv element (never a shell word): no spaces, quotes, `$`, `;`,
 * `|`, `&`, backquotes, and no leading dash (it could pass for an option).
 */
export const UpdatePackageName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._~:-]{0,199}$/, {
  error: "must be a package name or a KB id (letters, digits, + . _ ~ : -, not starting with a dash)",
});
export const UpdateManager = z.enum(["apt", "dnf", "windows_update"]);
export type UpdateManager = z.infer<typeof UpdateManager>;

/**
 * Installs exactly these updates with the device's package manager (apt-get, dnf, or Windows Update
 * through its COM API), then rescans. Only the patch domain sends it, for updates the device reported
 * missing and a technician (or the client's auto-approval) approved: it is not in AgentCommand.
 */
export const InstallUpdatesCommand = z
  .object({
    kind: z.literal("updates.install"),
    manager: UpdateManager,
    packages: z.array(UpdatePackageName).min(1).max(500),
    /** The whole run; a package still waiting when it runs out fails with that reason. */
    timeoutSeconds: z
      .number()
      .int()
      .min(30)
      .max(6 * 3600)
      .default(3600),
  })
  .refine((c) => c.manager !== "windows_update" || c.packages.every((p) => /^KB\d{4,10}$/.test(p)), {
    error: "Windows Update installs take KB ids (KB5040000)",
    path: ["packages"],
  });
export type InstallUpdatesCommand = z.infer<typeof InstallUpdatesCommand>;

/** What the agent says about one update of an install run. */
export const UpdateInstallResult = z.object({
  name: z.string().max(200),
  status: z.enum(["installed", "failed", "not_applicable"]),
  /** The installed version before and after (apt, dnf); absent for Windows Update. */
  from: z.string().max(200).optional(),
  to: z.string().max(200).optional(),
  /** Why it failed or did not apply. */
  error: z.string().max(2000).optional(),
});
export type UpdateInstallResult = z.infer<typeof UpdateInstallResult>;

/** Every command an agent runs: what users may send, and what only a domain service sends. */
export const SignedCommand = z.discriminatedUnion("kind", [
  ScriptRunCommand,
  ServiceListCommand,
  ServiceRestartCommand,
  RebootCommand,
  DirectoryCommand,
  InstallUpdatesCommand,
]);
export type SignedCommand = z.infer<typeof SignedCommand>;

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
  command: SignedCommand,
});
export type CommandPayload = z.infer<typeof CommandPayload>;

export const ServiceInfo = z.object({
  name: z.string().max(300),
  state: z.string().max(100),
  description: z.string().max(500).optional(),
});
export type ServiceInfo = z.infer<typeof ServiceInfo>;
