import { Alert, Box, Button, Grid, Group, Menu, Skeleton, Stack, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useLocation, useParams } from "wouter";
import { api, get } from "../api/client.ts";
import { useMe, useStatuses } from "../api/hooks.ts";
import { keys } from "../api/keys.ts";
import type { TicketWithTimeline, TimelineEntryDto } from "../api/types.ts";
import { PriorityBadge, StatusBadge, VipBadge } from "../components/badges.tsx";
import { ErrorPage } from "../components/error-page.tsx";
import { VerifyCallerButton } from "../features/identity/verify-caller.tsx";
import { TicketAlerts } from "../features/monitoring/ticket-alerts.tsx";
import { RemoteMenu } from "../features/remote/remote-menu.tsx";
import { TicketSlaPanel } from "../features/sla/ticket-sla-panel.tsx";
import { Composer, type ComposerMode } from "../features/tickets/composer.tsx";
import { DevicePanel } from "../features/tickets/device-panel.tsx";
import { MergeModal } from "../features/tickets/merge-modal.tsx";
import { ParentModal } from "../features/tickets/parent-modal.tsx";
import { Properties } from "../features/tickets/properties.tsx";
import { ResolveModal } from "../features/tickets/resolve-modal.tsx";
import { isTyping } from "../features/tickets/ticket-list.tsx";
import { Timeline } from "../features/tickets/timeline.tsx";
import { useTicketPresence } from "../features/tickets/use-presence.ts";
import { diffTickets, useTicketUpdate } from "../features/tickets/use-ticket-update.ts";
import { TicketWork } from "../features/time/ticket-work.tsx";

