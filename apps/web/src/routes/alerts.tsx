import { Badge, Box, Group, Paper, SegmentedControl, Select, Stack, Text, Title } from "@mantine/core";
import { useMemo } from "react";
import { useLocation, useSearch } from "wouter";
import { useClients, useMe, useSites } from "../api/hooks.ts";
import { ErrorPage } from "../components/error-page.tsx";
import { Empty } from "../components/section.tsx";
import { SeverityBadge } from "../features/monitoring/alert-parts.tsx";
import { AlertTable } from "../features/monitoring/alert-table.tsx";
import { type AlertDto, type AlertQuery, useAlerts } from "../features/monitoring/api.ts";
import { MaintenanceSection } from "../features/monitoring/maintenance.tsx";

const SEVERITIES = ["critical", "high", "medium", "low"] as const;

/** Open alerts per client by severity: the health summary at the top of the Alerts page. */
function ClientHealth({ items, onPick }: { items: AlertDto[]; onPick: (clientId: string) => void }) {
  const byClient = new Map<string, { name: string; counts: Record<string, number> }>();
  for (const a of items) {
    if (a.state === "resolved") continue;
    const c = byClient.get(a.clientId) ?? { name: a.clientName, counts: {} };
    c.counts[a.severity] = (c.counts[a.severity] ?? 0) + 1;
    byClient.set(a.clientId, c);
  }
  if (!byClient.size) return null;
  return (
    <Group gap="xs" wrap="wrap" aria-label="Open alerts by client">
      {[...byClient.entries()].map(([id, c]) => (
        <Paper
          key={id}
          component="button"
          type="button"
          p={6}
          onClick={() => onPick(id)}
          style={{ cursor: "pointer", border: "1px solid var(--mantine-color-default-border)" }}
        >
          <Group gap={6}>
            <Text fz="sm" fw={600}>
              {c.name}
            </Text>
            {SEVERITIES.filter((s) => c.counts[s]).map((s) => (
              <Group key={s} gap={2}>
                <SeverityBadge severity={s} />
                <Badge variant="default" size="sm">
                  {c.counts[s]}
                </Badge>
              </Group>
            ))}
          </Group>
        </Paper>
      ))}
    </Group>
  );
}

/** Alerts: open first by severity, filtered by state, severity, client and site in the address; live. */
export function AlertsPage() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(search);
  const q: AlertQuery = {
    state: (params.get("state") as AlertQuery["state"]) ?? "open",
    severity: params.get("severity") ?? undefined,
    clientId: params.get("clientId") ?? undefined,
    siteId: params.get("siteId") ?? undefined,
  };
  const alerts = useAlerts(q);
  const clients = useClients();
  const sites = useSites(q.clientId ?? null);
  const me = useMe();
  const canWrite = !!me.data && me.data.role !== "readonly";
  const items = useMemo(() => alerts.data?.items ?? [], [alerts.data]);
  const setFilter = (name: string, value: string | null) => {
    const next = new URLSearchParams(search);
    if (value) next.set(name, value);
    else next.delete(name);
    // A site belongs to one client: another client (or none) drops it.
    if (name === "clientId") next.delete("siteId");
    const s = next.toString();
    navigate(s ? `/alerts?${s}` : "/alerts", { replace: true });
  };

  return (
    <Box p="md">
      <Stack gap="md">
        <Group justify="space-between" wrap="wrap">
          <Title order={1}>Alerts</Title>
          <Group gap="xs">
            <SegmentedControl
              aria-label="State"
              size="xs"
              value={q.state ?? "open"}
              onChange={(v) => setFilter("state", v === "open" ? null : v)}
              data={[
                { value: "open", label: "Open" },
                { value: "resolved", label: "Resolved" },
                { value: "all", label: "All" },
              ]}
            />
            <Select
              aria-label="Severity"
              placeholder="Any severity"
              clearable
              data={SEVERITIES.map((s) => ({ value: s, label: s }))}
              value={q.severity ?? null}
              onChange={(v) => setFilter("severity", v)}
              w={150}
            />
            <Select
              aria-label="Client"
              placeholder="All clients"
              searchable
              clearable
              data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
              value={q.clientId ?? null}
              onChange={(v) => setFilter("clientId", v)}
              w={220}
            />
            {q.clientId && (
              <Select
                aria-label="Site"
                placeholder="All sites"
                clearable
                data={(sites.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
                value={q.siteId ?? null}
                onChange={(v) => setFilter("siteId", v)}
                w={180}
              />
            )}
          </Group>
        </Group>
        {q.state !== "resolved" && <ClientHealth items={items} onPick={(id) => setFilter("clientId", id)} />}
        {alerts.isError ? (
          <ErrorPage error={alerts.error} onRetry={() => alerts.refetch()} />
        ) : (
          <Paper>
            {alerts.isPending ? (
              <Empty>Loading…</Empty>
            ) : (
              <AlertTable
                items={items}
                canWrite={canWrite}
                empty={q.state === "open" ? "No open alerts. Everything monitored is healthy." : "No alerts."}
              />
            )}
          </Paper>
        )}
        <MaintenanceSection canWrite={canWrite} />
      </Stack>
    </Box>
  );
}
