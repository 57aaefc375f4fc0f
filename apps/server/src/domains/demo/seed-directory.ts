import {
  CreateClientRequest,
  CreateContactRequest,
  CreateSiteRequest,
  CreateUserRequest,
} from "@switchboard/shared";
import { sql } from "kysely";
import type { Database } from "../../db/database.ts";
import { type Actor, systemActor } from "../auth/actor.ts";
import { createContact } from "../clients/contacts-service.ts";
import { createClient } from "../clients/service.ts";
import { createSite } from "../clients/sites-service.ts";
import { isSetUp, runSetup } from "../setup/service.ts";
import { createTeam } from "../teams/service.ts";
import { createUser, updateUser } from "../users/service.ts";
import { DEMO_CLIENTS } from "./clients.ts";
import { type ClientKey, DEMO_MSP, DEMO_TEAMS, DEMO_TECHS, type TeamKey, type TechKey } from "./data.ts";

export interface DemoClientIds {
  id: string;
  sites: string[];
  contacts: Record<string, { id: string; phone: string | null }>;
}

export interface Directory {
  teams: Record<TeamKey, string>;
  clients: Record<ClientKey, DemoClientIds>;
  techs: Record<TechKey, Actor>;
  createdSetup: boolean;
}

const lower = (s: string) => s.toLowerCase();

// Each record is looked up by its natural key before it is created, so a seed that failed half way
// (the directory services commit one record at a time) can simply be run again.
async function ensureTeams(db: Database, actor: Actor, tick: (s: string) => void) {
  const teams = {} as Record<TeamKey, string>;
  for (const [key, team] of Object.entries(DEMO_TEAMS) as [TeamKey, (typeof DEMO_TEAMS)[TeamKey]][]) {
    const found = await db
      .selectFrom("teams")
      .select("id")
      .where(sql<string>`lower(name)`, "=", lower(team.name))
      .executeTakeFirst();
    teams[key] = found?.id ?? (await createTeam(db, actor, { ...team, memberIds: [] })).id;
    tick(`team ${team.name}`);
  }
  return teams;
}

async function ensureClient(db: Database, actor: Actor, key: ClientKey, tick: (s: string) => void) {
  const c = DEMO_CLIENTS[key];
  const found = await db
    .selectFrom("clients")
    .select("id")
    .where(sql<string>`lower(name)`, "=", lower(c.name))
    .executeTakeFirst();
  const clientId =
    found?.id ??
    (
      await createClient(
        db,
        actor,
        CreateClientRequest.parse({
          name: c.name,
          emailDomains: c.emailDomains,
          phone: c.phone,
          website: c.website,
          notes: c.notes,
        }),
      )
    ).id;
  tick(c.name);
  const sites: string[] = [];
  for (const s of c.sites) {
    const existing = await db
      .selectFrom("sites")
      .select("id")
      .where("client_id", "=", clientId)
      .where("name", "=", s.name)
      .executeTakeFirst();
    sites.push(existing?.id ?? (await createSite(db, actor, clientId, CreateSiteRequest.parse(s))).id);
  }
  const contacts: DemoClientIds["contacts"] = {};
  for (const [ck, p] of Object.entries(c.contacts)) {
    const email = lower(p.emails[0]!);
    const existing = await db
      .selectFrom("contacts")
      .select("id")
      .where("client_id", "=", clientId)
      .where(sql<boolean>`${email} = any(emails)`)
      .executeTakeFirst();
    const id =
      existing?.id ??
      (
        await createContact(
          db,
          actor,
          CreateContactRequest.parse({
            clientId,
            siteId: p.site === undefined ? null : sites[p.site],
            firstName: p.firstName,
            lastName: p.lastName,
            title: p.title,
            emails: p.emails,
            phones: p.phones,
            vip: p.vip ?? false,
            notes: p.notes ?? "",
          }),
        )
      ).id;
    contacts[ck] = { id, phone: p.phones[0]?.number ?? null };
    tick(`${p.firstName} ${p.lastName}`);
  }
  return { id: clientId, sites, contacts };
}

async function ensureTechs(
  db: Database,
  actor: Actor,
  dir: Pick<Directory, "teams" | "clients">,
  password: string,
  tick: (s: string) => void,
) {
  let createdSetup = false;
  const techs = {} as Record<TechKey, Actor>;
  for (const [key, t] of Object.entries(DEMO_TECHS) as [TechKey, (typeof DEMO_TECHS)[TechKey]][]) {
    const teamIds = t.teams.map((k) => dir.teams[k]);
    const clientIds = t.clients?.map((k) => dir.clients[k].id) ?? null;
    let user = await db
      .selectFrom("users")
      .select(["id", "name", "role", "version"])
      .where(sql<string>`lower(email)`, "=", lower(t.email))
      .executeTakeFirst();
    if (!user && !(await isSetUp(db))) {
      // An empty install: the first demo admin doubles as the first-run setup.
      const admin = await runSetup(
        db,
        { mspName: DEMO_MSP.name, name: t.name, email: t.email, password },
        "demo",
      );
      const updated = await updateUser(db, actor, admin.id, {
        version: admin.version,
        teamIds,
        timezone: t.timezone,
        phone: t.phone,
      });
      user = updated;
      createdSetup = true;
    } else if (!user) {
      user = await createUser(
        db,
        actor,
        CreateUserRequest.parse({
          email: t.email,
          name: t.name,
          role: t.role,
          password,
          allClients: clientIds === null,
          clientIds: clientIds ?? [],
          teamIds,
          timezone: t.timezone,
          phone: t.phone,
        }),
      );
    }
    techs[key] = {
      kind: "user",
      userId: user.id,
      name: user.name,
      role: user.role,
      clientIds,
      teamIds,
      timezone: t.timezone,
      via: "system",
    };
    tick(t.name);
  }
  return { techs, createdSetup };
}

export const directorySteps = () =>
  Object.keys(DEMO_TEAMS).length +
  Object.keys(DEMO_TECHS).length +
  Object.values(DEMO_CLIENTS).reduce((n, c) => n + 1 + Object.keys(c.contacts).length, 0);

/** Teams, clients with their sites and contacts, then the technicians (who reference both). */
export async function seedDirectory(
  db: Database,
  password: string,
  tick: (s: string) => void,
): Promise<Directory> {
  const actor = systemActor("demo");
  const teams = await ensureTeams(db, actor, tick);
  const clients = {} as Record<ClientKey, DemoClientIds>;
  for (const key of Object.keys(DEMO_CLIENTS) as ClientKey[]) {
    clients[key] = await ensureClient(db, actor, key, tick);
  }
  const { techs, createdSetup } = await ensureTechs(db, actor, { teams, clients }, password, tick);
  return { teams, clients, techs, createdSetup };
}
