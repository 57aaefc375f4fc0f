import {
  Button,
  Checkbox,
  Group,
  Menu,
  Modal,
  ScrollArea,
  Stack,
  Text,
  Textarea,
  TextInput,
  UnstyledButton,
} from "@mantine/core";
import { renderSnippet, SNIPPET_VARIABLES } from "@switchboard/shared/snippet-text";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, fieldErrors, get } from "../../api/client.ts";
import type { MeDto, SnippetDto, TicketDto } from "../../api/types.ts";

const KEY = ["snippets"] as const;

/** A snippet's text for this ticket: `{{contact.firstName}}` and the rest filled in. */
export function fillSnippet(body: string, ticket: TicketDto, me: MeDto | undefined) {
  return renderSnippet(body, {
    "contact.firstName": ticket.contact?.name.split(/\s+/)[0] ?? null,
    "contact.name": ticket.contact?.name ?? null,
    "client.name": ticket.client.name,
    "ticket.number": ticket.number,
    "ticket.subject": ticket.subject,
    "me.name": me?.name ?? null,
    "me.firstName": me?.name.split(/\s+/)[0] ?? null,
  });
}

function Editor({
  snippet,
  canShare,
  onDone,
}: {
  snippet: SnippetDto | null;
  canShare: boolean;
  onDone: () => void;
}) {
  const qc = useQueryClient();
  const [title, setTitle] = useState(snippet?.title ?? "");
  const [body, setBody] = useState(snippet?.body ?? "");
  const [shared, setShared] = useState(snippet?.shared ?? false);
  const save = useMutation({
    mutationFn: () =>
      snippet
        ? api("PATCH", `/snippets/${snippet.id}`, { body: { version: snippet.version, title, body } })
        : api("POST", "/snippets", { body: { title, body, shared } }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: KEY });
      onDone();
    },
  });
  const remove = useMutation({
    mutationFn: () => api("DELETE", `/snippets/${snippet?.id}`),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: KEY });
      onDone();
    },
  });
  const errors = fieldErrors(save.error);
  return (
    <Stack gap="xs">
      <TextInput
        label="Title"
        value={title}
        onChange={(e) => setTitle(e.currentTarget.value)}
        error={errors.title}
      />
      <Textarea
        label="Text"
        autosize
        minRows={4}
        value={body}
        onChange={(e) => setBody(e.currentTarget.value)}
        error={errors.body}
        description={`Variables: ${SNIPPET_VARIABLES.map((v) => `{{${v}}}`).join(" ")}`}
      />
      {!snippet && canShare && (
        <Checkbox
          label="Shared with every technician"
          checked={shared}
          onChange={(e) => setShared(e.currentTarget.checked)}
        />
      )}
      {(save.isError || remove.isError) && Object.keys(errors).length === 0 && (
        <Text c="red.8" fz="sm" role="alert">
          {(save.error ?? remove.error)?.message}
        </Text>
      )}
      <Group justify="space-between">
        {snippet ? (
          <Button
            variant="subtle"
            color="red"
            size="xs"
            onClick={() => remove.mutate()}
            loading={remove.isPending}
          >
            Delete
          </Button>
        ) : (
          <span />
        )}
        <Group gap="xs">
          <Button variant="default" size="xs" onClick={onDone}>
            Cancel
          </Button>
          <Button size="xs" onClick={() => save.mutate()} loading={save.isPending}>
            Save snippet
          </Button>
        </Group>
      </Group>
    </Stack>
  );
}

/** The snippets I may edit, and a form for a new one: the small management screen of the composer. */
function Manager({
  opened,
  onClose,
  items,
  me,
}: {
  opened: boolean;
  onClose: () => void;
  items: SnippetDto[];
  me: MeDto | undefined;
}) {
  const canShare = me?.role === "admin" || me?.role === "dispatcher";
  const [editing, setEditing] = useState<SnippetDto | "new" | null>(null);
  const mine = items.filter((s) => !s.shared || canShare);
  return (
    <Modal opened={opened} onClose={onClose} title="Canned responses" size="lg">
      {editing ? (
        <Editor
          key={editing === "new" ? "new" : editing.id}
          snippet={editing === "new" ? null : editing}
          canShare={canShare}
          onDone={() => setEditing(null)}
        />
      ) : (
        <Stack gap="xs">
          {mine.map((s) => (
            <UnstyledButton
              key={s.id}
              onClick={() => setEditing(s)}
              p={6}
              style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}
            >
              <Text fz="sm" fw={600}>
                {s.title} {s.shared ? "· shared" : ""}
              </Text>
              <Text fz="xs" c="dimmed" lineClamp={2}>
                {s.body}
              </Text>
            </UnstyledButton>
          ))}
          {mine.length === 0 && (
            <Text fz="sm" c="dimmed">
              No snippets of yours yet.
            </Text>
          )}
          <Group justify="flex-end">
            <Button size="xs" onClick={() => setEditing("new")}>
              New snippet
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

/** "Snippets" in the composer: pick one to insert it, filled in for this ticket; manage them in a dialog. */
export function SnippetPicker({
  ticket,
  me,
  onInsert,
  disabled,
}: {
  ticket: TicketDto;
  me: MeDto | undefined;
  onInsert: (text: string) => void;
  disabled?: boolean;
}) {
  const [managing, setManaging] = useState(false);
  const [filter, setFilter] = useState("");
  const q = useQuery({
    queryKey: KEY,
    queryFn: () => get<{ items: SnippetDto[] }>("/snippets"),
    staleTime: 60_000,
  });
  const items = q.data?.items ?? [];
  const shown = items.filter((s) => s.title.toLowerCase().includes(filter.trim().toLowerCase()));
  return (
    <>
      <Menu position="top-start" width={300} withinPortal disabled={disabled} onOpen={() => q.refetch()}>
        <Menu.Target>
          <Button variant="subtle" color="gray" disabled={disabled}>
            Snippets
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          <TextInput
            size="xs"
            placeholder="Find a snippet"
            aria-label="Find a snippet"
            value={filter}
            onChange={(e) => setFilter(e.currentTarget.value)}
            mb={4}
          />
          <ScrollArea.Autosize mah={240}>
            {shown.map((s) => (
              <Menu.Item key={s.id} onClick={() => onInsert(fillSnippet(s.body, ticket, me))}>
                {s.title}
              </Menu.Item>
            ))}
            {shown.length === 0 && (
              <Text fz="xs" c="dimmed" p={6}>
                {items.length ? "None match." : "No snippets yet."}
              </Text>
            )}
          </ScrollArea.Autosize>
          <Menu.Divider />
          <Menu.Item onClick={() => setManaging(true)}>Manage snippets…</Menu.Item>
        </Menu.Dropdown>
      </Menu>
      {managing && <Manager opened onClose={() => setManaging(false)} items={items} me={me} />}
    </>
  );
}
