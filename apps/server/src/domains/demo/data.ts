import type { UserRole } from "../../db/schema.ts";

// The demo MSP: a small managed-services shop in Lansing, Michigan, with clients across the country.
// Every email domain is under .example (RFC 2606) and every phone number is in the 555-01xx range set
// aside for fiction, so nothing here can reach a real person if mail or calls are ever wired up.

export const DEMO_MSP = { name: "Lakeshore Managed IT", timezone: "America/Detroit" };

export type TeamKey = "desk" | "projects" | "oncall";
export const DEMO_TEAMS: Record<TeamKey, { name: string; description: string }> = {
  desk: { name: "Service Desk", description: "First line: phones, email, password resets, break/fix." },
  projects: { name: "Projects", description: "Installs, rollouts, migrations and documentation work." },
  oncall: { name: "On-call", description: "After-hours and weekend coverage for P1 and P2 issues." },
};

export type TechKey = "dana" | "martin" | "sofia" | "jamal" | "erin" | "raj" | "marcus" | "olivia";

export interface DemoTech {
  name: string;
  email: string;
  role: UserRole;
  teams: TeamKey[];
  timezone: string;
  phone: string | null;
  /** Limited to these clients; absent means every client. */
  clients?: ClientKey[];
}

export const DEMO_TECHS: Record<TechKey, DemoTech> = {
  dana: {
    name: "Dana Whitfield",
    email: "dana.whitfield@lakeshore-it.example",
    role: "admin",
    teams: ["desk", "projects"],
    timezone: "America/Detroit",
    phone: "(517) 555-0100",
  },
  sofia: {
    name: "Sofia Delgado",
    email: "sofia.delgado@lakeshore-it.example",
    role: "dispatcher",
    teams: ["desk"],
    timezone: "America/Detroit",
    phone: "(517) 555-0101",
  },
  martin: {
    name: "Martin Hale",
    email: "martin.hale@lakeshore-it.example",
    role: "technician",
    teams: ["desk"],
    timezone: "America/Detroit",
    phone: "(517) 555-0102",
  },
  jamal: {
    name: "Jamal Carter",
    email: "jamal.carter@lakeshore-it.example",
    role: "technician",
    teams: ["desk", "oncall"],
    timezone: "America/Detroit",
    phone: "(517) 555-0103",
  },
  erin: {
    name: "Erin Kowalski",
    email: "erin.kowalski@lakeshore-it.example",
    role: "technician",
    teams: ["projects"],
    timezone: "America/Detroit",
    phone: "(517) 555-0104",
  },
  raj: {
    name: "Raj Patel",
    email: "raj.patel@lakeshore-it.example",
    role: "technician",
    teams: ["projects", "oncall"],
    timezone: "America/Chicago",
    phone: "(312) 555-0105",
  },
  marcus: {
    name: "Marcus Lee",
    email: "marcus.lee@lakeshore-it.example",
    role: "technician",
    teams: ["desk", "oncall"],
    timezone: "America/Los_Angeles",
    phone: "(949) 555-0106",
    // A contractor in Irvine who covers the California clients only.
    clients: ["hollis", "sunset"],
  },
  olivia: {
    name: "Olivia Grant",
    email: "olivia.grant@lakeshore-it.example",
    role: "readonly",
    teams: [],
    timezone: "America/Detroit",
    phone: null,
  },
};

export interface DemoSite {
  name: string;
  addressLine1: string;
  city: string;
  region: string;
  postalCode: string;
  country: string;
  timezone: string;
  phone?: string;
}

export interface DemoContact {
  firstName: string;
  lastName: string;
  title: string;
  emails: string[];
  phones: { label: string; number: string }[];
  /** Index into the client's sites. */
  site?: number;
  vip?: boolean;
  notes?: string;
}

export interface DemoClient {
  name: string;
  emailDomains: string[];
  phone: string;
  website: string | null;
  notes: string;
  sites: DemoSite[];
  contacts: Record<string, DemoContact>;
}

export type ClientKey =
  | "dental"
  | "library"
  | "hollis"
  | "capitol"
  | "northfield"
  | "vet"
  | "bakery"
  | "pinecrest"
  | "sunset"
  | "harbor"
  | "desert"
  | "parish"
  | "mesa"
  | "soccer"
  | "cedar";
