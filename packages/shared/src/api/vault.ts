import { z } from "zod";
import { Id, Timestamp, Versioned } from "./common.ts";

// The password vault. Secrets never appear in a list or an entry; each is revealed alone, for a ticket,
// after a step-up, and the reveal is audited. A TOTP seed is never revealed: only its current code.

export const VaultEntryDto = z.object({
  id: Id,
  /** null: the MSP's own credential. */
  client: z.object({ id: Id, name: z.string() }).nullable(),
  title: z.string(),
  username: z.string(),
  url: z.string(),
  hasPassword: z.boolean(),
  hasTotp: z.boolean(),
  hasNotes: z.boolean(),
  /** Only admins may reveal it. */
  restricted: z.boolean(),
  updatedAt: Timestamp,
  version: z.number().int(),
});
export type VaultEntryDto = z.infer<typeof VaultEntryDto>;

export const VaultListQuery = z.object({
  /** A client's id, or `msp` for the MSP's own credentials; omitted: everything the caller sees. */
  clientId: z.union([Id, z.literal("msp")]).optional(),
  q: z.string().trim().max(200).optional(),
});

const secret = z.string().max(10_000);
export const CreateVaultEntryRequest = z.object({
  clientId: Id.nullable(),
  title: z.string().trim().min(1, { error: "must not be empty" }).max(300),
  username: z.string().max(500).default(""),
  url: z.string().max(2000).default(""),
  password: secret.optional(),
  /** A base32 seed or an otpauth:// URI. */
  totp: z.string().max(2000).optional(),
  notes: secret.optional(),
  restricted: z.boolean().default(false),
});
export const UpdateVaultEntryRequest = Versioned.extend({
  title: z.string().trim().min(1, { error: "must not be empty" }).max(300).optional(),
  username: z.string().max(500).optional(),
  url: z.string().max(2000).optional(),
  /** null removes it. */
  password: secret.nullable().optional(),
  totp: z.string().max(2000).nullable().optional(),
  notes: secret.nullable().optional(),
  restricted: z.boolean().optional(),
});

export const VaultStepUpRequest = z.object({ password: z.string().min(1).max(1000) });
export const VaultStepUpDto = z.object({ until: Timestamp });

export const VaultRevealRequest = z.object({
  field: z.enum(["password", "notes", "totp"]),
  /** The reason: the ticket this is for. */
  ticketId: Id,
  /** `copy` when the console copies it to the clipboard without showing it. */
  purpose: z.enum(["reveal", "copy"]).default("reveal"),
});
export const VaultRevealDto = z.object({
  field: z.enum(["password", "notes", "totp"]),
  value: z.string(),
  /** For `totp`: seconds until the code changes. */
  secondsLeft: z.number().int().nullable(),
});

export const VaultRotateRequest = z.object({
  /** Also give every client a new data key and re-seal their entries with it. */
  dataKeys: z.boolean().default(false),
});
export const VaultRotateDto = z.object({
  /** Data keys re-wrapped with the current key-encryption key. */
  rewrapped: z.number().int(),
  /** Entries re-sealed with a new data key. */
  resealed: z.number().int(),
  kekId: z.string(),
});
