import { Badge, Group, Modal, ScrollArea, Stack, Text, TextInput, UnstyledButton } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { type KeyboardEvent, useEffect, useMemo, useState } from "react";
import { useLocation } from "wouter";
import { get } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import type { SearchResult } from "../api/types.ts";
import { StatusBadge, VipBadge } from "./badges.tsx";
import { CATEGORY_LABELS } from "./format.ts";

interface Hit {
  key: string;
  href: string;
  kind: "Ticket" | "Contact" | "Client";
  title: string;
  sub: string;
  extra?: React.ReactNode;
}

/** Ctrl-K: tickets by number or words, contacts by name, phone or email, clients by name. */
export function SearchModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const [q, setQ] = useState("");
  const [debounced] = useDebouncedValue(q.trim(), 150);
  const [active, setActive] = useState(0);
  const [, navigate] = useLocation();
  const res = useQuery({
    queryKey: keys.search(debounced),
    queryFn: ({ signal }) => get<SearchResult>("/search", { q: debounced, limit: 8 }, signal),
    enabled: opened && debounced.length > 0,
    placeholderData: (p) => p,
  });

  const hits = useMemo<Hit[]>(() => {
    const out: Hit[] = [];
    const num = /^#?(\d{1,9})$/.exec(debounced)?.[1];
    if (num && !res.data?.tickets.some((t) => String(t.number) === num)) {
      out.push({
        key: `n${num}`,
        href: `/tickets/${num}`,
        kind: "Ticket",
        title: `Open ticket #${num}`,
        sub: "by number",
      });
    }
    for (const t of res.data?.tickets ?? []) {
      out.push({
        key: t.id,
        href: `/tickets/${t.number}`,
        kind: "Ticket",
        title: `#${t.number} ${t.subject}`,
        sub: t.client.name,
        extra: (
          <StatusBadge
            name={CATEGORY_LABELS[t.statusCategory] ?? t.statusCategory}
            category={t.statusCategory}
          />
        ),
      });
    }
    for (const c of res.data?.contacts ?? []) {
      out.push({
        key: c.id,
        href: `/contacts/${c.id}`,
        kind: "Contact",
        title: c.name,
        sub: [c.client.name, c.phones[0]?.number, c.emails[0]].filter(Boolean).join(" · "),
        extra: c.vip ? <VipBadge /> : undefined,
      });
    }
    for (const c of res.data?.clients ?? []) {
      out.push({ key: c.id, href: `/clients/${c.id}`, kind: "Client", title: c.name, sub: "client" });
    }
    return out;
  }, [res.data, debounced]);

  useEffect(() => {
    if (!opened) setQ("");
  }, [opened]);

  const current = Math.min(active, Math.max(0, hits.length - 1));
  const go = (h: Hit | undefined) => {
    if (!h) return;
    onClose();
    navigate(h.href);
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setActive((a) => Math.min(a + 1, hits.length - 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => Math.max(a - 1, 0));
    } else if (e.key === "Enter") {
      e.preventDefault();
      go(hits[current]);
    }
  };

  return (
    <Modal
      opened={opened}
      onClose={onClose}
      withCloseButton={false}
      size="lg"
      yOffset="10vh"
      padding={0}
      title={null}
    >
      <TextInput
        aria-label="Search"
        placeholder="Ticket number, words, a name, phone number or email"
        value={q}
        onChange={(e) => {
          setQ(e.currentTarget.value);
          setActive(0);
        }}
        onKeyDown={onKey}
        data-autofocus
        size="md"
        variant="unstyled"
        px="md"
        py={4}
        style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}
        role="combobox"
        aria-expanded={hits.length > 0}
        aria-controls="sb-search-results"
        aria-activedescendant={hits[current] ? `sb-hit-${hits[current].key}` : undefined}
      />
      <ScrollArea.Autosize mah="60vh">
        <Stack gap={0} p={4} id="sb-search-results" role="listbox" aria-label="Results">
          {debounced && hits.length === 0 && !res.isFetching && (
            <Text c="dimmed" p="md" fz="sm">
              Nothing matches “{debounced}”.
            </Text>
          )}
          {hits.map((h, i) => (
            <UnstyledButton
              key={h.key}
              id={`sb-hit-${h.key}`}
              role="option"
              aria-selected={i === current}
              onMouseEnter={() => setActive(i)}
              onClick={() => go(h)}
              px="sm"
              py={6}
              style={{
                borderRadius: 4,
                background: i === current ? "var(--mantine-primary-color-light)" : undefined,
              }}
            >
              <Group justify="space-between" wrap="nowrap" gap="xs">
                <div style={{ minWidth: 0 }}>
                  <Text fz="sm" className="sb-ellipsis">
                    {h.title}
                  </Text>
                  <Text fz="xs" c="dimmed" className="sb-ellipsis">
                    {h.sub}
                  </Text>
                </div>
                <Group gap={6} wrap="nowrap">
                  {h.extra}
                  <Badge variant="outline" color="gray" size="xs">
                    {h.kind}
                  </Badge>
                </Group>
              </Group>
            </UnstyledButton>
          ))}
        </Stack>
      </ScrollArea.Autosize>
    </Modal>
  );
}
