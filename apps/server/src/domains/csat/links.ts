import type { Config } from "../../config.ts";
import { serverKeys, signToken, verifyToken } from "../../lib/server-keys.ts";

// Rating links in the resolution email: signed for the purpose "csat" and one ticket, valid 30 days.
// Single purpose (a rating token opens nothing else), unguessable (HMAC-SHA256 with a key derived from
// the vault KEK, which never enters the database) and expiring.

const PURPOSE = "csat";
export const RATING_LINK_DAYS = 30;

type KeyConfig = Parameters<typeof serverKeys>[0];

export async function ratingToken(config: KeyConfig, ticketId: string) {
  return signToken(await serverKeys(config), PURPOSE, { t: ticketId }, RATING_LINK_DAYS * 86400);
}

export async function ticketOfRatingToken(config: KeyConfig, token: string) {
  return verifyToken<{ t: string }>(await serverKeys(config), PURPOSE, token)?.t ?? null;
}

/** The three one-click links, for the `{{rating.*}}` placeholders of the resolution email. */
export async function ratingLinks(config: Config, ticketId: string) {
  const token = await ratingToken(config, ticketId);
  const base = (config.SWITCHBOARD_PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, "");
  const link = (r: string) => `${base}/portal/rate#t=${token}&r=${r}`;
  return { "rating.good": link("good"), "rating.okay": link("okay"), "rating.bad": link("bad") };
}
