// The admin screens, one chunk loaded only when an admin opens one of them.
export { AuditPage } from "../features/admin/audit-page.tsx";
export { EmailPage } from "../features/admin/email-page.tsx";
export { ImportPage } from "../features/admin/import-page.tsx";
export { StatusesPage } from "../features/admin/statuses-page.tsx";
export { TeamsPage } from "../features/admin/teams-page.tsx";
export { UsersPage } from "../features/admin/users-page.tsx";
