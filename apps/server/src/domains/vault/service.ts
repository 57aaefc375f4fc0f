import { randomUUID } from "node:crypto";
import type { VaultEntryDto } from "@switchboard/shared";
import { type Selectable, type SqlBool, sql, type Transaction } from "kysely";
import type { AppDeps } from "../../app.ts";
import type { Database } from "../../db/database.ts";
import type { DB, VaultEntriesTable } from "../../db/schema.ts";
import { AppError, forbidden, invalid, notFound, versionConflict } from "../../http/errors.ts";
import { serverKeys } from "../../lib/server-keys.ts";
import { parseTotpSeed, totpCode, totpSecondsLeft, totpUri } from "../../lib/totp.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, canSeeClient, requireRole, requireUser, requireWriter } from "../auth/actor.ts";
import { verifyPassword } from "../auth/crypto.ts";
import { recentFailures } from "../auth/queries.ts";
import { LOGIN_WINDOW_MINUTES, loginLimits } from "../auth/service.ts";
import { insertEntry } from "../tickets/timeline.ts";
import { keyringFor, openField, sealField } from "./keyring.ts";

type EntryRow = Selectable<VaultEntriesTable> & { client_name: string | null };

const keyring = async (deps: Pick<AppDeps, "config">) => keyringFor((await serverKeys(deps.config)).kek);

const toDto = (r: EntryRow): VaultEntryDto => ({
  id: r.id,
  client: r.client_id ? { id: r.client_id, name: r.client_name ?? "" } : null,
  title: r.title,
  username: r.username,
  url: r.url,
  hasPassword: r.secret_enc !== null,
  hasTotp: r.totp_enc !== null,
  hasNotes: r.notes_enc !== null,
  restricted: r.restricted,
  updatedAt: r.updated_at.toISOString(),
  version: r.version,
});

/**
 * The MSP's own entries (client null) are for staff who see every client; a client's entries for staff
 * who see that client. Anything else answers like an unknown id.
 */
const mayUse = (actor: Actor, clientId: string | null) =>
  actor.kind !== "contact" && (clientId === null ? actor.clientIds === null : canSeeClient(actor, clientId));

function entries(db: Database | Transaction<DB>) {
  return db
    .selectFrom("vault_entries as e")
    .leftJoin("clients as c", "c.id", "e.client_id")
    .selectAll("e")
    .select("c.name as client_name")
    .where("e.archived_at", "is", null);
}

async function loadEntry(db: Database | Transaction<DB>, actor: Actor, id: string, lock = false) {
  let q = entries(db).where("e.id", "=", id);
  if (lock) q = q.forUpdate("e");
  const row = await q.executeTakeFirst();
  if (!row || !mayUse(actor, row.client_id)) throw notFound("Vault entry");
  return row;
}

