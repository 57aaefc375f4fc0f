import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import type { Database } from "../../db/database.ts";
import { type KeyEncryptionProvider, open, seal } from "../../lib/server-keys.ts";

/**
 * Data keys of the vault: one active AES-256 key per client (and one for the MSP's own entries), stored
 * only wrapped by the KEK provider. Unwrapped keys are kept in memory by id (a key never changes under
 * its id; re-wrapping changes only its wrapped form).
 */
export class VaultKeyring {
  private readonly unwrapped = new Map<string, Promise<Buffer>>();
  readonly provider: KeyEncryptionProvider;
  constructor(provider: KeyEncryptionProvider) {
    this.provider = provider;
  }

  /** The active key of a client (null: the MSP's), created on first use. */
  async active(db: Database, clientId: string | null): Promise<{ id: string; key: Buffer }> {
    const find = () =>
      db
        .selectFrom("vault_data_keys")
        .select(["id", "kek_id", "wrapped_key"])
        .where("active", "=", true)
        .where((eb) => (clientId ? eb("client_id", "=", clientId) : eb("client_id", "is", null)))
        .executeTakeFirst();
    let row = await find();
    if (!row) {
      const { kekId, wrapped } = await this.provider.wrap(randomBytes(32));
      // Two first writes at once: the partial unique index keeps one active key; the loser reads it.
      await sql`insert into vault_data_keys (client_id, kek_id, wrapped_key) values (${clientId}, ${kekId}, ${wrapped})
        on conflict do nothing`.execute(db);
      row = await find();
      if (!row) throw new Error("vault: no active data key after creating one");
    }
    return { id: row.id, key: await this.unwrap(row) };
  }

  async byId(db: Database, id: string): Promise<Buffer> {
    const cached = this.unwrapped.get(id);
    if (cached) return cached;
    const row = await db
      .selectFrom("vault_data_keys")
      .select(["id", "kek_id", "wrapped_key"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    return this.unwrap(row);
  }

  private unwrap(row: { id: string; kek_id: string; wrapped_key: string }) {
    let key = this.unwrapped.get(row.id);
    if (!key) {
      key = this.provider.unwrap(row.kek_id, row.wrapped_key);
      key.catch(() => this.unwrapped.delete(row.id));
      this.unwrapped.set(row.id, key);
    }
    return key;
  }
}

/** Each sealed field is bound to its entry and field: a ciphertext copied onto another entry does not open. */
const aad = (entryId: string, field: string) => `vault entry ${entryId} ${field}`;

export const sealField = (key: Buffer, entryId: string, field: string, value: string) =>
  seal(key, Buffer.from(value, "utf8"), aad(entryId, field));

export const openField = (key: Buffer, entryId: string, field: string, sealed: string) =>
  open(key, sealed, aad(entryId, field)).toString("utf8");

const keyrings = new WeakMap<KeyEncryptionProvider, VaultKeyring>();
export function keyringFor(provider: KeyEncryptionProvider) {
  let k = keyrings.get(provider);
  if (!k) {
    k = new VaultKeyring(provider);
    keyrings.set(provider, k);
  }
  return k;
}
