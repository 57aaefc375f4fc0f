import { Badge, Stack, Table, Text } from "@mantine/core";
import { relative } from "../../components/format.ts";
import { Empty, Section } from "../../components/section.tsx";
import { CHECK_STATE_COLORS } from "./alert-parts.tsx";
import { AlertTable } from "./alert-table.tsx";
import { type MetricPoint, useDeviceMetrics, useDeviceMonitoring } from "./api.ts";
import { DevicePatch } from "./patch.tsx";
import { Sparkline } from "./sparkline.tsx";
import { DeviceTaskRuns } from "./task-runs.tsx";

const metricText = (m: Record<string, number> | null) =>
  m
    ? Object.entries(m)
        .map(([k, v]) => `${k.replace(/_/g, " ")} ${v}`)
        .join(" · ")
    : "";

/** The device page's Monitoring tab: every check it runs (and from which policy), its state, its alerts. */
export function DeviceMonitoring({ deviceId, canWrite }: { deviceId: string; canWrite: boolean }) {
  const q = useDeviceMonitoring(deviceId);
  const history = useDeviceMetrics(deviceId);
  const byCheck = new Map<string, MetricPoint[]>();
  for (const p of history.data?.items ?? []) byCheck.set(p.checkId, [...(byCheck.get(p.checkId) ?? []), p]);
  const m = q.data;
  const open = m?.alerts.filter((a) => a.state !== "resolved") ?? [];
  return (
    <Stack gap="md">
      <Section id="device-monitoring" title="Monitoring" count={m?.checks.length}>
        {q.isError ? (
          <Empty>Could not load monitoring: {q.error.message}</Empty>
        ) : !m ? (
          <Empty>Loading…</Empty>
        ) : m.checks.length === 0 ? (
          <Empty>
            No checks apply to this device. A policy for its client, site or the device adds them.
          </Empty>
        ) : (
          <Table.ScrollContainer minWidth={600}>
            <Table verticalSpacing={6} fz="sm" aria-label="Checks">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Check</Table.Th>
                  <Table.Th>State</Table.Th>
                  <Table.Th>Last result</Table.Th>
                  <Table.Th>Last 48 hours</Table.Th>
                  <Table.Th>Since</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {m.checks.map((c) => (
                  <Table.Tr key={c.check.id}>
                    <Table.Td>
                      <Text fz="sm">{c.check.name}</Text>
                      <Text fz="xs" c="dimmed">
                        {c.check.kind} every {c.check.intervalSeconds}s · {c.policyName}
                        {c.check.uplink &&
                          ` · watches the connection of ${c.check.uplink.clientName}, ${c.check.uplink.siteName}`}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      {c.state ? (
                        <Badge color={CHECK_STATE_COLORS[c.state]} variant="light" size="sm">
                          {c.state}
                        </Badge>
                      ) : (
                        <Text fz="xs" c="dimmed">
                          waiting for the agent
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td maw={380}>
                      <Text fz="xs" lineClamp={3} title={c.output}>
                        {c.output}
                      </Text>
                      {c.metrics && (
                        <Text fz="xs" c="dimmed">
                          {metricText(c.metrics)}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      {(() => {
                        const points = byCheck.get(c.check.id) ?? [];
                        const key = points.length ? Object.keys(points.at(-1)!.values)[0] : undefined;
                        if (!key)
                          return (
                            <Text fz="xs" c="dimmed">
                              —
                            </Text>
                          );
                        const values = points
                          .map((p) => p.values[key])
                          .filter((v): v is number => v !== undefined);
                        return (
                          <Sparkline
                            values={values}
                            label={`${key.replace(/_/g, " ")} hourly, ${Math.min(...values)} to ${Math.max(...values)}`}
                          />
                        );
                      })()}
                    </Table.Td>
                    <Table.Td>
                      <Text fz="xs">{c.changedAt ? relative(c.changedAt) : "—"}</Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Section>
      <Section id="device-alerts" title="Alerts" count={open.length}>
        <AlertTable
          items={m?.alerts ?? []}
          canWrite={canWrite}
          showDevice={false}
          empty={m?.online === false ? "No alerts yet; the device is offline." : "No alerts."}
        />
      </Section>
      <DeviceTaskRuns deviceId={deviceId} />
      <DevicePatch deviceId={deviceId} />
    </Stack>
  );
}
