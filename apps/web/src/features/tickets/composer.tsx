import {
  Badge,
  Button,
  FileButton,
  Group,
  NumberInput,
  Paper,
  SegmentedControl,
  Select,
  Text,
  Textarea,
  TextInput,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type RefObject, useState } from "react";
import { api, fieldErrors } from "../../api/client.ts";
import { keys } from "../../api/keys.ts";
import type { TicketDto, TimelineEntryDto } from "../../api/types.ts";
import { InsertArticle } from "../kb/insert-article.tsx";
import { useDraft } from "./drafts.ts";

export type ComposerMode = "reply" | "note" | "call";

/** Files go up after their entry exists, tied to it, so they show under that entry in the timeline. */
async function uploadAttachments(ticketId: string, entryId: string, files: File[]) {
  const form = new FormData();
  // The server reads parts in order: the entry id must come before the files.
  form.append("timelineEntryId", entryId);
  for (const f of files) form.append("file", f, f.name);
  const res = await fetch(`/api/v1/tickets/${ticketId}/attachments`, {
    method: "POST",
    body: form,
    credentials: "same-origin",
  });
  if (!res.ok) {
    const err = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new Error(`The entry was saved, but the files were not: ${err?.error?.message ?? res.status}`);
  }
}

/** One composer for a public reply, an internal note or a call log. The text is a draft until it is saved. */
export function Composer({
  ticket,
  mode,
  onModeChange,
  textareaRef,
  onTyping,
  readOnly,
}: {
  ticket: TicketDto;
  mode: ComposerMode;
  onModeChange: (m: ComposerMode) => void;
  textareaRef: RefObject<HTMLTextAreaElement | null>;
  onTyping: () => void;
  readOnly: boolean;
}) {
  const qc = useQueryClient();
  const [body, setBody, clearBody] = useDraft(`${ticket.id}:${mode}`);
  const [direction, setDirection] = useState<"inbound" | "outbound">("inbound");
  const [number, setNumber] = useState(ticket.contact?.phones[0]?.number ?? "");
  const [minutes, setMinutes] = useState<number | string>(5);
  const [files, setFiles] = useState<File[]>([]);
  const m = useMutation({
    mutationFn: async () => {
      const entry = await api<TimelineEntryDto>("POST", `/tickets/${ticket.id}/timeline`, {
        body:
          mode === "call"
            ? {
                kind: "call",
                body,
                call: {
                  direction,
                  number: number || null,
                  durationSeconds: Math.round(Number(minutes || 0) * 60),
                },
                contactId: ticket.contact?.id ?? null,
              }
            : { kind: mode, body },
      });
      if (files.length) await uploadAttachments(ticket.id, entry.id, files);
      return entry;
    },
    onSuccess: () => {
      clearBody();
      setFiles([]);
      qc.invalidateQueries({ queryKey: keys.ticket(ticket.number) });
      notifications.show({
        message: mode === "reply" ? "Reply sent" : mode === "note" ? "Note added" : "Call logged",
        color: "teal",
      });
    },
  });
  const errors = fieldErrors(m.error);
  const submit = () => {
    if (readOnly || m.isPending) return;
    if (mode !== "call" && !body.trim()) return;
    m.mutate();
  };
  const label = mode === "reply" ? "Reply to the contact" : mode === "note" ? "Internal note" : "Call notes";

  return (
    <Paper
      p="sm"
      radius={0}
      style={{ borderWidth: "0 0 1px 0" }}
      className={mode === "note" ? "sb-note" : undefined}
    >
      <Group justify="space-between" mb={6}>
        <SegmentedControl
          size="xs"
          value={mode}
          onChange={(v) => onModeChange(v as ComposerMode)}
          data={[
            { value: "reply", label: "Reply (r)" },
            { value: "note", label: "Note (n)" },
            { value: "call", label: "Call log (c)" },
          ]}
          aria-label="Composer mode"
        />
        <Text fz="xs" c="dimmed">
          {mode === "reply"
            ? `Visible to ${ticket.contact?.name ?? "the contact"}`
            : mode === "note"
              ? "Only technicians see notes"
              : "Logged on the ticket with direction and duration"}
        </Text>
      </Group>
      {mode === "call" && (
        <Group gap="xs" mb={6} align="flex-start">
          <Select
            size="xs"
            w={120}
            label="Direction"
            data={[
              { value: "inbound", label: "Inbound" },
              { value: "outbound", label: "Outbound" },
            ]}
            value={direction}
            onChange={(v) => v && setDirection(v as "inbound" | "outbound")}
            allowDeselect={false}
          />
          <TextInput
            size="xs"
            w={160}
            label="Number"
            value={number}
            onChange={(e) => setNumber(e.currentTarget.value)}
            error={errors["call.number"]}
          />
          <NumberInput
            size="xs"
            w={110}
            label="Minutes"
            min={0}
            max={1440}
            step={1}
            decimalScale={1}
            value={minutes}
            onChange={setMinutes}
            error={errors["call.durationSeconds"]}
          />
        </Group>
      )}
      <Textarea
        ref={textareaRef}
        aria-label={label}
        placeholder={readOnly ? "Read-only users cannot write on tickets" : `${label}… (Ctrl+Enter to send)`}
        autosize
        minRows={3}
        maxRows={14}
        value={body}
        disabled={readOnly}
        onChange={(e) => {
          setBody(e.currentTarget.value);
          onTyping();
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            submit();
          } else if (e.key === "Escape") e.currentTarget.blur();
        }}
        error={errors.body ?? (m.isError && Object.keys(errors).length === 0 ? m.error.message : undefined)}
        data-testid="composer"
      />
      <Group justify="space-between" mt={6}>
        <Group gap="xs">
          <FileButton onChange={setFiles} multiple>
            {(props) => (
              <Button {...props} variant="subtle" color="gray" disabled={readOnly}>
                Attach files
              </Button>
            )}
          </FileButton>
          {mode === "reply" && (
            <InsertArticle
              clientId={ticket.client.id}
              disabled={readOnly}
              onInsert={(text) => setBody(body.trim() ? `${body}\n\n${text}` : text)}
            />
          )}
          {files.map((f) => (
            <Badge key={f.name} variant="outline" color="gray" tt="none">
              {f.name}
            </Badge>
          ))}
          <Text fz="xs" c="dimmed">
            {body ? "Draft saved in this browser" : ""}
          </Text>
        </Group>
        <Button
          size="xs"
          onClick={submit}
          loading={m.isPending}
          disabled={readOnly || (mode !== "call" && !body.trim())}
        >
          {mode === "reply" ? "Send reply" : mode === "note" ? "Add note" : "Log call"}
        </Button>
      </Group>
    </Paper>
  );
}
