import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Whose data a database statement may touch: PostgreSQL's row-level security enforces it (migration
 * 202612050900). Every pooled connection of the running server logs in as a role with no privileges of
 * its own and, before each statement, takes the role of the scope the statement runs under:
 * - `all`: the `<db>_all` role, whose policies let every row through (system work: jobs, the gateway,
 *   timers, the CLI; and staff who see every client);
 * - `clients`: the `<db>_scoped` role, whose policies let through only rows of the listed clients
 *   (read from the `sb.client_ids` setting);
 * - `none`: `<db>_scoped` with no clients: a request before (or without) sign-in sees no client's rows;
 * - `credentials`: whatever scope the connection already has (`none` on a fresh one), for the sign-in
 *   lookups alone (sessions, tokens, users: no client's table). Switching a connection's role costs
 *   more than the statement: PostgreSQL plans again every prepared statement on a table under RLS
 *   when the role changes, and a request that looked up its caller as `none` and then worked as `all`
 *   paid that on every request (bench:rls, creates at 0.6 of the rate without RLS).
 */
export type DbScope =
  | { kind: "all"; reason: "system" | "user" }
  | { kind: "clients"; clientIds: readonly string[] }
  | { kind: "none" }
  | { kind: "credentials" };

export const SYSTEM_SCOPE: DbScope = { kind: "all", reason: "system" };
export const NO_SCOPE: DbScope = { kind: "none" };
const CREDENTIALS_SCOPE: DbScope = { kind: "credentials" };

/** A request's scope: starts as `none` at the first hook, narrowed to the actor once they are known. */
export interface ScopeHolder {
  scope: DbScope;
}

const storage = new AsyncLocalStorage<ScopeHolder>();

/** The scope of the code running now: the request's, or the system scope outside any request. */
export function currentScope(): DbScope {
  return storage.getStore()?.scope ?? SYSTEM_SCOPE;
}

/** Runs `fn` (and everything it starts) under `scope`. */
export function runInScope<T>(scope: DbScope, fn: () => T): T {
  return storage.run({ scope }, fn);
}

/**
 * Runs `fn` under the system scope: for a public route once it has verified its own credential (an
 * enrollment token, a signed link), which then acts for the system, not for an anonymous caller.
 */
export const asSystem = <T>(fn: () => T): T => runInScope(SYSTEM_SCOPE, fn);

/**
 * Runs a caller's credential lookup (sessions, API tokens, users, their client and team lists) without
 * switching the connection's role; see `credentials` above. Nothing else may run under it.
 */
export const forCredentials = <T>(fn: () => T): T => runInScope(CREDENTIALS_SCOPE, fn);

/** Runs `fn` with a mutable holder, so later code can narrow the scope (the auth hook). */
export function runWithHolder<T>(holder: ScopeHolder, fn: () => T): T {
  return storage.run(holder, fn);
}

export function currentHolder(): ScopeHolder | undefined {
  return storage.getStore();
}

export function scopeForClients(clientIds: readonly string[] | null): DbScope {
  return clientIds === null ? { kind: "all", reason: "user" } : { kind: "clients", clientIds };
}

export interface ScopeRoles {
  /** Sees every client's rows. */
  all: string;
  /** Sees only the rows of the clients in `sb.client_ids`. */
  scoped: string;
}

/** The statement that puts a connection under a scope, and a key to skip it when nothing changed. */
export function scopeStatement(
  scope: DbScope,
  roles: ScopeRoles,
  current?: string,
): { key: string; values: string[] } {
  if (scope.kind === "credentials") {
    if (current !== undefined) return { key: current, values: [] };
    return scopeStatement(NO_SCOPE, roles);
  }
  if (scope.kind === "all") return { key: "all", values: [roles.all, ""] };
  const ids = scope.kind === "clients" ? scope.clientIds : [];
  const list = `{${ids.join(",")}}`;
  return { key: `c:${list}`, values: [roles.scoped, list] };
}

export const SET_SCOPE_SQL = "select set_config('role', $1, false), set_config('sb.client_ids', $2, false)";

/** The three roles of one database (see migration 202612050900_row_level_security). */
export function scopeRolesFor(database: string): ScopeRoles & { login: string } {
  return { all: `${database}_all`, scoped: `${database}_scoped`, login: `${database}_app` };
}