export async function listVault(db: Database, actor: Actor, q: { clientId?: string | "msp"; q?: string }) {
  let query = entries(db);
  if (q.clientId === "msp") query = query.where("e.client_id", "is", null);
  else if (q.clientId) query = query.where("e.client_id", "=", q.clientId);
  if (actor.clientIds !== null) {
    const ids = actor.clientIds;
    query = ids.length ? query.where("e.client_id", "in", ids) : query.where(sql<SqlBool>`false`);
  }
  if (q.q) {
    const like = `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([eb("e.title", "ilike", like), eb("e.username", "ilike", like), eb("e.url", "ilike", like)]),
    );
  }
  const rows = await query.orderBy("c.name").orderBy("e.title").limit(500).execute();
  return rows.map(toDto);
}

export async function getVaultEntry(db: Database, actor: Actor, id: string) {
  return toDto(await loadEntry(db, actor, id));
}

/** A TOTP seed as stored: normalised to an otpauth URI, so digits and period survive. */
function normaliseTotp(input: string) {
  const seed = parseTotpSeed(input);
  if (!seed) throw invalid("body.totp", "must be a base32 seed or an otpauth://totp/ URI");
  return totpUri(seed, "entry", "vault");
}

export async function createVaultEntry(
  deps: AppDeps,
  actor: Actor,
  input: {
    clientId: string | null;
    title: string;
    username: string;
    url: string;
    password?: string;
    totp?: string;
    notes?: string;
    restricted: boolean;
  },
) {
  requireWriter(actor);
  if (!mayUse(actor, input.clientId)) throw invalid("body.clientId", "no such client");
  if (input.restricted && actor.role !== "admin") throw forbidden("Only admins mark entries restricted");
  const totp = input.totp ? normaliseTotp(input.totp) : null;
  const ring = await keyring(deps);
  const id = randomUUID();
  await deps.db.transaction().execute(async (trx) => {
    const dk = await ring.active(trx, input.clientId);
    await trx
      .insertInto("vault_entries")
      .values({
        id,
        client_id: input.clientId,
        title: input.title,
        username: input.username,
        url: input.url,
        secret_enc: input.password ? sealField(dk.key, id, "password", input.password) : null,
        totp_enc: totp ? sealField(dk.key, id, "totp", totp) : null,
        notes_enc: input.notes ? sealField(dk.key, id, "notes", input.notes) : null,
        data_key_id: dk.id,
        restricted: input.restricted,
        created_by_user_id: actor.userId,
        updated_by_user_id: actor.userId,
      })
      .execute();
    await writeAudit(trx, actor, {
      action: "vault.create",
      entityType: "vault_entry",
      entityId: id,
      clientId: input.clientId,
      // What changed, never the secrets themselves.
      after: {
        title: input.title,
        username: input.username,
        url: input.url,
        password: !!input.password,
        totp: !!totp,
        notes: !!input.notes,
        restricted: input.restricted,
      },
    });
  });
  return getVaultEntry(deps.db, actor, id);
}

export async function updateVaultEntry(
  deps: AppDeps,
  actor: Actor,
  id: string,
  input: {
    version: number;
    title?: string;
    username?: string;
    url?: string;
    password?: string | null;
    totp?: string | null;
    notes?: string | null;
    restricted?: boolean;
  },
) {
  requireWriter(actor);
  const totp = input.totp ? normaliseTotp(input.totp) : input.totp;
  const ring = await keyring(deps);
  await deps.db.transaction().execute(async (trx) => {
    const row = await loadEntry(trx, actor, id, true);
    if (row.restricted && actor.role !== "admin") throw forbidden("Only admins change restricted entries");
    if (input.restricted !== undefined && actor.role !== "admin")
      throw forbidden("Only admins mark entries restricted");
    if (row.version !== input.version) throw versionConflict("vault entry", toDto(row));
    const changesSecret = input.password !== undefined || totp !== undefined || input.notes !== undefined;
    // A changed secret is sealed with the client's active key; the others keep theirs (re-sealed if the
    // active key is another: one entry never mixes two keys).
    let set: {
      secret_enc?: string | null;
      totp_enc?: string | null;
      notes_enc?: string | null;
      data_key_id?: string;
    } = {};
    if (changesSecret) {
      const dk = await ring.active(trx, row.client_id);
      const oldKey = await ring.byId(trx, row.data_key_id);
      const keep = (field: string, sealed: string | null) =>
        sealed === null ? null : sealField(dk.key, id, field, openField(oldKey, id, field, sealed));
      const next = (field: string, given: string | null | undefined, sealed: string | null) =>
        given === undefined
          ? keep(field, sealed)
          : given === null || given === ""
            ? null
            : sealField(dk.key, id, field, given);
      set = {
        secret_enc: next("password", input.password, row.secret_enc),
        totp_enc: next("totp", totp, row.totp_enc),
        notes_enc: next("notes", input.notes, row.notes_enc),
        data_key_id: dk.id,
      };
    }
    await trx
      .updateTable("vault_entries")
      .set({
        ...set,
        title: input.title ?? row.title,
        username: input.username ?? row.username,
        url: input.url ?? row.url,
        restricted: input.restricted ?? row.restricted,
        updated_by_user_id: actor.userId,
        updated_at: new Date(),
        version: row.version + 1,
      })
      .where("id", "=", id)
      .execute();
    await writeAudit(trx, actor, {
      action: "vault.update",
      entityType: "vault_entry",
      entityId: id,
      clientId: row.client_id,
      before: { title: row.title, username: row.username, url: row.url, restricted: row.restricted },
      after: {
        title: input.title ?? row.title,
        username: input.username ?? row.username,
        url: input.url ?? row.url,
        restricted: input.restricted ?? row.restricted,
        changed: [
          input.password !== undefined && "password",
          totp !== undefined && "totp",
          input.notes !== undefined && "notes",
        ].filter(Boolean),
      },
    });
  });
  return getVaultEntry(deps.db, actor, id);
}

export async function archiveVaultEntry(db: Database, actor: Actor, id: string) {
  requireWriter(actor);
  await db.transaction().execute(async (trx) => {
    const row = await loadEntry(trx, actor, id, true);
    if (row.restricted && actor.role !== "admin") throw forbidden("Only admins change restricted entries");
    // The sealed values go with it: an archived entry keeps its name for the audit trail, not its secrets.
    await trx
      .updateTable("vault_entries")
      .set({ archived_at: new Date(), secret_enc: null, totp_enc: null, notes_enc: null })
      .where("id", "=", id)
      .execute();
    await writeAudit(trx, actor, {
      action: "vault.archive",
      entityType: "vault_entry",
      entityId: id,
      clientId: row.client_id,
      before: { title: row.title },
    });
  });
}

/**
 * Step-up: the technician types their password again, which opens reveals for VAULT_STEP_UP_MINUTES on
 * this credential (this session or token) only. Failures count like failed sign-ins.
 */
export async function stepUp(deps: AppDeps, actor: Actor, password: string, ip: string) {
  const userId = requireUser(actor);
  if (!actor.credential) throw forbidden("Step-up needs a session or an API token");
  const account = `stepup:${userId}`;
  const limits = loginLimits(deps.config);
  const failures = await recentFailures(deps.db, account, ip, LOGIN_WINDOW_MINUTES);
  if (failures.by_account >= limits.perAccount || failures.by_ip >= limits.perAddress) {
    throw new AppError("rate_limited", 429, "Too many wrong passwords; try again in 15 minutes", {
      retryAfterSeconds: LOGIN_WINDOW_MINUTES * 60,
    });
  }
  const user = await deps.db
    .selectFrom("users")
    .select("password_hash")
    .where("id", "=", userId)
    .executeTakeFirst();
  const ok = await verifyPassword(user?.password_hash ?? null, password);
  await deps.db.insertInto("login_attempts").values({ account, ip, succeeded: ok }).execute();
  if (!ok) throw new AppError("unauthenticated", 401, "Wrong password");
  const until = new Date(Date.now() + deps.config.VAULT_STEP_UP_MINUTES * 60_000);
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .insertInto("vault_step_ups")
      .values({ credential_hash: actor.credential!.hash, user_id: userId, until })
      .onConflict((oc) => oc.column("credential_hash").doUpdateSet({ until }))
      .execute();
    await writeAudit(trx, actor, { action: "vault.step_up", entityType: "user", entityId: userId });
  });
  return { until: until.toISOString() };
}

/**
 * Reveals one secret of an entry for a ticket: the caller must have stepped up, may reveal (not read-only;
 * admins only for restricted entries), and names a ticket of the entry's client (any ticket they see for
 * the MSP's own entries). The reveal is in the audit log and on the ticket's history. A TOTP seed is
 * never revealed: the current code is.
 */
export async function revealSecret(
  deps: AppDeps,
  actor: Actor,
  id: string,
  input: { field: "password" | "notes" | "totp"; ticketId: string; purpose: "reveal" | "copy" },
) {
  requireRole(actor, "admin", "dispatcher", "technician");
  const entry = await loadEntry(deps.db, actor, id);
  if (entry.restricted && actor.role !== "admin") throw forbidden("Only admins may reveal this entry");
  const stepped = actor.credential
    ? await deps.db
        .selectFrom("vault_step_ups")
        .select("until")
        .where("credential_hash", "=", actor.credential.hash)
        .where("until", ">", new Date())
        .executeTakeFirst()
    : undefined;
  if (!stepped)
    throw new AppError("forbidden", 403, "Confirm your password to reveal secrets", { stepUpRequired: true });
  const ticket = await deps.db
    .selectFrom("tickets")
    .select(["id", "number", "client_id"])
    .where("id", "=", input.ticketId)
    .executeTakeFirst();
  if (!ticket || !canSeeClient(actor, ticket.client_id)) throw invalid("body.ticketId", "no such ticket");
  if (entry.client_id !== null && ticket.client_id !== entry.client_id) {
    throw invalid("body.ticketId", "must be a ticket of the entry's client");
  }
  const sealed = { password: entry.secret_enc, notes: entry.notes_enc, totp: entry.totp_enc }[input.field];
  if (!sealed) throw invalid("body.field", `the entry has no ${input.field}`);
  const key = await (await keyring(deps)).byId(deps.db, entry.data_key_id);
  const plain = openField(key, id, input.field, sealed);
  let value = plain;
  let secondsLeft: number | null = null;
  if (input.field === "totp") {
    const seed = parseTotpSeed(plain);
    if (!seed) throw new AppError("internal_error", 500, "The stored TOTP seed is unreadable");
    value = totpCode(seed);
    secondsLeft = totpSecondsLeft(seed);
  }
  await deps.db.transaction().execute(async (trx) => {
    await writeAudit(trx, actor, {
      action: input.purpose === "copy" ? "vault.copy" : "vault.reveal",
      entityType: "vault_entry",
      entityId: id,
      clientId: entry.client_id ?? ticket.client_id,
      after: { field: input.field, title: entry.title, ticketId: ticket.id, ticketNumber: ticket.number },
    });
    await insertEntry(trx, actor, ticket, {
      kind: "event",
      visibility: "internal",
      event: {
        type: "vault_access",
        entryId: id,
        title: entry.title,
        field: input.field,
        purpose: input.purpose,
      },
    });
  });
  return { field: input.field, value, secondsLeft };
}

/**
 * Key rotation, online. KEK: every data key wrapped by another KEK is re-wrapped with the current one
 * (the data keys themselves do not change, so no entry is touched). Data keys (optional): each client
 * gets a new active key and its entries are re-sealed in small batches, each its own transaction; until
 * an entry is re-sealed its old key still opens it, so reads and writes go on throughout.
 */
export async function rotateVaultKeys(deps: AppDeps, actor: Actor, opts: { dataKeys: boolean }) {
  requireRole(actor, "admin");
  if (actor.clientIds !== null) throw forbidden("This needs access to every client");
  const ring = await keyring(deps);
  const provider = ring.provider;
  let rewrapped = 0;
  const unknown = await deps.db
    .selectFrom("vault_data_keys")
    .select("kek_id")
    .distinct()
    .where("kek_id", "<>", provider.currentKekId)
    .execute();
  const missing = [];
  for (const { kek_id } of unknown) {
    if (!(await provider.has(kek_id))) missing.push(kek_id);
  }
  if (missing.length) {
    throw new AppError(
      "invalid_transition",
      409,
      `Data keys are wrapped by key-encryption keys that are not configured (${missing.join(", ")}): add them to SWITCHBOARD_VAULT_PREVIOUS_KEKS`,
    );
  }
  for (;;) {
    const batch = await deps.db
      .selectFrom("vault_data_keys")
      .select(["id", "kek_id", "wrapped_key"])
      .where("kek_id", "<>", provider.currentKekId)
      .limit(100)
      .execute();
    if (!batch.length) break;
    for (const k of batch) {
      const key = await provider.unwrap(k.kek_id, k.wrapped_key);
      const { kekId, wrapped } = await provider.wrap(key);
      await deps.db
        .updateTable("vault_data_keys")
        .set({ kek_id: kekId, wrapped_key: wrapped })
        .where("id", "=", k.id)
        .where("kek_id", "=", k.kek_id)
        .execute();
      rewrapped++;
    }
  }
  let resealed = 0;
  if (opts.dataKeys) {
    const owners = await deps.db
      .selectFrom("vault_data_keys")
      .select("client_id")
      .where("active", "=", true)
      .execute();
    for (const { client_id } of owners) {
      await deps.db
        .updateTable("vault_data_keys")
        .set({ active: false, retired_at: new Date() })
        .where("active", "=", true)
        .where((eb) => (client_id ? eb("client_id", "=", client_id) : eb("client_id", "is", null)))
        .execute();
      const fresh = await ring.active(deps.db, client_id);
      for (;;) {
        const moved = await deps.db.transaction().execute(async (trx) => {
          const rows = await trx
            .selectFrom("vault_entries")
            .selectAll()
            .where((eb) => (client_id ? eb("client_id", "=", client_id) : eb("client_id", "is", null)))
            .where("data_key_id", "<>", fresh.id)
            .limit(100)
            .forUpdate()
            .skipLocked()
            .execute();
          for (const e of rows) {
            const old = await ring.byId(trx, e.data_key_id);
            const re = (field: string, v: string | null) =>
              v === null ? null : sealField(fresh.key, e.id, field, openField(old, e.id, field, v));
            await trx
              .updateTable("vault_entries")
              .set({
                secret_enc: re("password", e.secret_enc),
                totp_enc: re("totp", e.totp_enc),
                notes_enc: re("notes", e.notes_enc),
                data_key_id: fresh.id,
              })
              .where("id", "=", e.id)
              .execute();
          }
          return rows.length;
        });
        resealed += moved;
        if (moved === 0) break;
      }
    }
  }
  await deps.db.transaction().execute((trx) =>
    writeAudit(trx, actor, {
      action: "vault.rotate",
      entityType: "vault",
      entityId: provider.currentKekId,
      after: { rewrapped, resealed, dataKeys: opts.dataKeys },
    }),
  );
  return { rewrapped, resealed, kekId: provider.currentKekId };
}
