import { ActionIcon, Button, Group, Menu, MultiSelect, Select, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useLocation } from "wouter";
import { api } from "../../api/client.ts";
import { useClients, useStatuses, useUsers, useViews } from "../../api/hooks.ts";
import { keys } from "../../api/keys.ts";
import { PRIORITY_LABELS, PRIORITY_NAMES, TYPE_LABELS } from "../../components/format.ts";

export type Filters = Record<string, string>;
export const FILTER_KEYS = [
  "clientId",
  "statusId",
  "priority",
  "type",
  "tag",
  "assigneeId",
  "sort",
  "state",
] as const;

const SORTS = [
  { value: "priority", label: "Priority, then age" },
  { value: "age", label: "Oldest first" },
  { value: "newest", label: "Newest first" },
  { value: "follow_up", label: "Follow-up date" },
  { value: "activity", label: "Recent activity" },
  { value: "sla_due", label: "SLA due soonest" },
];

const split = (v: string | undefined) => (v ? v.split(",").filter(Boolean) : []);

export function QueueFilters({
  filters,
  onChange,
  queue,
}: {
  filters: Filters;
  onChange: (f: Filters) => void;
  queue: string;
}) {
  const clients = useClients();
  const statuses = useStatuses();
  const users = useUsers();
  const views = useViews();
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const set = (k: string, v: string | string[] | null) => {
    const next = { ...filters };
    const s = Array.isArray(v) ? v.join(",") : (v ?? "");
    if (s) next[k] = s;
    else delete next[k];
    onChange(next);
  };
  const saveView = useMutation({
    mutationFn: (name: string) => api("POST", "/views", { body: { name, filters: { queue, ...filters } } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.views }),
  });
  const deleteView = useMutation({
    mutationFn: (id: string) => api("DELETE", `/views/${id}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.views }),
  });
  const active = Object.keys(filters).filter((k) => k !== "sort").length;

  return (
    <Group gap={6} wrap="wrap" align="flex-end">
      <Select
        size="xs"
        w={150}
        aria-label="Client"
        placeholder="Any client"
        searchable
        clearable
        data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
        value={filters.clientId ?? null}
        onChange={(v) => set("clientId", v)}
      />
      <MultiSelect
        size="xs"
        w={150}
        aria-label="Status"
        placeholder={filters.statusId ? undefined : "Any status"}
        data={(statuses.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
        value={split(filters.statusId)}
        onChange={(v) => set("statusId", v)}
        clearable
      />
      <MultiSelect
        size="xs"
        w={120}
        aria-label="Priority"
        placeholder={filters.priority ? undefined : "Any priority"}
        data={[1, 2, 3, 4].map((p) => ({
          value: String(p),
          label: `${PRIORITY_LABELS[p]} ${PRIORITY_NAMES[p]}`,
        }))}
        value={split(filters.priority)}
        onChange={(v) => set("priority", v)}
      />
      <Select
        size="xs"
        w={130}
        aria-label="Type"
        placeholder="Any type"
        clearable
        data={Object.entries(TYPE_LABELS).map(([value, label]) => ({ value, label }))}
        value={filters.type ?? null}
        onChange={(v) => set("type", v)}
      />
      <Select
        size="xs"
        w={140}
        aria-label="Assignee"
        placeholder="Any assignee"
        searchable
        clearable
        data={(users.data ?? []).map((u) => ({ value: u.id, label: u.name }))}
        value={filters.assigneeId ?? null}
        onChange={(v) => set("assigneeId", v)}
      />
      <TextInput
        size="xs"
        w={90}
        aria-label="Tag"
        placeholder="Tag"
        defaultValue={filters.tag ?? ""}
        key={filters.tag ?? ""}
        onBlur={(e) => set("tag", e.currentTarget.value.trim().toLowerCase())}
        onKeyDown={(e) => e.key === "Enter" && set("tag", e.currentTarget.value.trim().toLowerCase())}
      />
      <Select
        size="xs"
        w={130}
        aria-label="State"
        data={[
          { value: "open", label: "Open" },
          { value: "closed", label: "Resolved/closed" },
          { value: "any", label: "Any state" },
        ]}
        value={filters.state ?? "open"}
        onChange={(v) => set("state", v === "open" ? null : v)}
        allowDeselect={false}
      />
      <Select
        size="xs"
        w={150}
        aria-label="Sort"
        data={SORTS}
        value={filters.sort ?? "priority"}
        onChange={(v) => set("sort", v === "priority" ? null : v)}
        allowDeselect={false}
      />
      {active > 0 && (
        <Button
          variant="subtle"
          color="gray"
          onClick={() => onChange(filters.sort ? { sort: filters.sort } : {})}
        >
          Clear filters
        </Button>
      )}
      <Menu position="bottom-end" withinPortal>
        <Menu.Target>
          <Button variant="default">Views{views.data?.length ? ` (${views.data.length})` : ""}</Button>
        </Menu.Target>
        <Menu.Dropdown miw={220}>
          <Menu.Item
            onClick={() => {
              const name = window.prompt("Name this view", "");
              if (name?.trim()) saveView.mutate(name.trim());
            }}
          >
            Save current filters as a view…
          </Menu.Item>
          {(views.data ?? []).length > 0 && <Menu.Divider />}
          {(views.data ?? []).map((v) => {
            const { queue: q, ...rest } = v.filters as Record<string, string>;
            const href = `/queues/${q ?? "all"}?${new URLSearchParams(rest).toString()}`;
            return (
              <Menu.Item
                key={v.id}
                onClick={() => navigate(href)}
                rightSection={
                  <ActionIcon
                    size="xs"
                    variant="subtle"
                    color="gray"
                    aria-label={`Delete view ${v.name}`}
                    onClick={(e) => {
                      e.preventDefault();
                      e.stopPropagation();
                      deleteView.mutate(v.id);
                    }}
                  >
                    ×
                  </ActionIcon>
                }
              >
                {v.name}
              </Menu.Item>
            );
          })}
        </Menu.Dropdown>
      </Menu>
    </Group>
  );
}
