import { type Kysely, sql } from "kysely";

// Client documentation: records in layouts the MSP defines (network, applications, procedures...),
// linked to sites, devices and contacts, versioned (every save keeps the previous version), with files;
// shared with a contact by an expiring link whose token is stored hashed.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table doc_layouts (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  -- [{key, label, type: text|textarea|list|table, columns?: [{key,label}]}]
  fields jsonb not null default '[]',
  builtin boolean not null default false,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index doc_layouts_name_key on doc_layouts (lower(name));
insert into doc_layouts (name, builtin, fields) values
('Network', true, '[
  {"key":"subnets","label":"Subnets","type":"table","columns":[{"key":"cidr","label":"Subnet"},{"key":"gateway","label":"Gateway"},{"key":"vlan","label":"VLAN"},{"key":"purpose","label":"Purpose"}]},
  {"key":"vlans","label":"VLANs","type":"table","columns":[{"key":"id","label":"VLAN id"},{"key":"name","label":"Name"},{"key":"notes","label":"Notes"}]},
  {"key":"circuits","label":"ISP circuits","type":"table","columns":[{"key":"provider","label":"Provider"},{"key":"circuitId","label":"Circuit id"},{"key":"supportPhone","label":"Support number"},{"key":"bandwidth","label":"Bandwidth"},{"key":"publicIps","label":"Public IPs"}]},
  {"key":"firewall","label":"Firewall","type":"textarea"},
  {"key":"wifi","label":"Wi-Fi","type":"table","columns":[{"key":"ssid","label":"SSID"},{"key":"security","label":"Security"},{"key":"vlan","label":"VLAN"},{"key":"notes","label":"Notes"}]}
]'),
('Application', true, '[
  {"key":"vendor","label":"Vendor","type":"text"},
  {"key":"version","label":"Version","type":"text"},
  {"key":"server","label":"Server","type":"text"},
  {"key":"database","label":"Database","type":"text"},
  {"key":"supportContact","label":"Vendor support","type":"text"},
  {"key":"notes","label":"Notes","type":"textarea"}
]'),
('Procedure', true, '[
  {"key":"when","label":"When to use it","type":"textarea"},
  {"key":"steps","label":"Steps","type":"list"}
]');

create table documents (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  layout_id uuid not null references doc_layouts,
  title text not null,
  data jsonb not null default '{}',
  notes_html text not null default '',
  -- The values and the notes as text, kept by the service for search.
  search_text text not null default '',
  version integer not null default 1,
  created_by_user_id uuid references users on delete set null,
  updated_by_user_id uuid references users on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  archived_at timestamptz,
  search_vector tsvector generated always as (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', left(search_text, 200000)), 'B')
  ) stored
);
create index documents_client_idx on documents (client_id, title);
create index documents_search_idx on documents using gin (search_vector);
create index documents_updated_idx on documents (updated_at desc);
select sb_client_table('documents');

create table document_versions (
  document_id uuid not null references documents on delete cascade,
  client_id uuid not null references clients on delete cascade,
  version integer not null,
  title text not null,
  data jsonb not null,
  notes_html text not null,
  author_user_id uuid references users on delete set null,
  author_label text not null,
  created_at timestamptz not null default now(),
  primary key (document_id, version)
);
select sb_client_table('document_versions');

create table document_links (
  document_id uuid not null references documents on delete cascade,
  client_id uuid not null references clients on delete cascade,
  target_type text not null check (target_type in ('site', 'device', 'contact')),
  target_id uuid not null,
  primary key (document_id, target_type, target_id)
);
create index document_links_target_idx on document_links (target_type, target_id);
select sb_client_table('document_links');

create table document_files (
  id uuid primary key default gen_random_uuid(),
  document_id uuid not null references documents on delete cascade,
  client_id uuid not null references clients on delete cascade,
  filename text not null,
  content_type text not null,
  size_bytes bigint not null,
  sha256 text not null,
  storage_key text not null,
  created_by_user_id uuid references users on delete set null,
  created_at timestamptz not null default now()
);
create index document_files_document_idx on document_files (document_id);
select sb_client_table('document_files');

create table document_shares (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  token_hash text not null unique,
  document_ids uuid[] not null,
  contact_id uuid references contacts on delete set null,
  ticket_id uuid references tickets on delete set null,
  expires_at timestamptz not null,
  revoked_at timestamptz,
  first_opened_at timestamptz,
  open_count integer not null default 0,
  created_by_user_id uuid references users on delete set null,
  created_at timestamptz not null default now()
);
create index document_shares_client_idx on document_shares (client_id, created_at desc);
select sb_client_table('document_shares');
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
drop table if exists document_shares, document_files, document_links, document_versions, documents, doc_layouts`.execute(
    db,
  );
}
