import type { ColumnType, Generated, JSONColumnType } from "kysely";

/** Table types for Kysely. Timestamps are UTC `timestamptz`, read as Date. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Json<T extends object | null> = JSONColumnType<T, string | undefined, string>;

export type UserRole = "admin" | "dispatcher" | "technician" | "readonly";
export type StatusCategory =
  | "new"
  | "open"
  | "in_progress"
  | "waiting_client"
  | "waiting_third_party"
  | "scheduled"
  | "resolved"
  | "closed";
export type TicketType =
  | "incident"
  | "service_request"
  | "problem"
  | "alert"
  | "project_task"
  | "maintenance";
export type TicketSource = "phone" | "email" | "portal" | "monitoring" | "api" | "walk_in";
export type TimelineKind = "reply" | "note" | "call" | "event" | "email";

export interface PhoneNumber {
  label: string;
  number: string;
}

export interface MspTable {
  id: Generated<number>;
  name: string;
  timezone: Generated<string>;
  created_at: CreatedAt;
}

export interface UsersTable {
  id: Generated<string>;
  email: string;
  name: string;
  role: UserRole;
  password_hash: string | null;
  active: Generated<boolean>;
  all_clients: Generated<boolean>;
  timezone: Generated<string>;
  phone: string | null;
  last_seen_changes_at: Date | null;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface TeamsTable {
  id: Generated<string>;
  name: string;
  description: Generated<string>;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface TeamMembersTable {
  team_id: string;
  user_id: string;
}

export interface ClientsTable {
  id: Generated<string>;
  name: string;
  email_domains: Generated<string[]>;
  phone: string | null;
  website: string | null;
  notes: Generated<string>;
  active: Generated<boolean>;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface UserClientsTable {
  user_id: string;
  client_id: string;
}

export interface SitesTable {
  id: Generated<string>;
  client_id: string;
  name: string;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  region: string | null;
  postal_code: string | null;
  country: string | null;
  timezone: Generated<string>;
  phone: string | null;
  notes: Generated<string>;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface ContactsTable {
  id: Generated<string>;
  client_id: string;
  site_id: string | null;
  first_name: string;
  last_name: Generated<string>;
  title: string | null;
  emails: Generated<string[]>;
  phones: ColumnType<PhoneNumber[], string | undefined, string>;
  phone_digits: Generated<string>;
  vip: Generated<boolean>;
  notes: Generated<string>;
  active: Generated<boolean>;
  merged_into_id: Generated<string | null>;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface TicketStatusesTable {
  id: Generated<string>;
  name: string;
  category: StatusCategory;
  builtin: Generated<boolean>;
  sort_order: Generated<number>;
  created_at: CreatedAt;
}

export interface TicketsTable {
  id: Generated<string>;
  number: Generated<number>;
  subject: string;
  description: Generated<string>;
  client_id: string;
  site_id: string | null;
  contact_id: string | null;
  type: TicketType;
  source: TicketSource;
  priority: number;
  status_id: string;
  status_category: StatusCategory;
  is_open: ColumnType<boolean, never, never>;
  team_id: string | null;
  assignee_id: string | null;
  tags: Generated<string[]>;
  follow_up_at: Timestamp | null;
  parent_id: string | null;
  merged_into_id: string | null;
  created_by_user_id: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
  last_activity_at: Timestamp;
  status_changed_at: Timestamp;
  resolved_at: Timestamp | null;
  closed_at: Timestamp | null;
  version: Generated<number>;
  search_vector: ColumnType<string, string | undefined, string>;
  /** The SLA clock's next due instant and state (domains/sla), written by the SLA worker only. */
  sla_due_at: Generated<Date | null>;
  sla_state: Generated<"running" | "paused" | "breached" | "met" | null>;
}

export interface TicketContactsTable {
  ticket_id: string;
  contact_id: string;
}

export interface TimelineEntriesTable {
  id: Generated<string>;
  seq: ColumnType<number, never, never>;
  ticket_id: string;
  kind: TimelineKind;
  visibility: "public" | "internal";
  author_user_id: string | null;
  author_contact_id: string | null;
  body: Generated<string>;
  call_direction: "inbound" | "outbound" | null;
  call_number: string | null;
  call_duration_seconds: number | null;
  event: Json<Record<string, unknown>> | null;
  created_at: CreatedAt;
}

export interface AttachmentsTable {
  id: Generated<string>;
  ticket_id: string;
  timeline_entry_id: string | null;
  filename: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  storage_key: string;
  created_by_user_id: string | null;
  created_at: CreatedAt;
}

export interface SessionsTable {
  token_hash: string;
  user_id: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
}

