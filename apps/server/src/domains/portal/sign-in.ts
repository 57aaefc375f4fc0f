import { sql } from "kysely";
import type { AppDeps } from "../../app.ts";
import type { Database } from "../../db/database.ts";
import { asSystem } from "../../db/scope.ts";
import { AppError, invalid } from "../../http/errors.ts";
import { parseTotpSeed, verifyTotp } from "../../lib/totp.ts";
import { writeAudit } from "../audit/audit.ts";
import { hashPassword, newSecret, sha256, verifyPassword } from "../auth/crypto.ts";
import { recentFailures } from "../auth/queries.ts";
import { LOGIN_WINDOW_MINUTES, loginLimits } from "../auth/service.ts";
import { secretBox } from "../email/secrets.ts";
import { queueSystemMail } from "../email/system-mail.ts";
import { contactActor, openPortalSession } from "./session.ts";

/** Where links in mail point: the configured public URL (never a Host header a caller could forge). */
export const publicBase = (config: AppDeps["config"]) =>
  (config.SWITCHBOARD_PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, "");

const accountKey = (email: string) => `portal:${email.trim().toLowerCase()}`;

async function assertNotLimited(db: Database, deps: AppDeps, email: string, ip: string) {
  const limits = loginLimits(deps.config);
  const f = await recentFailures(db, accountKey(email), ip, LOGIN_WINDOW_MINUTES);
  if (f.by_account >= limits.perAccount || f.by_ip >= limits.perAddress) {
    throw new AppError("rate_limited", 429, "Too many attempts; try again in 15 minutes", {
      retryAfterSeconds: LOGIN_WINDOW_MINUTES * 60,
    });
  }
}

interface AccountRow {
  contact_id: string;
  client_id: string;
  email: string;
  company_admin: boolean;
  password_hash: string | null;
  totp_secret: string | null;
  first_name: string;
  last_name: string;
}

/** A portal account that may sign in now (enabled, its contact and client active). System scope. */
async function findAccount(db: Database, email: string) {
  const { rows } = await sql<AccountRow>`
    select a.contact_id, a.client_id, a.email, a.company_admin, a.password_hash, a.totp_secret,
      c.first_name, c.last_name
    from portal_accounts a join contacts c on c.id = a.contact_id join clients cl on cl.id = a.client_id
    where lower(a.email) = ${email.trim().toLowerCase()} and a.enabled and c.active and cl.active`.execute(
    db,
  );
  return rows[0];
}

/**
 * Mails a one-time sign-in link if the address belongs to a portal account. The answer is the same
 * either way (nobody learns which addresses have accounts), and requests count against the same limits
 * as failed sign-ins, so the endpoint cannot be used to flood a mailbox.
 */
export async function requestSignInLink(deps: AppDeps, input: { email: string; ip: string }) {
  const { db } = deps;
  await asSystem(async () => {
    await assertNotLimited(db, deps, input.email, input.ip);
    await db
      .insertInto("login_attempts")
      .values({ account: accountKey(input.email), ip: input.ip, succeeded: false })
      .execute();
    const account = await findAccount(db, input.email);
    if (!account) return;
    await mailSignInLink(deps, account, "sign_in");
  });
}

/**
 * Creates a link for the account and queues its mail in one transaction, in the system scope: the
 * caller has decided the contact may have it (a verified address, or staff who see the contact).
 */
export async function mailSignInLink(
  deps: AppDeps,
  account: { contact_id: string; client_id: string; email: string; first_name: string },
  why: "sign_in" | "invite",
) {
  const token = newSecret("sbl_");
  const ttl = deps.config.PORTAL_LINK_TTL_MINUTES;
  const msp = (await deps.db.selectFrom("msp").select("name").executeTakeFirst())?.name ?? "Support";
  const link = `${publicBase(deps.config)}/portal/sign-in#token=${token}`;
  const intro =
    why === "invite"
      ? `${msp} invited you to their support portal, where you can open tickets and follow them.`
      : "Here is the link you asked for to sign in to the support portal.";
  const body = (url: string) =>
    `Hello ${account.first_name},\n\n${intro}\n\n${url}\n\nThe link works once, for ${ttl} minutes. If you did not ask for it, ignore this message.\n\n${msp}`;
  await asSystem(() =>
    deps.db.transaction().execute(async (trx) => {
      await trx
        .insertInto("portal_sign_in_links")
        .values({
          token_hash: sha256(token),
          contact_id: account.contact_id,
          client_id: account.client_id,
          purpose: "sign_in",
          expires_at: new Date(Date.now() + ttl * 60_000),
        })
        .execute();
      await queueSystemMail(deps, trx, {
        to: account.email,
        subject: `Sign in to ${msp} support`,
        text: body("[sign-in link: sent, not stored]"),
        secretText: body(link),
        template: "portal_sign_in",
      });
    }),
  );
}

