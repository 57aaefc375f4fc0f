// SLA and on-call pages (features/sla, features/oncall), one lazy chunk.
export { PageAckPage } from "../features/oncall/ack-page.tsx";
export { OnCallPage } from "../features/oncall/oncall-page.tsx";
export { SlaAdminPage } from "../features/sla/sla-admin-page.tsx";