export interface ApiTokensTable {
  id: Generated<string>;
  user_id: string;
  name: string;
  token_hash: string;
  prefix: string;
  created_at: CreatedAt;
  expires_at: Timestamp | null;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface LoginAttemptsTable {
  id: ColumnType<number, never, never>;
  account: string;
  ip: string;
  succeeded: boolean;
  at: CreatedAt;
}

export interface IdempotencyKeysTable {
  user_id: string;
  key: string;
  request_hash: string;
  status_code: number | null;
  response: Json<object> | null;
  created_at: CreatedAt;
}

export interface AuditLogTable {
  id: ColumnType<number, never, never>;
  at: CreatedAt;
  actor_user_id: string | null;
  actor_label: string;
  action: string;
  entity_type: string;
  entity_id: string;
  client_id: string | null;
  before: Json<object> | null;
  after: Json<object> | null;
  ip: string | null;
  request_id: string | null;
}

export interface DomainEventsTable {
  id: ColumnType<number, never, never>;
  type: string;
  client_id: string | null;
  ticket_id: string | null;
  actor_user_id: string | null;
  payload: Json<Record<string, unknown>>;
  created_at: CreatedAt;
  dispatched_at: Timestamp | null;
}

export interface SavedViewsTable {
  id: Generated<string>;
  user_id: string;
  name: string;
  filters: Json<Record<string, unknown>>;
  created_at: CreatedAt;
}

export interface DB {
  msp: MspTable;
  users: UsersTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  clients: ClientsTable;
  user_clients: UserClientsTable;
  sites: SitesTable;
  contacts: ContactsTable;
  ticket_statuses: TicketStatusesTable;
  tickets: TicketsTable;
  ticket_contacts: TicketContactsTable;
  timeline_entries: TimelineEntriesTable;
  attachments: AttachmentsTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  login_attempts: LoginAttemptsTable;
  idempotency_keys: IdempotencyKeysTable;
  audit_log: AuditLogTable;
  domain_events: DomainEventsTable;
  saved_views: SavedViewsTable;
}

// --- email channel (migration 202611221200_email) ---
export type EmailTls = "implicit" | "starttls" | "none";
export type EmailMessageStatus =
  | "received"
  | "processed"
  | "duplicate"
  | "quarantined"
  | "review"
  | "unmatched"
  | "queued"
  | "sent"
  | "failed"
  | "bounced";
export type EmailTemplateKey =
  | "acknowledgement"
  | "reply"
  | "resolved"
  | "assigned"
  | "new_reply"
  | "appointment_proposal"
  | "appointment_invite"
  | "appointment_cancelled"
  | "appointment_reminder";

export interface EmailMailboxesTable {
  id: Generated<string>;
  address: string;
  name: Generated<string>;
  active: Generated<boolean>;
  imap_host: string | null;
  imap_port: number | null;
  imap_tls: Generated<EmailTls>;
  imap_user: string | null;
  imap_secret: string | null;
  imap_folder: Generated<string>;
  smtp_host: string | null;
  smtp_port: number | null;
  smtp_tls: Generated<EmailTls>;
  smtp_user: string | null;
  smtp_secret: string | null;
  default_team_id: string | null;
  default_client_id: string | null;
  stranger_policy: Generated<"new_ticket" | "review">;
  send_acknowledgement: Generated<boolean>;
  imap_uid_validity: number | null;
  imap_last_uid: Generated<number>;
  imap_lease_owner: string | null;
  imap_lease_until: Timestamp | null;
  last_polled_at: Timestamp | null;
  last_error: string | null;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface EmailMessagesTable {
  id: Generated<string>;
  direction: "inbound" | "outbound";
  source: "smtp" | "imap" | "api" | "console" | "system";
  mailbox_id: string | null;
  status: EmailMessageStatus;
  status_reason: string | null;
  message_id: string | null;
  in_reply_to: string | null;
  reference_ids: Generated<string[]>;
  subject: string | null;
  from_address: string | null;
  to_addresses: Generated<string[]>;
  cc_addresses: Generated<string[]>;
  envelope_from: string | null;
  envelope_to: Generated<string[]>;
  raw_key: string | null;
  raw_sha256: string | null;
  size_bytes: Generated<number>;
  body_html: string | null;
  body_text: string | null;
  is_auto_reply: Generated<boolean>;
  auto_reply_reason: string | null;
  ticket_id: string | null;
  timeline_entry_id: string | null;
  contact_id: string | null;
  related_ticket_id: string | null;
  attempts: Generated<number>;
  last_error: string | null;
  smtp_response: string | null;
  template: string | null;
  source_event_id: number | null;
  received_at: Timestamp;
  processed_at: Timestamp | null;
  sent_at: Timestamp | null;
  /** An invite's text/calendar part (migration 202612051910_scheduling). */
  ical_method: "REQUEST" | "CANCEL" | null;
  ical_content: string | null;
}

export interface EmailDedupeKeysTable {
  dedupe_key: string;
  email_message_id: string;
  created_at: CreatedAt;
}

export interface EmailAttachmentPartsTable {
  attachment_id: string;
  email_message_id: string;
  content_id: string | null;
  inline: Generated<boolean>;
}

export interface EmailTemplatesTable {
  id: Generated<string>;
  key: EmailTemplateKey;
  client_id: string | null;
  subject: string;
  body: string;
  version: Generated<number>;
  updated_at: Timestamp;
}

export interface EmailClientSettingsTable {
  client_id: string;
  from_address: string | null;
  signature: Generated<string>;
  updated_at: Timestamp;
}

// Declaration merging keeps this section append-only: other domains add their tables the same way.
export interface DB {
  email_mailboxes: EmailMailboxesTable;
  email_messages: EmailMessagesTable;
  email_dedupe_keys: EmailDedupeKeysTable;
  email_attachment_parts: EmailAttachmentPartsTable;
  email_templates: EmailTemplatesTable;
  email_client_settings: EmailClientSettingsTable;
}

// ---- agents (migration 202611221100_agents) ----

export interface AgentSigningKeyTable {
  id: Generated<number>;
  public_key: string;
  private_key_pem: string;
  encrypted: boolean;
  created_at: CreatedAt;
}

export interface EnrollmentTokensTable {
  id: Generated<string>;
  client_id: string;
  site_id: string | null;
  label: Generated<string>;
  token_hash: string;
  prefix: string;
  max_uses: number;
  uses: Generated<number>;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  created_by_user_id: string | null;
  created_at: CreatedAt;
}

export interface DevicesTable {
  id: Generated<string>;
  client_id: string;
  site_id: string | null;
  hostname: string;
  platform: string;
  arch: string;
  os_name: string;
  os_version: string;
  agent_version: string;
  public_key: string;
  enrollment_token_id: string | null;
  online: Generated<boolean>;
  gateway_id: string | null;
  last_seen_at: Timestamp | null;
  last_address: string | null;
  inventory: Json<Record<string, unknown>> | null;
  inventory_hash: string | null;
  inventory_updated_at: Timestamp | null;
  enrolled_at: CreatedAt;
  retired_at: Timestamp | null;
  version: Generated<number>;
}

export interface DeviceCommandsTable {
  id: Generated<string>;
  device_id: string;
  client_id: string;
  ticket_id: string | null;
  kind: string;
  command: Json<Record<string, unknown>>;
  payload: string;
  signature: string;
  status: Generated<string>;
  requested_by_user_id: string | null;
  requested_by_label: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  sent_at: Timestamp | null;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  exit_code: number | null;
  stdout: Generated<string>;
  stderr: Generated<string>;
  truncated: Generated<boolean>;
  error: string | null;
  services: Json<Array<Record<string, unknown>>> | null;
  /** updates.install: the agent's result per update (migration 202612052000_patch_installs). */
  update_results: Json<Array<Record<string, unknown>>> | null;
  reboot_required: boolean | null;
}

export interface DB {
  agent_signing_key: AgentSigningKeyTable;
  enrollment_tokens: EnrollmentTokensTable;
  devices: DevicesTable;
  device_commands: DeviceCommandsTable;
}

// ---- notification preferences (migration 202611221300_notification_prefs) ----

/** A missing row means every notification is on. */
export interface UserNotificationPreferencesTable {
  user_id: string;
  assigned: Generated<boolean>;
  new_reply: Generated<boolean>;
  updated_at: Timestamp;
  /** Monitoring opened a P1 ticket for a client this user sees (migration 202612051300). */
  monitoring_p1: Generated<boolean>;
}

export interface DB {
  user_notification_preferences: UserNotificationPreferencesTable;
}

// ---- canned responses (migration 202612051602_snippets) ----

export interface SnippetsTable {
  id: Generated<string>;
  title: string;
  body: string;
  /** null: shared by everyone. */
  owner_user_id: string | null;
  created_by_user_id: string | null;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

// ---- admin setup (migration 202612051700_admin_setup) ----

export interface UserInvitesTable {
  id: Generated<string>;
  user_id: string;
  token_hash: string;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  revoked_at: Timestamp | null;
  sent_at: Timestamp | null;
  last_error: string | null;
  created_by_user_id: string | null;
  created_at: CreatedAt;
}

export interface EmailSettingsTable {
  id: Generated<boolean>;
  relay_host: string | null;
  relay_port: number | null;
  relay_tls: Generated<EmailTls>;
  relay_user: string | null;
  relay_secret: string | null;
  default_from_address: string | null;
  version: Generated<number>;
  updated_at: Timestamp;
}

export interface DB {
  snippets: SnippetsTable;
  user_invites: UserInvitesTable;
  email_settings: EmailSettingsTable;
}

// ---- client portal (migration 202612051800_portal) ----

export interface PortalAccountsTable {
  contact_id: string;
  client_id: string;
  email: string;
  company_admin: Generated<boolean>;
  enabled: Generated<boolean>;
  password_hash: string | null;
  totp_secret: string | null;
  totp_pending: string | null;
  last_sign_in_at: Timestamp | null;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface PortalSessionsTable {
  token_hash: string;
  contact_id: string;
  client_id: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
}

export interface PortalSignInLinksTable {
  token_hash: string;
  contact_id: string;
  client_id: string;
  purpose: "sign_in";
  expires_at: Timestamp;
  used_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface DB {
  portal_accounts: PortalAccountsTable;
  portal_sessions: PortalSessionsTable;
  portal_sign_in_links: PortalSignInLinksTable;
}

export interface EmailMessagesTable {
  /** A body that carries a credential, sealed; cleared once the message is settled (migration 202612051800). */
  sealed_body: string | null;
}

// ---- knowledge base (migration 202612051810_knowledge_base) ----

export interface KbArticlesTable {
  id: Generated<string>;
  client_id: string | null;
  title: string;
  body_html: Generated<string>;
  body_text: Generated<string>;
  visibility: "internal" | "public";
  source_ticket_id: string | null;
  created_by_user_id: string | null;
  updated_by_user_id: string | null;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
  search_vector: ColumnType<string, never, never>;
}

export interface KbFilesTable {
  id: Generated<string>;
  article_id: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  storage_key: string;
  created_by_user_id: string | null;
  created_at: CreatedAt;
}

export interface DB {
  kb_articles: KbArticlesTable;
  kb_files: KbFilesTable;
}

// ---- CSAT (migration 202612051820_csat) ----

export type CsatRating = "good" | "okay" | "bad";

export interface CsatRatingsTable {
  ticket_id: string;
  client_id: string;
  contact_id: string | null;
  technician_id: string | null;
  rating: CsatRating;
  comment: Generated<string>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface CsatSettingsTable {
  id: Generated<number>;
  bad_action: Generated<"reopen" | "alert">;
  version: Generated<number>;
  updated_at: Timestamp;
}

export interface DB {
  csat_ratings: CsatRatingsTable;
  csat_settings: CsatSettingsTable;
}

// ---- client documentation (migration 202612051830_client_documents) ----

export interface DocLayoutField {
  key: string;
  label: string;
  type: "text" | "textarea" | "list" | "table";
  columns?: Array<{ key: string; label: string }>;
}

export interface DocLayoutsTable {
  id: Generated<string>;
  name: string;
  fields: ColumnType<DocLayoutField[], string | undefined, string>;
  builtin: Generated<boolean>;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface DocumentsTable {
  id: Generated<string>;
  client_id: string;
  layout_id: string;
  title: string;
  data: ColumnType<Record<string, unknown>, string | undefined, string>;
  notes_html: Generated<string>;
  search_text: Generated<string>;
  version: Generated<number>;
  created_by_user_id: string | null;
  updated_by_user_id: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
  archived_at: Timestamp | null;
  search_vector: ColumnType<string, never, never>;
}

export interface DocumentVersionsTable {
  document_id: string;
  client_id: string;
  version: number;
  title: string;
  data: ColumnType<Record<string, unknown>, string, string>;
  notes_html: string;
  author_user_id: string | null;
  author_label: string;
  created_at: CreatedAt;
}

export interface DocumentLinksTable {
  document_id: string;
  client_id: string;
  target_type: "site" | "device" | "contact";
  target_id: string;
}

export interface DocumentFilesTable {
  id: Generated<string>;
  document_id: string;
  client_id: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  storage_key: string;
  created_by_user_id: string | null;
  created_at: CreatedAt;
}

export interface DocumentSharesTable {
  id: Generated<string>;
  client_id: string;
  token_hash: string;
  document_ids: string[];
  contact_id: string | null;
  ticket_id: string | null;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  first_opened_at: Timestamp | null;
  open_count: Generated<number>;
  created_by_user_id: string | null;
  created_at: CreatedAt;
}

export interface DB {
  doc_layouts: DocLayoutsTable;
  documents: DocumentsTable;
  document_versions: DocumentVersionsTable;
  document_links: DocumentLinksTable;
  document_files: DocumentFilesTable;
  document_shares: DocumentSharesTable;
}

// ---- password vault (migration 202612051840_vault) ----

export interface VaultDataKeysTable {
  id: Generated<string>;
  client_id: string | null;
  kek_id: string;
  wrapped_key: string;
  active: Generated<boolean>;
  created_at: CreatedAt;
  retired_at: Timestamp | null;
}

export interface VaultEntriesTable {
  id: Generated<string>;
  client_id: string | null;
  title: string;
  username: Generated<string>;
  url: Generated<string>;
  secret_enc: string | null;
  totp_enc: string | null;
  notes_enc: string | null;
  data_key_id: string;
  restricted: Generated<boolean>;
  version: Generated<number>;
  created_by_user_id: string | null;
  updated_by_user_id: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
  archived_at: Timestamp | null;
}

export interface VaultStepUpsTable {
  credential_hash: string;
  user_id: string;
  until: Timestamp;
}

export interface DB {
  vault_data_keys: VaultDataKeysTable;
  vault_entries: VaultEntriesTable;
  vault_step_ups: VaultStepUpsTable;
}

// ---- time and billing (migration 202612051900_time_and_billing) ----

export type WorkType = "remote" | "onsite" | "project" | "after_hours";
export type ContractLineKind = "managed_device" | "managed_user" | "fixed" | "hourly" | "block";

export interface ContractsTable {
  id: Generated<string>;
  client_id: string;
  name: string;
  currency: Generated<string>;
  starts_on: ColumnType<string, string, string>;
  ends_on: ColumnType<string | null, string | null | undefined, string | null>;
  active: Generated<boolean>;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface ContractLinesTable {
  id: Generated<string>;
  client_id: string;
  contract_id: string;
  kind: ContractLineKind;
  description: string;
  work_type: WorkType | null;
  unit_price_minor: Generated<number>;
  rate_minor: Generated<number>;
  rounding_minimum_minutes: Generated<number>;
  rounding_increment_minutes: Generated<number>;
  after_hours_multiplier_pct: Generated<number>;
  position: Generated<number>;
}

export interface BlockHoursTable {
  id: Generated<string>;
  client_id: string;
  contract_id: string;
  purchased_minutes: number;
  price_minor: Generated<number>;
  purchased_on: ColumnType<string, string, string>;
  expires_on: ColumnType<string, string, string>;
  note: Generated<string>;
  created_at: CreatedAt;
}

export interface InvoicesTable {
  id: Generated<string>;
  client_id: string;
  number: Generated<number>;
  period_start: ColumnType<string, string, string>;
  period_end: ColumnType<string, string, string>;
  status: Generated<"draft" | "approved">;
  currency: string;
  total_minor: Generated<number>;
  issued_on: ColumnType<string | null, string | null | undefined, string | null>;
  approved_by_user_id: string | null;
  approved_at: Timestamp | null;
  created_at: CreatedAt;
  version: Generated<number>;
}

export interface InvoiceLinesTable {
  id: Generated<string>;
  client_id: string;
  invoice_id: string;
  position: number;
  kind: ContractLineKind | "block_purchase";
  description: string;
  quantity: ColumnType<string, string | number, string | number>;
  unit: "hours" | "devices" | "users" | "months" | "blocks";
  unit_price_minor: number;
  amount_minor: number;
  minutes: number | null;
}

export interface TimeEntriesTable {
  id: Generated<string>;
  client_id: string;
  ticket_id: string | null;
  project_task_id: string | null;
  user_id: string;
  work_type: WorkType;
  billable: Generated<boolean>;
  started_at: Timestamp;
  ended_at: Timestamp | null;
  minutes: number | null;
  note: Generated<string>;
  reverses_entry_id: string | null;
  invoice_id: string | null;
  billed_minutes: number | null;
  billed_amount_minor: number | null;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface BlockLedgerTable {
  id: Generated<number>;
  client_id: string;
  block_id: string;
  invoice_id: string | null;
  time_entry_id: string | null;
  minutes: number;
  at: Timestamp;
}

export interface TimesheetsTable {
  id: Generated<string>;
  user_id: string;
  week_start: ColumnType<string, string, string>;
  status: Generated<"open" | "submitted" | "approved" | "rejected">;
  submitted_at: Timestamp | null;
  decided_by_user_id: string | null;
  decided_at: Timestamp | null;
  decision_note: Generated<string>;
  version: Generated<number>;
}

export interface DB {
  contracts: ContractsTable;
  contract_lines: ContractLinesTable;
  block_hours: BlockHoursTable;
  invoices: InvoicesTable;
  invoice_lines: InvoiceLinesTable;
  time_entries: TimeEntriesTable;
  block_ledger: BlockLedgerTable;
  timesheets: TimesheetsTable;
}

// ---- scheduling (migration 202612051910_scheduling) ----

export type AppointmentKind = "remote" | "onsite";
export type InstallOs = "windows" | "macos" | "linux";

export interface AppointmentsTable {
  id: Generated<string>;
  client_id: string;
  ticket_id: string | null;
  technician_id: string;
  contact_id: string | null;
  site_id: string | null;
  kind: AppointmentKind;
  title: string;
  starts_at: Timestamp;
  ends_at: Timestamp;
  status: Generated<"confirmed" | "cancelled" | "completed">;
  ical_uid: string;
  sequence: Generated<number>;
  reminded_sequence: number | null;
  notes: Generated<string>;
  install_os: InstallOs | null;
  enrollment_token_id: string | null;
  device_id: string | null;
  created_by_user_id: string | null;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface AppointmentProposalsTable {
  id: Generated<string>;
  client_id: string;
  ticket_id: string;
  contact_id: string;
  technician_id: string;
  kind: AppointmentKind;
  title: string;
  install_os: InstallOs | null;
  token_hash: string;
  expires_at: Timestamp;
  status: Generated<"open" | "booked" | "cancelled">;
  appointment_id: string | null;
  created_by_user_id: string | null;
  created_at: CreatedAt;
}

export interface AppointmentProposalSlotsTable {
  id: Generated<string>;
  client_id: string;
  proposal_id: string;
  starts_at: Timestamp;
  ends_at: Timestamp;
}

export interface DB {
  appointments: AppointmentsTable;
  appointment_proposals: AppointmentProposalsTable;
  appointment_proposal_slots: AppointmentProposalSlotsTable;
}

// ---- projects (migration 202612051920_projects) ----

export interface ProjectsTable {
  id: Generated<string>;
  client_id: string;
  ticket_id: string;
  name: string;
  description: Generated<string>;
  status: Generated<"planning" | "active" | "on_hold" | "done" | "cancelled">;
  quote_minor: number | null;
  currency: Generated<string>;
  quote_status: Generated<"none" | "sent" | "approved" | "declined">;
  quote_token_hash: string | null;
  quote_expires_at: Timestamp | null;
  quote_contact_id: string | null;
  quote_decided_at: Timestamp | null;
  quote_decision_note: Generated<string>;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface ProjectPhasesTable {
  id: Generated<string>;
  client_id: string;
  project_id: string;
  name: string;
  position: Generated<number>;
}

export interface ProjectTasksTable {
  id: Generated<string>;
  client_id: string;
  project_id: string;
  phase_id: string | null;
  title: string;
  description: Generated<string>;
  status: Generated<"todo" | "in_progress" | "done">;
  estimate_minutes: Generated<number>;
  assignee_id: string | null;
  position: Generated<number>;
  version: Generated<number>;
  created_at: CreatedAt;
}

export interface DB {
  projects: ProjectsTable;
  project_phases: ProjectPhasesTable;
  project_tasks: ProjectTasksTable;
}

// ---- remote access (migration 202612051400_remote_access) ----

export interface RemotePoliciesTable {
  client_id: string;
  shell_roles: ColumnType<string[], string[] | undefined, string[]>;
  file_roles: ColumnType<string[], string[] | undefined, string[]>;
  require_consent: Generated<boolean>;
  idle_timeout_seconds: Generated<number>;
  version: Generated<number>;
  updated_at: Timestamp;
  updated_by_user_id: string | null;
}

export type RemoteSessionKind = "shell" | "file_upload" | "file_download";
export type RemoteSessionStatus = "requested" | "opening" | "open" | "closed" | "failed";

export interface RemoteSessionsTable {
  id: string;
  client_id: string;
  device_id: string;
  ticket_id: string | null;
  support_session_id: string | null;
  kind: RemoteSessionKind;
  status: ColumnType<RemoteSessionStatus, RemoteSessionStatus | undefined, RemoteSessionStatus>;
  requested_by_user_id: string | null;
  requested_by_label: string;
  path: string | null;
  cols: number | null;
  rows: number | null;
  bytes_in: Generated<number>;
  bytes_out: Generated<number>;
  blob_key: string | null;
  blob_name: string | null;
  blob_size: number | null;
  blob_sha256: string | null;
  blob_truncated: Generated<boolean>;
  attachment_id: string | null;
  close_reason: string | null;
  last_error: string | null;
  created_at: CreatedAt;
  started_at: Timestamp | null;
  ended_at: Timestamp | null;
  heartbeat_at: Timestamp;
}

export type SupportSessionStatus = "waiting" | "joined" | "active" | "ended" | "expired" | "cancelled";

export interface SupportSessionsTable {
  id: Generated<string>;
  client_id: string;
  ticket_id: string;
  technician_user_id: string;
  technician_name: string;
  code_hash: string;
  code_expires_at: Timestamp;
  status: ColumnType<SupportSessionStatus, SupportSessionStatus | undefined, SupportSessionStatus>;
  caller_token_hash: string | null;
  caller_address: string | null;
  joined_at: Timestamp | null;
  consented_at: Timestamp | null;
  ended_at: Timestamp | null;
  ended_by: "technician" | "caller" | "system" | null;
  end_reason: string | null;
  timeline_entry_id: string | null;
  created_at: CreatedAt;
}

export type SupportEventKind =
  | "minted"
  | "joined"
  | "consent"
  | "consent_request"
  | "chat"
  | "file"
  | "screen"
  | "ended"
  | "agent";

export interface SupportSessionEventsTable {
  id: Generated<string>;
  session_id: string;
  client_id: string;
  kind: SupportEventKind;
  actor: "technician" | "caller" | "system";
  body: Generated<string>;
  data: Json<Record<string, unknown>> | null;
  created_at: CreatedAt;
}

export interface SupportJoinAttemptsTable {
  id: Generated<string>;
  created_at: CreatedAt;
  address: string;
  ok: boolean;
  throttled: Generated<boolean>;
  live_codes: number;
}

export interface DB {
  remote_policies: RemotePoliciesTable;
  remote_sessions: RemoteSessionsTable;
  support_sessions: SupportSessionsTable;
  support_session_events: SupportSessionEventsTable;
  support_join_attempts: SupportJoinAttemptsTable;
}

// ---- caller verification and directory resets (migration 202612051200_identity) ----

export type IdentityMethod = "sms" | "email" | "totp" | "manager" | "reverse";
export type DirectoryKind = "active_directory" | "samba";

export interface IdentityPoliciesTable {
  client_id: string;
  methods: Generated<IdentityMethod[]>;
  factors: Generated<number>;
  privileged_factors: Generated<number>;
  manager_satisfies_privileged: Generated<boolean>;
  validity_minutes: Generated<number>;
  directory_device_id: string | null;
  directory_kind: DirectoryKind | null;
  version: Generated<number>;
  updated_at: Generated<Date>;
  updated_by_user_id: string | null;
}

export interface IdentityContactsTable {
  contact_id: string;
  client_id: string;
  sms_number: string | null;
  email: string | null;
  totp_enc: string | null;
  totp_confirmed_at: Date | null;
  totp_last_step: ColumnType<string | null, string | number | null | undefined, string | number | null>;
  approver: Generated<boolean>;
  admin_account: Generated<boolean>;
  directory_account: string | null;
  directory_account_source: "typed" | "discovered" | null;
  directory_account_set_at: Date | null;
  version: Generated<number>;
  updated_at: Generated<Date>;
}

export type VerificationStatus = "pending" | "verified" | "failed" | "expired" | "cancelled";

export interface IdentityVerificationsTable {
  id: Generated<string>;
  client_id: string;
  contact_id: string;
  ticket_id: string | null;
  started_by_user_id: string | null;
  started_by_label: string;
  status: Generated<VerificationStatus>;
  privileged: boolean;
  factors_required: number;
  manager_satisfies: boolean;
  validity_minutes: number;
  reason: string | null;
  created_at: CreatedAt;
  expires_at: Date;
  verified_at: Date | null;
  valid_until: Date | null;
}

export type ChallengeStatus = "sent" | "passed" | "failed" | "expired" | "send_failed" | "denied";

export interface IdentityChallengesTable {
  id: Generated<string>;
  client_id: string;
  verification_id: string;
  method: IdentityMethod;
  status: Generated<ChallengeStatus>;
  code_hmac: string | null;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  destination: Generated<string>;
  approver_contact_id: string | null;
  provider_id: string | null;
  last_error: string | null;
  created_at: CreatedAt;
  expires_at: Date;
  decided_at: Date | null;
}

export type IdentityActionKind = "reset_password" | "unlock" | "force_change" | "discover";

export interface IdentityActionsTable {
  id: Generated<string>;
  client_id: string;
  contact_id: string;
  verification_id: string | null;
  ticket_id: string | null;
  action: IdentityActionKind;
  account: string;
  must_change: Generated<boolean>;
  device_id: string | null;
  command_id: string | null;
  status: Generated<"running" | "succeeded" | "failed">;
  error: string | null;
  result: Json<Record<string, unknown>> | null;
  requested_by_user_id: string | null;
  requested_by_label: string;
  created_at: CreatedAt;
  finished_at: Date | null;
}

export interface DB {
  identity_policies: IdentityPoliciesTable;
  identity_contacts: IdentityContactsTable;
  identity_verifications: IdentityVerificationsTable;
  identity_challenges: IdentityChallengesTable;
  identity_actions: IdentityActionsTable;
}

// ---- support agents (migration 202612051410_support_agents) ----

/** A device enrolled by the one-time support agent: it lives only as long as this support session. */
export interface DevicesTable {
  support_session_id: Generated<string | null>;
}

export interface SupportAgentCodesTable {
  id: Generated<string>;
  session_id: string;
  client_id: string;
  code_hash: string;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  used_from: string | null;
  device_id: string | null;
  created_at: CreatedAt;
}

export interface DB {
  support_agent_codes: SupportAgentCodesTable;
}

// --- SLA and on-call (migration 202612051500_sla_and_oncall) ---
export interface SlaCalendarsTable {
  id: Generated<string>;
  name: string;
  time_zone: string;
  always_open: Generated<boolean>;
  hours: Json<Array<{ day: number; start: number; end: number }>>;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface SlaHolidaysTable {
  calendar_id: string;
  date: ColumnType<string, string, string>;
  name: string;
}

export type SlaTargets = Record<string, { firstResponse: number | null; resolution: number | null }>;

export interface SlaPoliciesTable {
  id: Generated<string>;
  name: string;
  calendar_id: string;
  targets: Json<SlaTargets>;
  warn_percent: Generated<number>;
  pause_categories: ColumnType<StatusCategory[], StatusCategory[] | undefined, StatusCategory[]>;
  is_default: Generated<boolean>;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface ClientSlaPoliciesTable {
  client_id: string;
  policy_id: string;
  created_at: CreatedAt;
}

export interface TicketSlasTable {
  ticket_id: string;
  client_id: string;
  policy_id: string | null;
  priority: number;
  paused: Generated<boolean>;
  first_response_status: string;
  first_response_due_at: Timestamp | null;
  first_response_warn_at: Timestamp | null;
  first_response_met_at: Timestamp | null;
  first_response_breached_at: Timestamp | null;
  first_response_warned_at: Timestamp | null;
  first_response_breach_notified_at: Timestamp | null;
  resolution_status: string;
  resolution_due_at: Timestamp | null;
  resolution_warn_at: Timestamp | null;
  resolution_met_at: Timestamp | null;
  resolution_breached_at: Timestamp | null;
  resolution_warned_at: Timestamp | null;
  resolution_breach_notified_at: Timestamp | null;
  computed_at: Timestamp;
}

export interface OncallRotationsTable {
  id: Generated<string>;
  name: string;
  time_zone: string;
  period: "daily" | "weekly";
  handover_minute: number;
  anchor_date: ColumnType<string, string, string>;
  escalate_after_minutes: Generated<number>;
  max_rounds: Generated<number>;
  pages: Generated<boolean>;
  calendar_id: string | null;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface OncallMembersTable {
  rotation_id: string;
  user_id: string;
  position: number;
}

export interface OncallOverridesTable {
  id: Generated<string>;
  rotation_id: string;
  user_id: string;
  starts_at: Timestamp;
  ends_at: Timestamp;
  note: Generated<string>;
  created_by_user_id: string | null;
  created_at: CreatedAt;
}

// ---- monitoring (202612051300) ----
export type AlertSeverity = "critical" | "high" | "medium" | "low";
export type CheckState = "ok" | "warning" | "critical" | "unknown";

export interface MonitoringPoliciesTable {
  id: Generated<string>;
  client_id: string | null;
  site_id: string | null;
  device_id: string | null;
  name: string;
  enabled: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: Timestamp;
  version: Generated<number>;
}

export interface MonitoringChecksTable {
  id: Generated<string>;
  policy_id: string;
  kind: string;
  name: string;
  config: Json<Record<string, unknown>>;
  interval_seconds: number;
  severity: AlertSeverity;
  fail_after: Generated<number>;
  pass_after: Generated<number>;
  enabled: Generated<boolean>;
  remediation: Json<Record<string, unknown>> | null;
  /** A ping/TCP/HTTP check watching this site's connection: its failure is the site's outage. */
  uplink_site_id: Generated<string | null>;
  created_at: CreatedAt;
  version: Generated<number>;
}

export interface MonitoringCheckStatesTable {
  device_id: string;
  check_id: string;
  client_id: string;
  state: CheckState;
  output: Generated<string>;
  metrics: Json<Record<string, number>> | null;
  streak: Generated<number>;
  changed_at: Timestamp;
  reported_at: Timestamp;
}

export interface MonitoringIncidentsTable {
  id: Generated<string>;
  client_id: string;
  site_id: string | null;
  kind: "site_offline";
  state: Generated<"open" | "resolved">;
  ticket_id: string | null;
  opened_at: Timestamp;
  resolved_at: Timestamp | null;
}

export interface MonitoringAlertsTable {
  id: Generated<string>;
  number: Generated<string>;
  client_id: string;
  site_id: string | null;
  device_id: string;
  check_id: string | null;
  check_key: string;
  kind: string;
  name: string;
  severity: AlertSeverity;
  state: "pending" | "firing" | "resolved";
  output: Generated<string>;
  fail_count: Generated<number>;
  flaps: Generated<number>;
  first_failed_at: Timestamp;
  fired_at: Timestamp | null;
  recovering_since: Timestamp | null;
  resolved_at: Timestamp | null;
  resolution: string | null;
  acknowledged_at: Timestamp | null;
  acknowledged_by_user_id: string | null;
  snoozed_until: Timestamp | null;
  incident_id: string | null;
  ticket_id: string | null;
  remediation_command_id: string | null;
  remediated: Generated<boolean>;
  no_ticket: Generated<boolean>;
  updated_at: Timestamp;
  version: Generated<number>;
}

export interface MonitoringMetricsTable {
  device_id: string;
  client_id: string;
  hour: Timestamp;
  /** Per check: "n" samples and each metric's sum over the hour. */
  sums: Json<Record<string, Record<string, number>>>;
}

export interface MonitoringTicketRulesTable {
  id: Generated<string>;
  client_id: string | null;
  min_severity: Generated<AlertSeverity>;
  team_id: string | null;
  assignee_id: string | null;
  resolve_on_recovery: Generated<boolean>;
  updated_at: Timestamp;
}

export interface MonitoringMaintenanceTable {
  id: Generated<string>;
  client_id: string;
  site_id: string | null;
  device_id: string | null;
  starts_at: Timestamp;
  ends_at: Timestamp;
  reason: Generated<string>;
  created_by_user_id: string | null;
  created_at: CreatedAt;
  /** An occurrence of a recurring window (monitoring_maintenance_series), or null for a one-off. */
  series_id: Generated<string | null>;
}

export interface MonitoringMaintenanceSeriesTable {
  id: Generated<string>;
  client_id: string;
  site_id: string | null;
  device_id: string | null;
  cron: string;
  duration_minutes: number;
  time_zone: string;
  until: string | null;
  reason: Generated<string>;
  created_by_user_id: string | null;
  created_at: CreatedAt;
  materialized_until: Generated<Date | null>;
}

export type PageStatus = "paging" | "acknowledged" | "exhausted";

export interface PagesTable {
  id: Generated<string>;
  client_id: string;
  ticket_id: string | null;
  rotation_id: string | null;
  reason: string;
  summary: string;
  status: ColumnType<PageStatus, PageStatus | undefined, PageStatus>;
  chain: string[];
  level: Generated<number>;
  max_levels: number;
  escalate_after_minutes: number;
  acknowledged_at: Timestamp | null;
  acknowledged_by_user_id: string | null;
  acknowledged_via: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface PageDeliveriesTable {
  id: Generated<string>;
  page_id: string;
  user_id: string | null;
  level: number;
  channel: "sms" | "email";
  status: "sent" | "failed" | "skipped";
  error: string | null;
  provider_id: string | null;
  created_at: CreatedAt;
}

export interface DB {
  sla_calendars: SlaCalendarsTable;
  sla_holidays: SlaHolidaysTable;
  sla_policies: SlaPoliciesTable;
  client_sla_policies: ClientSlaPoliciesTable;
  ticket_slas: TicketSlasTable;
  oncall_rotations: OncallRotationsTable;
  oncall_members: OncallMembersTable;
  oncall_overrides: OncallOverridesTable;
  pages: PagesTable;
  page_deliveries: PageDeliveriesTable;
}

export interface DB {
  monitoring_policies: MonitoringPoliciesTable;
  monitoring_checks: MonitoringChecksTable;
  monitoring_check_states: MonitoringCheckStatesTable;
  monitoring_incidents: MonitoringIncidentsTable;
  monitoring_alerts: MonitoringAlertsTable;
  monitoring_maintenance: MonitoringMaintenanceTable;
  monitoring_maintenance_series: MonitoringMaintenanceSeriesTable;
  monitoring_ticket_rules: MonitoringTicketRulesTable;
  monitoring_metrics: MonitoringMetricsTable;
}

export interface MonitoringTasksTable {
  id: Generated<string>;
  policy_id: string;
  name: string;
  interpreter: string;
  script: string;
  cron: string;
  timeout_seconds: Generated<number>;
  severity: Generated<AlertSeverity>;
  run_missed: Generated<boolean>;
  enabled: Generated<boolean>;
  schedule_from: Timestamp;
  created_at: CreatedAt;
  updated_at: Timestamp;
  version: Generated<number>;
}

export interface MonitoringTaskRunsTable {
  id: Generated<string>;
  task_id: string;
  device_id: string;
  client_id: string;
  due_at: Timestamp;
  status: string;
  command_id: string | null;
  exit_code: number | null;
  output: Generated<string>;
  finished_at: Timestamp | null;
  judged: Generated<boolean>;
  created_at: CreatedAt;
}

export interface MonitoringTaskDuesTable {
  task_id: string;
  zone: string;
  due_at: Timestamp;
}

export interface DB {
  monitoring_tasks: MonitoringTasksTable;
  monitoring_task_dues: MonitoringTaskDuesTable;
  monitoring_task_runs: MonitoringTaskRunsTable;
}

// --- Patching (domains/monitoring/patch.ts) ---

export interface PatchStatusUpdate {
  name: string;
  current: string | null;
  available: string | null;
  security: boolean;
  severity: string | null;
  releasedAt: string | null;
  firstSeenAt: string;
}
export interface PatchStatusTable {
  device_id: string;
  client_id: string;
  source: "apt" | "dnf" | "windows_update" | null;
  updates: Json<PatchStatusUpdate[]>;
  missing_count: number;
  security_count: number;
  critical_count: number;
  important_count: number;
  moderate_count: number;
  low_count: number;
  oldest_missing_at: Timestamp | null;
  oldest_security_at: Timestamp | null;
  reboot_pending: boolean;
  reboot_since: Timestamp | null;
  last_install_at: Timestamp | null;
  scan_error: string | null;
  collected_at: Timestamp;
  reported_at: Generated<Timestamp>;
}

export interface DB {
  patch_status: PatchStatusTable;
}

// --- Update installs (domains/monitoring/patch-install.ts, migration 202612052000_patch_installs) ---

export type PatchInstallStatus = "queued" | "running" | "done" | "failed" | "partial";
export interface PatchInstallRunsTable {
  id: Generated<string>;
  device_id: string;
  client_id: string;
  command_id: string | null;
  source: "apt" | "dnf" | "windows_update";
  trigger: "manual" | "auto";
  status: Generated<PatchInstallStatus>;
  reboot_required: boolean | null;
  error: string | null;
  retry_of: string | null;
  requested_by_user_id: string | null;
  requested_by_label: string;
  created_at: CreatedAt;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}
export interface PatchInstallItemsTable {
  run_id: string;
  client_id: string;
  position: number;
  name: string;
  target: string;
  security: boolean;
  severity: string | null;
  status: Generated<"pending" | "installed" | "failed" | "not_applicable">;
  version_from: string | null;
  version_to: string | null;
  error: string | null;
}
export interface PatchSettingsTable {
  client_id: string;
  auto_install_security: boolean;
  install_window_start: number | null;
  install_window_end: number | null;
  updated_at: Timestamp;
  updated_by_label: string;
}

export interface DB {
  patch_install_runs: PatchInstallRunsTable;
  patch_install_items: PatchInstallItemsTable;
  patch_settings: PatchSettingsTable;
}

// Device tags, tag policies and ticket rule lists (migration 202612052010).
export interface DevicesTable {
  tags: Generated<string[]>;
}
export interface MonitoringPoliciesTable {
  tag: string | null;
}
export interface MonitoringTicketRulesTable {
  position: Generated<number>;
  name: Generated<string>;
  check_kinds: Generated<string[]>;
  business_hours: Generated<"any" | "during" | "outside">;
  calendar_id: string | null;
  open_ticket: Generated<boolean>;
  priority: number | null;
  version: Generated<number>;
  created_at: CreatedAt;
}
export interface MonitoringAlertsTable {
  resolve_on_recovery: boolean | null;
}
export interface MonitoringIncidentsTable {
  resolve_on_recovery: boolean | null;
}
