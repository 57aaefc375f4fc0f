import type { StatusCategory, TicketSource, TicketType } from "../../db/schema.ts";
import type { ClientKey, TeamKey, TechKey } from "./data.ts";

/** Something that happened on a ticket, `at` minutes after it was opened. */
export type Step =
  | { at: number; by: TechKey; reply: string }
  | { at: number; by: TechKey; note: string }
  | { at: number; by: TechKey; call: "inbound" | "outbound"; seconds: number; text: string }
  | { at: number; from: string; email: string }
  | { at: number; by: TechKey; status: StatusCategory }
  | { at: number; by: TechKey; assign: TechKey; team?: TeamKey }
  | { at: number; by: TechKey; priority: 1 | 2 | 3 | 4 }
  | { at: number; by: TechKey; followUpInHours: number };

export interface DemoTicket {
  key: string;
  client: ClientKey;
  /** Key into the client's contacts. */
  contact?: string;
  site?: number;
  subject: string;
  description: string;
  type: TicketType;
  source: TicketSource;
  priority: 1 | 2 | 3 | 4;
  team?: TeamKey;
  assignee?: TechKey;
  tags?: string[];
  /** Who logged it; absent when it arrived by itself (email, monitoring). */
  by?: TechKey;
  openedHoursAgo: number;
  /** The phone call that opened it. */
  intake?: { seconds: number; notes: string };
  parent?: string;
  steps: Step[];
}

