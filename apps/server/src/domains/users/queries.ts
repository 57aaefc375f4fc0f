import type { Transaction } from "kysely";
import type { DB, UserRole } from "../../db/schema.ts";

export async function insertUser(
  trx: Transaction<DB>,
  input: { email: string; name: string; role: UserRole; passwordHash: string | null; timezone?: string },
) {
  return trx
    .insertInto("users")
    .values({
      email: input.email.trim().toLowerCase(),
      name: input.name,
      role: input.role,
      password_hash: input.passwordHash,
      timezone: input.timezone ?? "UTC",
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}
