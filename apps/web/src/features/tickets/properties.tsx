import { Anchor, Group, Menu, Paper, Select, Stack, TagsInput, Text, TextInput } from "@mantine/core";
import { Link } from "wouter";
import { useMe, useStatuses, useTeams, useUsers } from "../../api/hooks.ts";
import type { TicketDto } from "../../api/types.ts";
import { VipBadge } from "../../components/badges.tsx";
import { dateTime, PRIORITY_LABELS, PRIORITY_NAMES, TYPE_LABELS } from "../../components/format.ts";
import type { TicketChanges } from "./use-ticket-update.ts";

function at9(daysAhead: number, weekday?: number) {
  const d = new Date();
  if (weekday !== undefined) d.setDate(d.getDate() + ((weekday + 7 - d.getDay()) % 7 || 7));
  else d.setDate(d.getDate() + daysAhead);
  d.setHours(9, 0, 0, 0);
  return d.toISOString();
}
const toLocalInput = (iso: string | null) => {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

/** The ticket's fields, each saved on change with the version read. */
export function Properties({
  ticket,
  update,
  readOnly,
}: {
  ticket: TicketDto;
  update: (c: TicketChanges) => void;
  readOnly: boolean;
}) {
  const me = useMe();
  const statuses = useStatuses();
  const users = useUsers();
  const teams = useTeams();
  const statusOptions = (statuses.data ?? []).map((s) => ({ value: s.id, label: s.name }));
  if (!statusOptions.some((o) => o.value === ticket.status.id))
    statusOptions.push({ value: ticket.status.id, label: ticket.status.name });
  const userOptions = (users.data ?? []).map((u) => ({ value: u.id, label: u.name }));
  if (ticket.assignee && !userOptions.some((o) => o.value === ticket.assignee!.id))
    userOptions.push({ value: ticket.assignee.id, label: ticket.assignee.name });
  const teamOptions = (teams.data ?? []).map((t) => ({ value: t.id, label: t.name }));
  if (ticket.team && !teamOptions.some((o) => o.value === ticket.team!.id))
    teamOptions.push({ value: ticket.team.id, label: ticket.team.name });

  return (
    <Stack gap="sm">
      <Paper p="sm">
        <Stack gap={8}>
          <Select
            size="xs"
            label="Status"
            data={statusOptions}
            value={ticket.status.id}
            onChange={(v) => v && v !== ticket.status.id && update({ statusId: v })}
            allowDeselect={false}
            disabled={readOnly}
            data-testid="status-select"
          />
          <Select
            size="xs"
            label="Priority"
            data={[1, 2, 3, 4].map((p) => ({
              value: String(p),
              label: `${PRIORITY_LABELS[p]} ${PRIORITY_NAMES[p]}`,
            }))}
            value={String(ticket.priority)}
            onChange={(v) => v && Number(v) !== ticket.priority && update({ priority: Number(v) })}
            allowDeselect={false}
            disabled={readOnly}
          />
          <div>
            <Select
              size="xs"
              label="Assignee"
              placeholder="Unassigned"
              searchable
              clearable
              data={userOptions}
              value={ticket.assignee?.id ?? null}
              onChange={(v) => v !== (ticket.assignee?.id ?? null) && update({ assigneeId: v })}
              disabled={readOnly}
            />
            {!readOnly && me.data && ticket.assignee?.id !== me.data.id && (
              <Anchor
                component="button"
                type="button"
                fz="xs"
                onClick={() => update({ assigneeId: me.data!.id })}
              >
                Assign to me (a)
              </Anchor>
            )}
          </div>
          <Select
            size="xs"
            label="Team"
            placeholder="No team"
            clearable
            data={teamOptions}
            value={ticket.team?.id ?? null}
            onChange={(v) => v !== (ticket.team?.id ?? null) && update({ teamId: v })}
            disabled={readOnly}
          />
          <Select
            size="xs"
            label="Type"
            data={Object.entries(TYPE_LABELS).map(([value, label]) => ({ value, label }))}
            value={ticket.type}
            onChange={(v) => v && v !== ticket.type && update({ type: v as TicketDto["type"] })}
            allowDeselect={false}
            disabled={readOnly}
          />
          <div>
            <TextInput
              size="xs"
              type="datetime-local"
              label="Follow-up (snooze until)"
              value={toLocalInput(ticket.followUpAt)}
              onChange={(e) => {
                const v = e.currentTarget.value;
                update({ followUpAt: v ? new Date(v).toISOString() : null });
              }}
              disabled={readOnly}
            />
            {!readOnly && (
              <Group gap={6} mt={4}>
                <Menu withinPortal>
                  <Menu.Target>
                    <Anchor component="button" type="button" fz="xs">
                      Snooze…
                    </Anchor>
                  </Menu.Target>
                  <Menu.Dropdown>
                    <Menu.Item onClick={() => update({ followUpAt: at9(1) })}>Tomorrow 9:00</Menu.Item>
                    <Menu.Item onClick={() => update({ followUpAt: at9(2) })}>In two days</Menu.Item>
                    <Menu.Item onClick={() => update({ followUpAt: at9(0, 1) })}>Next Monday 9:00</Menu.Item>
                    <Menu.Item onClick={() => update({ followUpAt: at9(7) })}>In a week</Menu.Item>
                  </Menu.Dropdown>
                </Menu>
                {ticket.followUpAt && (
                  <Anchor
                    component="button"
                    type="button"
                    fz="xs"
                    c="dimmed"
                    onClick={() => update({ followUpAt: null })}
                  >
                    Clear
                  </Anchor>
                )}
              </Group>
            )}
          </div>
          <TagsInput
            size="xs"
            label="Tags"
            value={ticket.tags}
            onChange={(tags) => update({ tags })}
            disabled={readOnly}
            clearable
          />
        </Stack>
      </Paper>
      <Paper p="sm">
        <Text fz="xs" c="dimmed" tt="uppercase" fw={600} mb={4}>
          Contact
        </Text>
        {ticket.contact ? (
          <Stack gap={2}>
            <Group gap={6}>
              <Anchor component={Link} href={`/contacts/${ticket.contact.id}`} fz="sm" fw={600}>
                {ticket.contact.name}
              </Anchor>
              {ticket.contact.vip && <VipBadge />}
            </Group>
            {ticket.contact.title && (
              <Text fz="xs" c="dimmed">
                {ticket.contact.title}
              </Text>
            )}
            {ticket.contact.phones.map((p) => (
              <Text fz="xs" key={p.number}>
                <Anchor href={`tel:${p.number}`} fz="xs">
                  {p.number}
                </Anchor>{" "}
                <Text span c="dimmed" fz="xs">
                  {p.label}
                </Text>
              </Text>
            ))}
            {ticket.contact.emails.map((e) => (
              <Anchor key={e} href={`mailto:${e}`} fz="xs">
                {e}
              </Anchor>
            ))}
          </Stack>
        ) : (
          <Text fz="sm" c="dimmed">
            No contact
          </Text>
        )}
        <Text fz="xs" c="dimmed" mt={8}>
          Client{" "}
          <Anchor component={Link} href={`/clients/${ticket.client.id}`} fz="xs">
            {ticket.client.name}
          </Anchor>
          {ticket.site ? ` · ${ticket.site.name}` : ""}
        </Text>
      </Paper>
      <Paper p="sm">
        <Stack gap={2}>
          <Text fz="xs" c="dimmed">
            Opened {dateTime(ticket.createdAt)} via {ticket.source.replace("_", "-")}
          </Text>
          {ticket.resolvedAt && (
            <Text fz="xs" c="dimmed">
              Resolved {dateTime(ticket.resolvedAt)}
            </Text>
          )}
          {ticket.parent && (
            <Text fz="xs">
              Parent{" "}
              <Anchor component={Link} href={`/tickets/${ticket.parent.number}`} fz="xs">
                #{ticket.parent.number} {ticket.parent.subject}
              </Anchor>
            </Text>
          )}
          {ticket.children.length > 0 && (
            <>
              <Text fz="xs" c="dimmed">
                Child tickets
              </Text>
              {ticket.children.map((c) => (
                <Anchor key={c.id} component={Link} href={`/tickets/${c.number}`} fz="xs">
                  #{c.number} {c.subject}
                </Anchor>
              ))}
            </>
          )}
        </Stack>
      </Paper>
    </Stack>
  );
}