// The tickets follow the seed days: a Monday at an MSP. "Today" is the day the seed runs.
export const DEMO_TICKETS: DemoTicket[] = [
  {
    key: "pw-cedar",
    client: "cedar",
    contact: "banks",
    subject: "Password expired over the weekend - can't sign in",
    description: "Tyler's Windows password expired Saturday; locked out after three tries this morning.",
    type: "service_request",
    source: "phone",
    priority: 3,
    team: "desk",
    assignee: "martin",
    tags: ["password-reset"],
    by: "martin",
    openedHoursAgo: 7.9,
    intake: {
      seconds: 240,
      notes: "First call of the day. User locked out, confirmed identity by callback to desk line.",
    },
    steps: [
      {
        at: 4,
        by: "martin",
        note: "Unlocked account in AD, set temporary password, forced change at next sign-in.",
      },
      {
        at: 6,
        by: "martin",
        reply:
          "Hi Tyler, you're all set - sign in with the temporary password I gave you on the phone and pick a new one. Have a good week!",
      },
      { at: 7, by: "martin", status: "resolved" },
    ],
  },
  {
    key: "pw-harbor",
    client: "harbor",
    contact: "quinn",
    subject: "Locked out of email after weekend",
    description:
      "Derek can't get into Outlook or the portal since Saturday. Says he may have typed the old password on his phone.",
    type: "service_request",
    source: "email",
    priority: 3,
    team: "desk",
    tags: ["password-reset", "m365"],
    openedHoursAgo: 56,
    steps: [
      {
        at: 0,
        from: "quinn",
        email: "Hi, I can't log into email since Saturday. Can someone reset it? Thanks, Derek",
      },
      { at: 2940, by: "sofia", assign: "jamal", team: "desk" },
      {
        at: 2950,
        by: "jamal",
        call: "outbound",
        seconds: 420,
        text: "Called Derek back on the office line; verified with Ellen. Old password cached on his iPhone kept locking the account.",
      },
      {
        at: 2958,
        by: "jamal",
        note: "Reset M365 password, removed and re-added the mail account on his phone. Sign-in logs clean.",
      },
      { at: 2960, by: "jamal", status: "resolved" },
    ],
  },
  {
    key: "pw-dental",
    client: "dental",
    contact: "frontdesk",
    site: 1,
    subject: "Front desk PC password not working (Okemos)",
    description: "Tasha can't sign in at the Okemos front desk. Patients arriving at 8:30.",
    type: "incident",
    source: "phone",
    priority: 2,
    team: "desk",
    tags: ["password-reset"],
    by: "sofia",
    openedHoursAgo: 7.6,
    intake: { seconds: 150, notes: "Urgent: first patients at 8:30. Asked Martin to take it." },
    steps: [
      { at: 2, by: "sofia", assign: "martin" },
      {
        at: 9,
        by: "martin",
        call: "outbound",
        seconds: 300,
        text: "Walked Tasha through the reset after verifying her with Kelly (office manager).",
      },
      { at: 12, by: "martin", status: "resolved" },
    ],
  },
  {
    key: "chartwise",
    client: "dental",
    contact: "novak",
    site: 0,
    subject: "ChartWise slow / disconnecting remotely and in the office",
    description:
      "Longstanding: ChartWise freezes for 20-30 s several times a day in ops 1-4 and drops the remote (VPN) session from Dr. Raman's home office.",
    type: "problem",
    source: "phone",
    priority: 2,
    team: "desk",
    assignee: "martin",
    tags: ["chartwise", "recurring"],
    by: "martin",
    openedHoursAgo: 24 * 9,
    intake: {
      seconds: 900,
      notes:
        "Kelly reports freezes in the ops and disconnects for Dr. Raman at home. Collected times of last 5 freezes.",
    },
    steps: [
      {
        at: 60,
        by: "martin",
        note: "PMS-SRV01: SQL Express memory capped at 1 GB, DB is 6 GB. Event log shows lock timeouts at the freeze times.",
      },
      {
        at: 24 * 60,
        by: "martin",
        reply:
          "Hi Kelly, we found the database server is short on memory at busy times. We'd like to make changes after hours Thursday - does that work?",
      },
      { at: 24 * 60 + 5, by: "martin", status: "waiting_client" },
      {
        at: 26 * 60,
        from: "novak",
        email: "Thursday after 6pm is fine. Dr. Raman says it happened again at 11:40 today. - Kelly",
      },
      { at: 26 * 60 + 10, by: "martin", status: "scheduled" },
      {
        at: 3 * 24 * 60 + 720,
        by: "martin",
        note: "Raised SQL max memory to 6 GB, moved ChartWise DB log to the SSD volume, excluded DB folder from AV scanning. Will monitor.",
      },
      { at: 3 * 24 * 60 + 725, by: "martin", status: "in_progress" },
      {
        at: 5 * 24 * 60,
        by: "martin",
        note: "Still drops the VPN session: ChartWise client uses a 30 s DB keepalive, VPN idle timeout is 20 s.",
      },
      {
        at: 9 * 24 * 60 - 60,
        by: "martin",
        call: "outbound",
        seconds: 1500,
        text: "Follow-up with Kelly and Dr. Raman: changed keepalive in ChartWise server settings to 10 s and the VPN idle timeout to 10 min; tested from her home PC with her on the line.",
      },
      {
        at: 9 * 24 * 60 - 30,
        by: "martin",
        reply:
          "Good news: with the database and server settings reconfigured, ChartWise stayed connected through our test from home and in all four ops. We'll check in Friday, but you should be set.",
      },
      { at: 9 * 24 * 60 - 25, by: "martin", status: "resolved" },
    ],
  },
  {
    key: "netdoc",
    client: "hollis",
    contact: "vance",
    subject: "Network documentation for cyber insurance renewal",
    description:
      "Richard needs a current network diagram and list of firewall rules / MFA coverage for the insurer's questionnaire.",
    type: "service_request",
    source: "phone",
    priority: 3,
    team: "projects",
    assignee: "marcus",
    tags: ["documentation"],
    by: "marcus",
    openedHoursAgo: 6,
    intake: {
      seconds: 360,
      notes: "Insurer's questionnaire due Friday. Needs diagram + firewall summary + MFA status.",
    },
    steps: [
      {
        at: 25,
        by: "marcus",
        note: "Exported diagram from the documentation vault, updated for the new San Diego switch. Firewall rule summary from FW-IRV01.",
      },
      {
        at: 35,
        by: "marcus",
        reply:
          "Hi Richard, attached are the current network diagram for both offices, our firewall rule summary and the MFA coverage report (100% of mailboxes). Let me know if the insurer needs anything else.",
      },
      { at: 40, by: "marcus", status: "resolved" },
    ],
  },
  {
    key: "library-p1",
    client: "library",
    contact: "becker",
    site: 0,
    subject: "All public PCs offline - SeatSaver reservation system down",
    description:
      "Every public computer shows 'offline - see the desk' and patrons cannot book or log in. Library opened at 10:00; line at the desk.",
    type: "incident",
    source: "phone",
    priority: 1,
    team: "desk",
    assignee: "martin",
    tags: ["outage", "seatsaver"],
    by: "martin",
    openedHoursAgo: 5.2,
    intake: {
      seconds: 180,
      notes: "Tom: all 14 public PCs offline since opening. Business down - all hands.",
    },
    steps: [
      {
        at: 3,
        by: "martin",
        note: "Remoted into LIB-SRV01: SeatSaver Server service stopped (failed after last night's Windows update reboot; dependency on SQL service that started late).",
      },
      {
        at: 8,
        by: "martin",
        note: "Service would not start cleanly; restarted the server. SeatSaver up, clients reconnecting.",
      },
      {
        at: 12,
        by: "martin",
        call: "outbound",
        seconds: 240,
        text: "Tom confirms all public PCs online and booking again.",
      },
      {
        at: 14,
        by: "martin",
        reply:
          "The reservation system is back: the SeatSaver service failed to start after an overnight update. We restarted the server and set the service to delayed start so it waits for its database. Sorry for the disruption this morning.",
      },
      { at: 15, by: "martin", status: "resolved" },
      {
        at: 30,
        by: "dana",
        note: "Added a monitor for the SeatSaver service so we hear about this before patrons do.",
      },
    ],
  },
  {
    key: "bsod",
    client: "northfield",
    contact: "pham",
    subject: "Laptop blue screen - DRIVER_IRQL_NOT_LESS_OR_EQUAL",
    description: "Linh's laptop bluescreens several times a day, lost an estimate twice. Very frustrated.",
    type: "incident",
    source: "phone",
    priority: 2,
    team: "desk",
    assignee: "martin",
    tags: ["bsod", "hardware"],
    by: "martin",
    openedHoursAgo: 4,
    intake: { seconds: 600, notes: "User frustrated - lost work twice. Crash when docking/undocking." },
    steps: [
      {
        at: 15,
        by: "martin",
        note: "Minidump points at the USB-C dock's network driver (rtux64w10.sys). Dock firmware from 2022.",
      },
      {
        at: 35,
        by: "martin",
        note: "Updated dock firmware and NIC driver, turned on AutoSave in Office. Docked/undocked 5x with no crash.",
      },
      {
        at: 40,
        by: "martin",
        reply:
          "Hi Linh, the crashes came from an old driver for your docking station - it's updated now and I tested it with you on the phone. I also turned on AutoSave so you won't lose an estimate again.",
      },
      { at: 42, by: "martin", status: "resolved" },
    ],
  },
  {
    key: "agent-schedule",
    client: "capitol",
    contact: "ferris",
    subject: "New laptop for Amy - schedule monitoring agent install",
    description:
      "Amy received a new laptop. Needs our monitoring and remote support agent, AV and backup before she uses it with client files.",
    type: "service_request",
    source: "email",
    priority: 4,
    team: "desk",
    assignee: "martin",
    tags: ["onboarding", "agent-install"],
    by: "martin",
    openedHoursAgo: 3,
    steps: [
      {
        at: 2,
        by: "martin",
        reply:
          "Hi Amy, we need about 30 minutes on your new laptop to install our support tools. Would tomorrow at 9:00 or 1:30 work? It can stay on your desk - we connect remotely.",
      },
      { at: 3, by: "martin", status: "waiting_client" },
      { at: 50, from: "ferris", email: "1:30 tomorrow works. I'll leave it on and plugged in. Thanks!" },
      { at: 55, by: "martin", status: "scheduled" },
      { at: 56, by: "martin", followUpInHours: 22 },
    ],
  },
  {
    key: "mac-agent",
    client: "mesa",
    contact: "bauer",
    subject: "Monitoring agent offline on Erik's MacBook Pro",
    description:
      "The agent on MVA-MBP-07 reports offline since the macOS update; remote support can't connect.",
    type: "incident",
    source: "monitoring",
    priority: 3,
    team: "desk",
    tags: ["mac", "agent"],
    openedHoursAgo: 3.5,
    steps: [
      { at: 40, by: "sofia", assign: "jamal" },
      {
        at: 60,
        by: "jamal",
        call: "outbound",
        seconds: 540,
        text: "Nina walked Erik's laptop through System Settings with me.",
      },
      {
        at: 70,
        by: "jamal",
        note: "macOS update reset privacy permissions: re-granted Full Disk Access and Screen Recording to the agent, restarted the agent daemon. Online again.",
      },
      { at: 72, by: "jamal", status: "resolved" },
    ],
  },
  {
    key: "isp",
    client: "northfield",
    contact: "doyle",
    subject: "Internet drops several times a day - ISP circuit",
    description:
      "Longstanding: the plant loses internet for 2-10 minutes, 3-6 times a day. Machines' cloud CAM sync and VoIP fail during drops.",
    type: "problem",
    source: "phone",
    priority: 2,
    team: "desk",
    assignee: "jamal",
    tags: ["isp", "recurring"],
    by: "jamal",
    openedHoursAgo: 24 * 6,
    intake: {
      seconds: 420,
      notes: "Frank: drops are getting worse; phones cut out mid-call with customers.",
    },
    steps: [
      {
        at: 90,
        by: "jamal",
        note: "Firewall logs: WAN link loses carrier, not a DHCP/PPPoE issue. Pinged ISP's gateway continuously - loss during each drop. It's the circuit.",
      },
      {
        at: 120,
        by: "jamal",
        call: "outbound",
        seconds: 1800,
        text: "Opened ticket with the ISP (ref FBR-448210). They see errors on the fiber handoff, will dispatch a tech.",
      },
      { at: 125, by: "jamal", status: "waiting_third_party" },
      {
        at: 4 * 24 * 60,
        by: "jamal",
        note: "ISP replaced the ONT. Drops continue (2 today). ISP now says the line needs new construction: 4-6 weeks.",
      },
      {
        at: 6 * 24 * 60 - 120,
        by: "jamal",
        call: "outbound",
        seconds: 720,
        text: "Told Frank the ISP timeline. Options: (a) escalate with ISP account rep, (b) add an LTE backup line with automatic failover (~$60/mo + hardware), (c) both.",
      },
      {
        at: 6 * 24 * 60 - 110,
        by: "jamal",
        reply:
          "Hi Frank, as discussed: the ISP needs 4-6 weeks to rebuild the line. We recommend an LTE backup with automatic failover in the meantime (quote attached). Let us know how you'd like to proceed.",
      },
      { at: 6 * 24 * 60 - 105, by: "jamal", status: "waiting_client" },
      { at: 6 * 24 * 60 - 100, by: "jamal", followUpInHours: 44 },
    ],
  },
  {
    key: "vpn",
    client: "hollis",
    contact: "kim",
    site: 1,
    subject: "VPN password reset - working from home",
    description:
      "Jonathan can't connect to the VPN from home; password rejected after he changed it last week.",
    type: "service_request",
    source: "phone",
    priority: 3,
    team: "desk",
    assignee: "marcus",
    tags: ["password-reset", "vpn"],
    by: "marcus",
    openedHoursAgo: 2.5,
    intake: {
      seconds: 480,
      notes: "Caller says he's Jonathan Kim. ID verification required (law office policy).",
    },
    steps: [
      {
        at: 5,
        by: "marcus",
        note: "ID verification: called back on the mobile number on file (619.555.0134) and Denise Alvarez confirmed his employee ID. Verified.",
      },
      {
        at: 10,
        by: "marcus",
        note: "VPN uses its own local account (not synced). Reset it, sent one-time password by SMS to the verified mobile.",
      },
      {
        at: 14,
        by: "marcus",
        call: "outbound",
        seconds: 200,
        text: "Jonathan connected to the VPN and reached the document system.",
      },
      { at: 15, by: "marcus", status: "resolved" },
    ],
  },
];
