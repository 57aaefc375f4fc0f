import { Anchor, Badge, Button, Modal, Stack, Table, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import type { IdentityReportDto } from "@switchboard/shared";
import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/client.ts";

const when = (iso: string) => new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" });
const LABEL = { reset_password: "Password reset", unlock: "Unlock", force_change: "Force change" } as const;

/** Resets and failed verifications of a client over the last 30 days. */
export function IdentityReportButton({ clientId }: { clientId: string }) {
  const [opened, { open, close }] = useDisclosure(false);
  return (
    <>
      <Button size="compact-xs" variant="subtle" onClick={open}>
        Report
      </Button>
      {opened && <ReportModal clientId={clientId} onClose={close} />}
    </>
  );
}

function ReportModal({ clientId, onClose }: { clientId: string; onClose: () => void }) {
  const report = useQuery({
    queryKey: ["identity", "report", clientId],
    queryFn: () =>
      api<IdentityReportDto>("GET", `/clients/${clientId}/identity-report`, { query: { days: 30 } }),
  });
  const r = report.data;
  return (
    <Modal opened onClose={onClose} title="Resets and verifications, last 30 days" size="xl">
      {report.error && <Text c="red">{(report.error as Error).message}</Text>}
      {r && (
        <Stack>
          <Text>
            {r.totals.resetsDone} done ({r.totals.selfService} self-service) · {r.totals.resetsFailed} failed
            · {r.totals.verificationsFailed} failed verifications
          </Text>
          <Title order={3} size="h5">
            Directory actions
          </Title>
          <Table striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>When</Table.Th>
                <Table.Th>Contact</Table.Th>
                <Table.Th>Action</Table.Th>
                <Table.Th>Account</Table.Th>
                <Table.Th>By</Table.Th>
                <Table.Th>Result</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {r.actions.map((a) => (
                <Table.Tr key={a.id}>
                  <Table.Td>{when(a.createdAt)}</Table.Td>
                  <Table.Td>{a.contactName}</Table.Td>
                  <Table.Td>{LABEL[a.action]}</Table.Td>
                  <Table.Td>{a.account}</Table.Td>
                  <Table.Td>{a.selfService ? "self-service" : a.requestedBy}</Table.Td>
                  <Table.Td>
                    <Badge
                      color={a.status === "succeeded" ? "green" : a.status === "failed" ? "red" : "blue"}
                    >
                      {a.status}
                    </Badge>{" "}
                    {a.error}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {r.actions.length === 0 && <Text c="dimmed">None.</Text>}
          <Title order={3} size="h5">
            Failed verifications
          </Title>
          <Table striped>
            <Table.Tbody>
              {r.failedVerifications.map((v) => (
                <Table.Tr key={v.id}>
                  <Table.Td>{when(v.createdAt)}</Table.Td>
                  <Table.Td>{v.contactName}</Table.Td>
                  <Table.Td>{v.status}</Table.Td>
                  <Table.Td>{v.reason}</Table.Td>
                  <Table.Td>{v.startedBy}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {r.failedVerifications.length === 0 && <Text c="dimmed">None.</Text>}
          <Anchor href={`/api/v1/clients/${clientId}/identity-report?days=30`} target="_blank" fz="sm">
            As JSON
          </Anchor>
        </Stack>
      )}
    </Modal>
  );
}
