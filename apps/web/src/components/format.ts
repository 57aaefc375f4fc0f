const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto", style: "narrow" });

/** "3h", "2d", "45m": how long something has been waiting, compact enough for a list column. */
export function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (s < 60) return "now";
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function relative(iso: string, now = Date.now()): string {
  const diff = (Date.parse(iso) - now) / 1000;
  const abs = Math.abs(diff);
  if (abs < 60) return "just now";
  if (abs < 3600) return rtf.format(Math.round(diff / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(diff / 3600), "hour");
  return rtf.format(Math.round(diff / 86400), "day");
}

const dt = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });
const d = new Intl.DateTimeFormat("en", { weekday: "short", month: "short", day: "numeric" });
export const dateTime = (iso: string) => dt.format(new Date(iso));
export const dateOnly = (iso: string) => d.format(new Date(iso));

export function duration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m ? `${m}m ${String(s).padStart(2, "0")}s` : `${s}s`;
}

export const PRIORITY_LABELS: Record<number, string> = { 1: "P1", 2: "P2", 3: "P3", 4: "P4" };
export const PRIORITY_NAMES: Record<number, string> = { 1: "Critical", 2: "High", 3: "Medium", 4: "Low" };
export const TYPE_LABELS: Record<string, string> = {
  incident: "Incident",
  service_request: "Service request",
  problem: "Problem",
  alert: "Alert",
  project_task: "Project task",
  maintenance: "Maintenance",
};
export const CATEGORY_LABELS: Record<string, string> = {
  new: "New",
  open: "Open",
  in_progress: "In progress",
  waiting_client: "Waiting on client",
  waiting_third_party: "Waiting on third party",
  scheduled: "Scheduled",
  resolved: "Resolved",
  closed: "Closed",
};

/** End of the viewer's today in UTC (follow-ups "due today" are due before it). */
export function endOfToday(): string {
  const d = new Date();
  d.setHours(23, 59, 59, 999);
  return d.toISOString();
}
export function startOfToday(): string {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d.toISOString();
}
