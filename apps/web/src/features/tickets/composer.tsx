import {
  Alert,
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
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type RefObject, useState } from "react";
import { api, fieldErrors, get } from "../../api/client.ts";
import { useMe } from "../../api/hooks.ts";
import { keys } from "../../api/keys.ts";
import type { ReplyRouteDto, TicketDto, TimelineEntryDto } from "../../api/types.ts";
import { InsertArticle } from "../kb/insert-article.tsx";
import { useDraft } from "./drafts.ts";
import { SnippetPicker } from "./snippets.tsx";

export type ComposerMode = "reply" | "note" | "call";

/**
 * Files go up first, loose on the ticket; the entry then names them, so they are tied to it in the same
 * transaction that saves it, and a reply's mail (queued by that transaction's event) carries them.
 */
async function uploadAttachments(ticketId: string, files: File[]): Promise<string[]> {
  const form = new FormData();
  for (const f of files) form.append("file", f, f.name);
  const res = await fetch(`/api/v1/tickets/${ticketId}/attachments`, {
    method: "POST",
    body: form,
    credentials: "same-origin",
  });
  if (!res.ok) {
    const err = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new Error(
      `The files could not be uploaded (nothing was sent): ${err?.error?.message ?? res.status}`,
    );
  }
  const body = (await res.json()) as { attachments: Array<{ id: string }> };
  return body.attachments.map((a) => a.id);
}

const splitAddresses = (v: string) =>
  v
    .split(/[,;\s]+/)
    .map((a) => a.trim())
    .filter(Boolean);

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
  const me = useMe();
  const [body, setBody, clearBody] = useDraft(`${ticket.id}:${mode}`);
  const [direction, setDirection] = useState<"inbound" | "outbound">("inbound");
  const [number, setNumber] = useState(ticket.contact?.phones[0]?.number ?? "");
  const [minutes, setMinutes] = useState<number | string>(5);
  const [files, setFiles] = useState<File[]>([]);
  // null: the default recipients the server proposes (the contact, the conversation's CCs).
  const [to, setTo] = useState<string | null>(null);
  const [cc, setCc] = useState<string | null>(null);
  const route = useQuery({
    queryKey: ["reply-route", ticket.id],
    queryFn: () => get<ReplyRouteDto>(`/tickets/${ticket.id}/reply-route`),
    enabled: mode === "reply" && !readOnly,
    staleTime: 30_000,
  });
  const toList = to === null ? (route.data?.to ?? []) : splitAddresses(to);
  const ccList = cc === null ? (route.data?.cc ?? []) : splitAddresses(cc);
  const blocked =
    mode === "reply"
      ? (route.data?.problem ?? (route.data && toList.length === 0 ? "Add a To address." : null))
      : null;
  const m = useMutation({
    mutationFn: async () => {
      const attachmentIds = files.length ? await uploadAttachments(ticket.id, files) : undefined;
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
                attachmentIds,
              }
            : mode === "reply"
              ? { kind: "reply", body, to: toList, cc: ccList, attachmentIds }
              : { kind: mode, body, attachmentIds },
      });
      return entry;
    },
    onSuccess: () => {
      clearBody();
      setFiles([]);
      setTo(null);
      setCc(null);
      qc.invalidateQueries({ queryKey: keys.ticket(ticket.number) });
      notifications.show({
        // Only what is true now: the mail is queued; its entry on the timeline follows it to sent or failed.
        message:
          mode === "reply"
            ? "Reply queued for sending: its status shows on the timeline"
            : mode === "note"
              ? "Note added"
              : "Call logged",
        color: "teal",
      });
    },
  });
  const errors = fieldErrors(m.error);
  const submit = () => {
    if (readOnly || m.isPending || blocked) return;
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
      {mode === "reply" && !readOnly && (
        <>
          {route.data?.problem && (
            <Alert color="red" variant="light" py={6} mb={6} role="alert" data-testid="reply-problem">
              <Text fz="sm">This reply cannot be emailed: {route.data.problem}</Text>
            </Alert>
          )}
          <Group gap="xs" mb={6} grow preventGrowOverflow={false} wrap="wrap">
            <TextInput
              size="xs"
              label="To"
              miw={180}
              value={to ?? (route.data?.to ?? []).join(", ")}
              onChange={(e) => setTo(e.currentTarget.value)}
              error={errors.to ?? Object.entries(errors).find(([k]) => k.startsWith("to."))?.[1]}
              data-testid="reply-to"
            />
            <TextInput
              size="xs"
              label="Cc"
              miw={180}
              value={cc ?? (route.data?.cc ?? []).join(", ")}
              onChange={(e) => setCc(e.currentTarget.value)}
              error={errors.cc ?? Object.entries(errors).find(([k]) => k.startsWith("cc."))?.[1]}
              data-testid="reply-cc"
            />
          </Group>
          {route.data?.from && (
            <Text fz="xs" c="dimmed" mb={4}>
              From {route.data.from}
            </Text>
          )}
        </>
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
          <SnippetPicker
            ticket={ticket}
            me={me.data}
            disabled={readOnly}
            onInsert={(text) => {
              // At the cursor when the text box has one, else at the end.
              const el = textareaRef.current;
              const at = el && document.activeElement === el ? el.selectionStart : body.length;
              setBody(
                `${body.slice(0, at)}${body && at > 0 && !body.slice(0, at).endsWith("\n") ? "\n" : ""}${text}${body.slice(at)}`,
              );
              setTimeout(() => el?.focus(), 0);
            }}
          />
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
          disabled={readOnly || !!blocked || (mode !== "call" && !body.trim())}
          title={blocked ?? undefined}
        >
          {mode === "reply" ? "Send reply" : mode === "note" ? "Add note" : "Log call"}
        </Button>
      </Group>
    </Paper>
  );
}
