import { Anchor, Box, Button, Grid, Group, Paper, Select, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useLocation, useParams, useSearch } from "wouter";
import { get } from "../api/client.ts";
import {
  type DeviceListQuery,
  useClients,
  useDevice,
  useDeviceCommands,
  useDevices,
  useMe,
  useSites,
} from "../api/hooks.ts";
import { keys } from "../api/keys.ts";
import type { ClientDto } from "../api/types.ts";
import { ErrorPage } from "../components/error-page.tsx";
import { Empty, Section } from "../components/section.tsx";
import { CommandHistory } from "../features/devices/command-history.tsx";
import {
  DeviceStatusBadge,
  DeviceTable,
  LastSeen,
  osLabel,
  SupportBadge,
} from "../features/devices/device-table.tsx";
import { EnrollButton } from "../features/devices/enroll-button.tsx";
import { InventoryGrid, SoftwareSection, UpdatesSection } from "../features/devices/inventory.tsx";
import { RetireButton } from "../features/devices/retire-button.tsx";
import { RunPanel } from "../features/devices/run-panel.tsx";
import { DeviceMonitoring } from "../features/monitoring/device-monitoring.tsx";
import { DeviceTags } from "../features/monitoring/device-tags.tsx";
import { RemotePanel } from "../features/remote/remote-panel.tsx";

const STATUS_OPTIONS = [
  { value: "", label: "Any state" },
  { value: "online", label: "Online" },
  { value: "offline", label: "Offline" },
  { value: "retired", label: "Retired" },
];
const PAGE = 50;

/** Devices, filtered by client and state in the address so a client page can link to its own. */
export function DevicesPage() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(search);
  const clientId = params.get("clientId") ?? "";
  const status = params.get("status") ?? "";
  // Keyset paging: remember the cursors behind us to step back.
  const [cursors, setCursors] = useState<string[]>([]);
  const clients = useClients();
  const clientNames = useMemo(() => new Map((clients.data ?? []).map((c) => [c.id, c.name])), [clients.data]);
  const q: DeviceListQuery = {
    clientId: clientId || undefined,
    status: (status || undefined) as DeviceListQuery["status"],
    limit: PAGE,
    cursor: cursors.at(-1),
  };
  const devices = useDevices(q);
  const me = useMe();

  const setFilter = (name: string, value: string | null) => {
    const next = new URLSearchParams(search);
    if (value) next.set(name, value);
    else next.delete(name);
    setCursors([]);
    const s = next.toString();
    navigate(s ? `/devices?${s}` : "/devices", { replace: true });
  };

  return (
    <Box p="md">
      <Group justify="space-between" mb="sm" wrap="wrap">
        <Title order={1}>Devices</Title>
        <Group gap="xs">
          <Select
            aria-label="Client"
            placeholder="All clients"
            searchable
            clearable
            data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
            value={clientId || null}
            onChange={(v) => setFilter("clientId", v)}
            w={240}
          />
          <Select
            aria-label="State"
            data={STATUS_OPTIONS}
            value={status}
            onChange={(v) => setFilter("status", v)}
            allowDeselect={false}
            w={140}
          />
          {me.data?.role === "admin" && <EnrollButton defaultClientId={clientId} />}
        </Group>
      </Group>
      {devices.isError ? (
        <ErrorPage error={devices.error} onRetry={() => devices.refetch()} />
      ) : (
        <Paper>
          <DeviceTable
            items={devices.data?.items ?? []}
            clientNames={clientId ? undefined : clientNames}
            empty={
              devices.isPending ? (
                <Empty>Loading…</Empty>
              ) : (
                <Empty>No devices. An admin enrolls one with "Enroll a device".</Empty>
              )
            }
          />
          {(cursors.length > 0 || devices.data?.nextCursor) && (
            <Group justify="flex-end" gap="xs" p="xs">
              <Button
                size="xs"
                variant="default"
                disabled={cursors.length === 0}
                onClick={() => setCursors((c) => c.slice(0, -1))}
              >
                Previous
              </Button>
              <Button
                size="xs"
                variant="default"
                disabled={!devices.data?.nextCursor}
                onClick={() => {
                  const next = devices.data?.nextCursor;
                  if (next) setCursors((c) => [...c, next]);
                }}
              >
                Next
              </Button>
            </Group>
          )}
        </Paper>
      )}
    </Box>
  );
}

export function DevicePage() {
  const { id } = useParams<{ id: string }>();
  const device = useDevice(id);
  const commands = useDeviceCommands(id);
  const me = useMe();
  const clientId = device.data?.clientId ?? "";
  const client = useQuery({
    queryKey: keys.client(clientId),
    queryFn: () => get<ClientDto>(`/clients/${clientId}`),
    enabled: !!clientId,
  });
  const sites = useSites(device.data?.siteId ? clientId : null);
  const [openId, setOpenId] = useState<string | null>(null);

  if (device.isError) return <ErrorPage error={device.error} />;
  const d = device.data;
  if (!d) return <Empty>Loading…</Empty>;
  const site = sites.data?.find((s) => s.id === d.siteId);
  const inv = d.inventory;
  const role = me.data?.role;
  const history = commands.data?.items ?? [];
  // The newest command shows its output unless the technician picked another.
  const shownId = openId ?? history[0]?.id ?? null;

  return (
    <Stack p="md" gap="md">
      <Group justify="space-between" align="flex-start" wrap="wrap">
        <div>
          <Group gap="xs">
            <Title order={1}>{d.hostname}</Title>
            <DeviceStatusBadge status={d.status} />
            {d.supportSessionId && <SupportBadge />}
          </Group>
          <Text c="dimmed" fz="sm">
            <Anchor component={Link} href={`/clients/${d.clientId}`} fz="sm">
              {client.data?.name ?? "Client"}
            </Anchor>
            {site ? ` · ${site.name}` : ""} · {osLabel(d)} · agent {d.agentVersion}
          </Text>
          <Text c="dimmed" fz="xs">
            Last seen <LastSeen at={d.lastSeenAt} />
            {d.lastAddress ? ` from ${d.lastAddress}` : ""}
            {d.retiredAt ? " · retired" : ""}
          </Text>
          <DeviceTags
            deviceId={d.id}
            tags={d.tags}
            canWrite={!!role && role !== "readonly" && !d.retiredAt}
          />
        </div>
        {role === "admin" && !d.retiredAt && <RetireButton device={d} />}
      </Group>
      {inv ? (
        <InventoryGrid inv={inv} />
      ) : (
        <Paper>
          <Empty>No inventory received yet.</Empty>
        </Paper>
      )}
      <DeviceMonitoring deviceId={d.id} canWrite={!!role && role !== "readonly" && !d.retiredAt} />
      <Grid gap="md">
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <Section id="device-commands" title="Commands" count={history.length}>
            {role && role !== "readonly" && !d.retiredAt && (
              <Box style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}>
                <RunPanel device={d} onSent={setOpenId} />
              </Box>
            )}
            <CommandHistory items={history} openId={shownId} />
          </Section>
          <Box mt="md">
            <RemotePanel device={d} canWrite={!!role && role !== "readonly"} />
          </Box>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          {inv && (
            <Stack gap="md">
              <UpdatesSection inv={inv} />
              <SoftwareSection inv={inv} />
            </Stack>
          )}
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
