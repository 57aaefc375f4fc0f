import { Badge, Box, Button, Group, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useMe } from "../api/hooks.ts";
import { ErrorPage } from "../components/error-page.tsx";
import { Empty, Section } from "../components/section.tsx";
import { SeverityBadge } from "../features/monitoring/alert-parts.tsx";
import { type PolicyDto, useDeletePolicy, usePolicies } from "../features/monitoring/api.ts";
import { PolicyForm } from "../features/monitoring/policy-form.tsx";
import { TicketRulesSection } from "../features/monitoring/ticket-rules.tsx";

const scopeOf = (p: PolicyDto) =>
  p.tag
    ? `Devices tagged ${p.tag}${p.clientName ? ` (${p.clientName})` : " (every client)"}`
    : p.hostname
      ? `Device ${p.hostname} (${p.clientName})`
      : p.siteName
        ? `${p.clientName} · ${p.siteName}`
        : (p.clientName ?? "Every client (MSP default)");

function describe(c: PolicyDto["checks"][number]) {
  const k = c.config;
  switch (k.kind) {
    case "service":
      return `service ${k.service}`;
    case "process":
      return `process ${k.process}`;
    case "disk":
      return `disk ${k.volume}${k.minFreePercent !== undefined ? ` ≥ ${k.minFreePercent}% free` : ""}${k.minFreeGb !== undefined ? ` ≥ ${k.minFreeGb} GB free` : ""}`;
    case "cpu":
    case "memory":
      return `${k.kind} ≤ ${k.maxPercent}% over ${k.windowSeconds}s`;
    case "ping":
      return `ping ${k.host}`;
    case "tcp":
      return `tcp ${k.host}:${k.port}`;
    case "http":
      return `http ${k.url}`;
    case "script":
      return `${k.interpreter} script`;
    case "reboot":
      return `reboot pending > ${k.graceHours} h`;
    case "updates":
      return `updates: ≤ ${k.maxSecurity} security${k.maxAgeDays !== undefined ? `, none older than ${k.maxAgeDays} d` : ""}`;
    case "log":
      return `${k.source}${k.target ? ` ${k.target}` : ""} contains "${k.contains}"`;
    case "backup":
      return `backup ${k.path} ≤ ${k.maxAgeHours} h old`;
  }
}

/** Monitoring policies: named sets of checks for the MSP, a client, a site or a device, inherited downwards. */
export function MonitoringPoliciesPage() {
  const policies = usePolicies();
  const me = useMe();
  const canEdit = me.data?.role === "admin" || me.data?.role === "dispatcher";
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const del = useDeletePolicy();
  if (policies.isError) return <ErrorPage error={policies.error} onRetry={() => policies.refetch()} />;
  const items = policies.data?.items ?? [];
  return (
    <Box p="md">
      <Stack gap="md">
        <Group justify="space-between">
          <Title order={1}>Monitoring policies</Title>
          {canEdit && !adding && (
            <Button size="xs" onClick={() => setAdding(true)}>
              New policy
            </Button>
          )}
        </Group>
        <Text fz="sm" c="dimmed">
          Checks apply to every device under the policy's scope; a check with the same kind and name lower
          down replaces the inherited one: every client, then the client, its site, a tag the device carries
          (every client's tag, then the client's own), and the device itself. Device offline alerts need no
          policy: the server raises them itself.
        </Text>
        {adding && (
          <Paper p="sm">
            <PolicyForm onDone={() => setAdding(false)} />
          </Paper>
        )}
        {policies.isPending ? (
          <Empty>Loading…</Empty>
        ) : items.length === 0 ? (
          <Paper>
            <Empty>No policies yet.</Empty>
          </Paper>
        ) : (
          items.map((p) => (
            <Section
              key={p.id}
              id={`policy-${p.id}`}
              title={`${p.name} — ${scopeOf(p)}`}
              count={p.checks.length}
              actions={
                <Group gap="xs">
                  {!p.enabled && <Badge color="gray">disabled</Badge>}
                  {canEdit && editing !== p.id && (
                    <Button
                      size="compact-xs"
                      variant="default"
                      aria-label={`Edit ${p.name}`}
                      onClick={() => setEditing(p.id)}
                    >
                      Edit
                    </Button>
                  )}
                  {canEdit && (
                    <Button
                      size="compact-xs"
                      variant="default"
                      color="red"
                      loading={del.isPending}
                      onClick={() => del.mutate(p.id)}
                    >
                      Delete
                    </Button>
                  )}
                </Group>
              }
            >
              {editing === p.id && (
                <Paper p="sm">
                  <PolicyForm policy={p} onDone={() => setEditing(null)} />
                </Paper>
              )}
              <Table fz="sm" aria-label={`Checks of ${p.name}`}>
                <Table.Tbody>
                  {p.checks.map((c) => (
                    <Table.Tr key={c.id}>
                      <Table.Td>{c.name}</Table.Td>
                      <Table.Td>{describe(c)}</Table.Td>
                      <Table.Td>every {c.intervalSeconds}s</Table.Td>
                      <Table.Td>
                        <SeverityBadge severity={c.severity} />
                      </Table.Td>
                      <Table.Td>after {c.failAfter} failures</Table.Td>
                      <Table.Td>
                        {[
                          c.remediation?.kind === "service.restart"
                            ? `restart ${c.remediation.name}`
                            : c.remediation
                              ? `run a ${c.remediation.interpreter} script`
                              : "",
                          c.uplink ? `watches ${c.uplink.siteName} (${c.uplink.clientName})` : "",
                        ]
                          .filter(Boolean)
                          .join(" · ")}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Section>
          ))
        )}
        <TicketRulesSection canEdit={canEdit} />
        {del.isError && (
          <Text c="red.8" role="alert">
            {del.error.message}
          </Text>
        )}
      </Stack>
    </Box>
  );
}