/** Redeems a sign-in link once: the link is spent in the statement that checks it. */
export async function redeemSignInLink(
  deps: AppDeps,
  input: { token: string; ip: string; userAgent?: string },
) {
  const { db } = deps;
  return asSystem(async () => {
    const spent = await db
      .updateTable("portal_sign_in_links")
      .set({ used_at: new Date() })
      .where("token_hash", "=", sha256(input.token))
      .where("purpose", "=", "sign_in")
      .where("used_at", "is", null)
      .where("expires_at", ">", new Date())
      .returning(["contact_id", "client_id"])
      .executeTakeFirst();
    const account = spent
      ? await db
          .selectFrom("portal_accounts as a")
          .innerJoin("contacts as c", "c.id", "a.contact_id")
          .innerJoin("clients as cl", "cl.id", "a.client_id")
          .select(["a.contact_id", "a.client_id", "a.company_admin", "c.first_name", "c.last_name"])
          .where("a.contact_id", "=", spent.contact_id)
          .where("a.enabled", "=", true)
          .where("c.active", "=", true)
          .where("cl.active", "=", true)
          .executeTakeFirst()
      : undefined;
    if (!account) {
      throw new AppError(
        "unauthenticated",
        401,
        "This sign-in link is invalid, used or expired; ask for a new one",
      );
    }
    return signedIn(deps, account, input, "link");
  });
}

async function signedIn(
  deps: AppDeps,
  account: {
    contact_id: string;
    client_id: string;
    company_admin: boolean;
    first_name: string;
    last_name: string;
  },
  meta: { ip: string; userAgent?: string },
  method: "link" | "password",
) {
  const session = await openPortalSession(deps.db, account, {
    ...meta,
    ttlHours: deps.config.PORTAL_SESSION_TTL_HOURS,
  });
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .updateTable("portal_accounts")
      .set({ last_sign_in_at: new Date() })
      .where("contact_id", "=", account.contact_id)
      .execute();
    await writeAudit(trx, contactActor(account, meta.ip), {
      action: "portal.sign_in",
      entityType: "contact",
      entityId: account.contact_id,
      clientId: account.client_id,
      after: { method },
    });
  });
  return session;
}

/**
 * Password sign-in. With TOTP set up, the code is required too: without it the answer is 401 with
 * `details.totpRequired`, so the page can ask for it; a wrong code counts as a failure.
 */
export async function passwordSignIn(
  deps: AppDeps,
  input: { email: string; password: string; totpCode?: string; ip: string; userAgent?: string },
) {
  const { db } = deps;
  return asSystem(async () => {
    await assertNotLimited(db, deps, input.email, input.ip);
    const account = await findAccount(db, input.email);
    let ok = await verifyPassword(account?.password_hash ?? null, input.password);
    let needCode = false;
    if (ok && account?.totp_secret) {
      if (!input.totpCode) needCode = true;
      else {
        const seed = parseTotpSeed((await secretBox(deps.config)).open(account.totp_secret));
        ok = !!seed && verifyTotp(seed, input.totpCode);
      }
    }
    if (needCode) {
      throw new AppError("unauthenticated", 401, "Enter the code from your authenticator app", {
        totpRequired: true,
      });
    }
    await db
      .insertInto("login_attempts")
      .values({ account: accountKey(input.email), ip: input.ip, succeeded: ok })
      .execute();
    if (!ok || !account) throw new AppError("unauthenticated", 401, "Wrong email, password or code");
    return signedIn(deps, account, input, "password");
  });
}

export async function portalLogout(db: Database, token: string) {
  await asSystem(() => db.deleteFrom("portal_sessions").where("token_hash", "=", sha256(token)).execute());
}

export async function checkNewPassword(password: string) {
  if (password.length < 12) throw invalid("body.password", "must be at least 12 characters");
  return hashPassword(password);
}
