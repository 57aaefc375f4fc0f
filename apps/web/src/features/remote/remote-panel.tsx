import { Alert, Anchor, Button, FileInput, Group, Stack, Table, Text, TextInput } from "@mantine/core";
import type { RemoteSessionDto } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "wouter";
import { ApiError, api, get } from "../../api/client.ts";
import type { DeviceDetail } from "../../api/types.ts";
import { Empty, Section } from "../../components/section.tsx";

const KIND = { shell: "Shell", file_upload: "Upload", file_download: "Download" } as const;

async function ticketIdOf(number: string): Promise<string | undefined> {
  const n = number.replace(/^#/, "").trim();
  if (!n) return undefined;
  return (await get<{ ticket: { id: string } }>(`/tickets/by-number/${encodeURIComponent(n)}`)).ticket.id;
}

async function uploadFile(deviceId: string, file: File, path: string, ticketId?: string) {
  const form = new FormData();
  form.append("file", file);
  const q = new URLSearchParams({ path, ...(ticketId ? { ticketId } : {}) });
  const res = await fetch(`/api/v1/devices/${deviceId}/files?${q}`, {
    method: "POST",
    body: form,
    credentials: "same-origin",
  });
  const body = await res.json().catch(() => null);
  if (!res.ok)
    throw new ApiError(
      res.status,
      body?.error?.code ?? "http_error",
      body?.error?.message ?? `HTTP ${res.status}`,
    );
  return body as RemoteSessionDto;
}

/** Shell, file transfers and their history on a device page. */
export function RemotePanel({ device, canWrite }: { device: DeviceDetail; canWrite: boolean }) {
  const qc = useQueryClient();
  const sessions = useQuery({
    queryKey: ["remote-sessions", device.id],
    queryFn: () => get<{ items: RemoteSessionDto[] }>(`/devices/${device.id}/remote-sessions`),
    refetchInterval: 10_000,
  });
  const [ticket, setTicket] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [dest, setDest] = useState("");
  const [fetchPath, setFetchPath] = useState("");
  const done = () => qc.invalidateQueries({ queryKey: ["remote-sessions", device.id] });
  const upload = useMutation({
    mutationFn: async () => uploadFile(device.id, file!, dest.trim(), await ticketIdOf(ticket)),
    onSettled: done,
  });
  const download = useMutation({
    mutationFn: async () =>
      api<RemoteSessionDto>("POST", `/devices/${device.id}/file-downloads`, {
        body: {
          path: fetchPath.trim(),
          ...((await ticketIdOf(ticket)) ? { ticketId: await ticketIdOf(ticket) } : {}),
        },
      }),
    onSettled: done,
  });
  const windows = device.platform === "win32";
  const live = !device.retiredAt && canWrite;
  const outcome = (m: typeof upload | typeof download) =>
    m.isError ? (
      <Alert color="red">{(m.error as Error).message}</Alert>
    ) : m.data ? (
      <Alert color={m.data.status === "closed" ? "teal" : "red"}>
        {m.data.status === "closed" ? `Done: SHA-256 ${m.data.file?.sha256}` : `Failed: ${m.data.lastError}`}
      </Alert>
    ) : null;

  return (
    <Section id="device-remote" title="Remote access" count={sessions.data?.items.length}>
      {live && (
        <Stack gap="xs" p="sm" style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}>
          <Group gap="xs" align="flex-end">
            <TextInput
              label="Ticket (optional)"
              placeholder="#1042"
              value={ticket}
              onChange={(e) => setTicket(e.currentTarget.value)}
              w={140}
            />
            {windows || device.status !== "online" ? (
              // A link cannot be disabled: a real disabled button, so it is skipped by keyboard and contrast rules.
              <Button disabled>Open shell</Button>
            ) : (
              <Button
                component={Link}
                href={`/devices/${device.id}/shell${ticket ? `?ticket=${encodeURIComponent(ticket)}` : ""}`}
              >
                Open shell
              </Button>
            )}
            {windows && (
              <Text fz="xs" c="dimmed">
                Shells are not available on Windows yet.
              </Text>
            )}
          </Group>
          <Group gap="xs" align="flex-end">
            <FileInput
              label="Upload a file"
              placeholder="Choose a file"
              value={file}
              onChange={setFile}
              w={200}
            />
            <TextInput
              label="to path on the device"
              placeholder="/tmp/report.pdf"
              value={dest}
              onChange={(e) => setDest(e.currentTarget.value)}
              w={240}
            />
            <Button
              variant="default"
              loading={upload.isPending}
              disabled={!file || !dest.trim()}
              onClick={() => upload.mutate()}
            >
              Upload
            </Button>
          </Group>
          {outcome(upload)}
          <Group gap="xs" align="flex-end">
            <TextInput
              label="Fetch a file from path"
              placeholder="/var/log/syslog"
              value={fetchPath}
              onChange={(e) => setFetchPath(e.currentTarget.value)}
              w={300}
            />
            <Button
              variant="default"
              loading={download.isPending}
              disabled={!fetchPath.trim()}
              onClick={() => download.mutate()}
            >
              Fetch
            </Button>
          </Group>
          {outcome(download)}
        </Stack>
      )}
      {sessions.data?.items.length ? (
        <Table fz="sm" verticalSpacing={4}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>What</Table.Th>
              <Table.Th>By</Table.Th>
              <Table.Th>When</Table.Th>
              <Table.Th>Outcome</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {sessions.data.items.map((s) => (
              <Table.Tr key={s.id}>
                <Table.Td>
                  {KIND[s.kind]}
                  {s.path ? ` ${s.path}` : ""}
                </Table.Td>
                <Table.Td>{s.requestedBy}</Table.Td>
                <Table.Td>{new Date(s.createdAt).toLocaleString()}</Table.Td>
                <Table.Td>
                  {s.status === "failed" ? s.lastError : (s.closeReason ?? s.status)}
                  {s.file && (
                    <>
                      {" · "}
                      <Anchor fz="sm" href={`/api/v1/remote/sessions/${s.id}/file`}>
                        {s.kind === "shell" ? "recording" : s.file.name}
                      </Anchor>
                    </>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ) : (
        <Empty>No shells or file transfers yet.</Empty>
      )}
    </Section>
  );
}
