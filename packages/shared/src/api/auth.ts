import { z } from "zod";
import { Email, Id, Timestamp } from "./common.ts";

export const UserRole = z.enum(["admin", "dispatcher", "technician", "readonly"]);
export type UserRole = z.infer<typeof UserRole>;

export const Password = z.string().min(12, { error: "must be at least 12 characters" }).max(256);

export const SetupRequest = z.object({
  mspName: z.string().trim().min(1).max(200),
  name: z.string().trim().min(1).max(200),
  email: Email,
  password: Password,
});
export const SetupStatus = z.object({ setUp: z.boolean(), mspName: z.string().nullable() });

export const LoginRequest = z.object({ email: Email, password: z.string().min(1).max(256) });

export const MeDto = z.object({
  id: Id,
  name: z.string(),
  email: z.string(),
  role: UserRole,
  timezone: z.string(),
  allClients: z.boolean(),
  clientIds: z.array(Id),
  teamIds: z.array(Id),
  mspName: z.string(),
});
export type MeDto = z.infer<typeof MeDto>;

export const CreateApiTokenRequest = z.object({
  name: z.string().trim().min(1).max(100),
  expiresAt: Timestamp.optional(),
});
export const ApiTokenDto = z.object({
  id: Id,
  name: z.string(),
  prefix: z.string(),
  createdAt: Timestamp,
  expiresAt: Timestamp.nullable(),
  lastUsedAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
});
export const CreatedApiTokenDto = ApiTokenDto.extend({
  /** Shown once: only its hash is stored. */
  token: z.string(),
});