export function TicketPage() {
  const { number } = useParams<{ number: string }>();
  const [, navigate] = useLocation();
  const me = useMe();
  const statuses = useStatuses();
  const q = useQuery({
    queryKey: keys.ticket(number),
    queryFn: () => get<TicketWithTimeline>(`/tickets/by-number/${encodeURIComponent(number)}`),
  });
  const ticket = q.data?.ticket;
  const [mode, setMode] = useState<ComposerMode>("reply");
  const textareaRef = useRef<HTMLTextAreaElement>(null);
  const [mergeOpen, merge] = useDisclosure(false);
  const [parentOpen, parent] = useDisclosure(false);
  const [resolveOpen, resolveModal] = useDisclosure(false);
  // Older timeline pages, remembered for the ticket they were loaded for.
  const [olderState, setOlder] = useState<{
    number: string;
    entries: TimelineEntryDto[];
    before: number | null;
  } | null>(null);
  const older = olderState?.number === number ? olderState : null;
  const { others, onTyping } = useTicketPresence(ticket?.id);
  const upd = useTicketUpdate(ticket);
  const readOnly = me.data?.role === "readonly";

  // The number of a merged ticket answers with the ticket it went into: show that one's own URL.
  useEffect(() => {
    if (ticket && String(ticket.number) !== number) navigate(`/tickets/${ticket.number}`, { replace: true });
  }, [ticket, number, navigate]);

  const loadOlder = useMutation({
    mutationFn: async () => {
      const before = older?.before ?? q.data?.olderBefore;
      return get<{ items: TimelineEntryDto[]; olderBefore: number | null }>(
        `/tickets/${ticket!.id}/timeline`,
        {
          before: before ?? undefined,
          limit: 50,
        },
      );
    },
    onSuccess: (r) =>
      setOlder({ number, entries: [...(older?.entries ?? []), ...r.items], before: r.olderBefore }),
  });

  const focusComposer = (m: ComposerMode) => {
    setMode(m);
    setTimeout(() => textareaRef.current?.focus(), 0);
  };
  // The shortcut handler is registered once and reads the latest render through a ref, so a key
  // pressed right after the ticket appears is never handled by a stale closure.
  const onKeyRef = useRef<(e: KeyboardEvent) => void>(() => {});
  onKeyRef.current = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target) || !ticket || readOnly) return;
    const resolved = statuses.data?.find((s) => s.category === "resolved");
    if (e.key === "r" || e.key === "n" || e.key === "c") {
      e.preventDefault();
      focusComposer(e.key === "r" ? "reply" : e.key === "n" ? "note" : "call");
    } else if (e.key === "a" && me.data && ticket.assignee?.id !== me.data.id) {
      upd.update({ assigneeId: me.data.id });
    } else if (e.key === "e" && resolved && ticket.status.category !== "resolved") {
      e.preventDefault();
      resolveModal.open();
    }
  };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => onKeyRef.current(e);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  if (q.isError) return <ErrorPage error={q.error} onRetry={() => q.refetch()} />;
  if (!ticket || !q.data) {
    return (
      <Box p="md">
        <Skeleton h={28} w="50%" mb="md" />
        <Skeleton h={200} />
      </Box>
    );
  }
  const resolved = statuses.data?.find((s) => s.category === "resolved");
  const timeline = [...q.data.timeline, ...(older?.entries ?? [])];
  const hasOlder = older ? older.before !== null : q.data.olderBefore !== null;
  const typing = others.filter((o) => o.state === "typing");

  return (
    <Box>
      <Box px="md" py="sm" style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}>
        <Group justify="space-between" align="flex-start" wrap="wrap" gap="sm">
          {/* On a phone the actions go under the title instead of squeezing it. */}
          <div style={{ minWidth: 0, flex: "1 1 260px" }}>
            <Group gap={8} wrap="nowrap">
              <PriorityBadge priority={ticket.priority} />
              <Text c="dimmed" ff="monospace" fz="sm">
                #{ticket.number}
              </Text>
              <Title order={1} fz={18} className="sb-ellipsis" data-testid="ticket-subject">
                {ticket.subject}
              </Title>
            </Group>
            <Group gap={8} mt={4} fz="sm">
              <StatusBadge name={ticket.status.name} category={ticket.status.category} />
              <Text fz="sm">{ticket.client.name}</Text>
              {ticket.contact && (
                <Group gap={4}>
                  <Text fz="sm" c="dimmed">
                    · {ticket.contact.name}
                  </Text>
                  {ticket.contact.vip && <VipBadge />}
                </Group>
              )}
              <Text fz="sm" c="dimmed">
                · {ticket.assignee ? ticket.assignee.name : "Unassigned"}
                {ticket.team ? ` · ${ticket.team.name}` : ""}
              </Text>
              {ticket.followUpAt && (
                <Text fz="sm" c="dimmed">
                  · follow up {new Date(ticket.followUpAt).toLocaleDateString()}
                </Text>
              )}
            </Group>
          </div>
          {!readOnly && (
            <Group gap={6} wrap="nowrap">
              {resolved && ticket.status.category !== "resolved" && ticket.status.category !== "closed" && (
                <Button color="green" variant="light" onClick={resolveModal.open} loading={upd.pending}>
                  Resolve (e)
                </Button>
              )}
              <VerifyCallerButton ticket={ticket} />
              <RemoteMenu ticket={ticket} />
              <Menu position="bottom-end" withinPortal>
                <Menu.Target>
                  <Button variant="default">More</Button>
                </Menu.Target>
                <Menu.Dropdown>
                  <Menu.Item onClick={merge.open}>Merge into another ticket…</Menu.Item>
                  <Menu.Item onClick={parent.open}>Link under a parent ticket…</Menu.Item>
                  <Menu.Item
                    onClick={async () => {
                      const a = await api<{ id: string }>("POST", "/kb/articles/from-ticket", {
                        body: { ticketId: ticket.id },
                      });
                      navigate(`/kb/${a.id}?edit=1`);
                    }}
                  >
                    Create article from this ticket
                  </Menu.Item>
                  <Menu.Item
                    onClick={() => navigate(`/intake?parent=${ticket.number}&clientId=${ticket.client.id}`)}
                  >
                    New child ticket…
                  </Menu.Item>
                </Menu.Dropdown>
              </Menu>
            </Group>
          )}
        </Group>
      </Box>
      {others.length > 0 && (
        <Alert
          color={typing.length ? "orange" : "blue"}
          variant="light"
          radius={0}
          py={6}
          role="status"
          data-testid="presence"
        >
          <Text fz="sm">
            {typing.length
              ? `${typing.map((o) => o.name).join(", ")} ${typing.length === 1 ? "is" : "are"} typing on this ticket. Check before you reply.`
              : `${others.map((o) => o.name).join(", ")} ${others.length === 1 ? "is" : "are"} also viewing this ticket.`}
          </Text>
        </Alert>
      )}
      {upd.conflict && (
        <Alert
          color="red"
          variant="light"
          radius={0}
          title="Your change was not saved"
          data-testid="conflict"
        >
          <Text fz="sm">Someone changed this ticket after you opened it. It now shows their version:</Text>
          <Box component="ul" my={4} pl="md" fz="sm">
            {diffTickets(upd.conflict.base, upd.conflict.current).map((d) => (
              <li key={d.label}>
                {d.label}: {d.from} → <b>{d.to}</b>
              </li>
            ))}
          </Box>
          <Group gap="xs">
            <Button size="xs" onClick={upd.reapply}>
              Apply my change on top
            </Button>
            <Button size="xs" variant="default" onClick={upd.dismiss}>
              Keep theirs
            </Button>
          </Group>
        </Alert>
      )}
      {ticket.mergedInto && (
        <Alert color="gray" radius={0}>
          This ticket was merged into #{ticket.mergedInto.number}.
        </Alert>
      )}
      <Grid gap={0}>
        <Grid.Col
          span={{ base: 12, md: 8, xl: 9 }}
          style={{ borderRight: "1px solid var(--mantine-color-default-border)" }}
        >
          {ticket.description && (
            <Box px="md" py="sm" style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}>
              <div className="sb-timeline-body">{ticket.description}</div>
            </Box>
          )}
          {ticket.source === "monitoring" && <TicketAlerts ticketId={ticket.id} canWrite={!readOnly} />}
          <Composer
            ticket={ticket}
            mode={mode}
            onModeChange={focusComposer}
            textareaRef={textareaRef}
            onTyping={onTyping}
            readOnly={readOnly}
          />
          <Timeline
            entries={timeline}
            hasOlder={hasOlder}
            onLoadOlder={() => loadOlder.mutate()}
            loadingOlder={loadOlder.isPending}
            canRetry={!readOnly}
          />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 4, xl: 3 }} p="sm">
          <Stack gap="sm">
            <Properties ticket={ticket} update={upd.update} readOnly={readOnly} />
            <TicketSlaPanel ticket={ticket} />
            <DevicePanel ticket={ticket} />
            <TicketWork ticket={ticket} readOnly={readOnly} />
          </Stack>
        </Grid.Col>
      </Grid>
      <MergeModal ticket={ticket} opened={mergeOpen} onClose={merge.close} />
      <ParentModal ticket={ticket} opened={parentOpen} onClose={parent.close} update={upd.update} />
      {resolved && (
        <ResolveModal ticket={ticket} resolved={resolved} opened={resolveOpen} onClose={resolveModal.close} />
      )}
    </Box>
  );
}
