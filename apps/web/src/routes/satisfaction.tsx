import {
  Alert,
  Box,
  Group,
  Paper,
  SegmentedControl,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import type { CsatReportDto } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, get } from "../api/client.ts";
import { useMe } from "../api/hooks.ts";

type Row = {
  id: string | null;
  name: string;
  good: number;
  okay: number;
  bad: number;
  total: number;
  score: number | null;
};

const COLORS = {
  good: "var(--mantine-color-green-8)",
  okay: "var(--mantine-color-yellow-8)",
  bad: "var(--mantine-color-red-8)",
};

/** Stacked bars, one per client or technician: good, okay and bad shares of their ratings. */
function RatingChart({ rows, title }: { rows: Row[]; title: string }) {
  const shown = rows.slice(0, 15);
  const barH = 22;
  const labelW = 180;
  const w = 640;
  return (
    <svg
      role="img"
      aria-label={`${title}: share of good, okay and bad ratings`}
      viewBox={`0 0 ${w} ${shown.length * (barH + 8) + 24}`}
      width="100%"
    >
      {shown.map((r, i) => {
        const y = i * (barH + 8);
        let x = labelW;
        const span = w - labelW - 60;
        return (
          <g key={r.id ?? r.name}>
            <text x={0} y={y + barH * 0.7} fontSize={13} fill="currentColor">
              {r.name.slice(0, 24)}
            </text>
            {(["good", "okay", "bad"] as const).map((k) => {
              const width = r.total ? (r[k] / r.total) * span : 0;
              const rect = <rect key={k} x={x} y={y} width={width} height={barH} fill={COLORS[k]} />;
              x += width;
              return rect;
            })}
            <text x={w - 52} y={y + barH * 0.7} fontSize={13} fill="currentColor">
              {r.score === null ? "–" : `${r.score}%`}
            </text>
          </g>
        );
      })}
      <text x={labelW} y={shown.length * (barH + 8) + 16} fontSize={12} fill="currentColor">
        green: good · yellow: okay · red: bad · right: share of good
      </text>
    </svg>
  );
}

function CountsTable({ rows, label }: { rows: Row[]; label: string }) {
  return (
    <Table>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>{label}</Table.Th>
          <Table.Th ta="right">Good</Table.Th>
          <Table.Th ta="right">Okay</Table.Th>
          <Table.Th ta="right">Bad</Table.Th>
          <Table.Th ta="right">Score</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map((r) => (
          <Table.Tr key={r.id ?? r.name}>
            <Table.Td>{r.name}</Table.Td>
            <Table.Td ta="right">{r.good}</Table.Td>
            <Table.Td ta="right">{r.okay}</Table.Td>
            <Table.Td ta="right">{r.bad}</Table.Td>
            <Table.Td ta="right">{r.score === null ? "–" : `${r.score}%`}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

export function SatisfactionPage() {
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const report = useQuery({
    queryKey: ["csat-report", from, to],
    queryFn: () => get<CsatReportDto>("/reports/csat", { from: from || undefined, to: to || undefined }),
  });
  const r = report.data;
  return (
    <Stack p="md" maw={1000}>
      <Title order={1}>Client satisfaction</Title>
      <Group align="flex-end">
        <TextInput
          type="date"
          label="From"
          value={from || r?.from || ""}
          onChange={(e) => setFrom(e.currentTarget.value)}
        />
        <TextInput
          type="date"
          label="To"
          value={to || r?.to || ""}
          onChange={(e) => setTo(e.currentTarget.value)}
        />
        {r && (
          <Text fz="sm" pb={8}>
            {r.totals.total} ratings · {r.totals.score === null ? "no score yet" : `${r.totals.score}% good`}
          </Text>
        )}
      </Group>
      {report.isError && <Alert color="red">{report.error.message}</Alert>}
      {r && (
        <>
          <Paper p="md" withBorder component="section" aria-labelledby="by-client">
            <Title order={2} size="h3" id="by-client" mb="sm">
              By client
            </Title>
            <RatingChart rows={r.byClient} title="By client" />
            <CountsTable rows={r.byClient} label="Client" />
          </Paper>
          <Paper p="md" withBorder component="section" aria-labelledby="by-tech">
            <Title order={2} size="h3" id="by-tech" mb="sm">
              By technician
            </Title>
            <RatingChart rows={r.byTechnician} title="By technician" />
            <CountsTable rows={r.byTechnician} label="Technician" />
          </Paper>
          <Paper p="md" withBorder component="section" aria-labelledby="recent">
            <Title order={2} size="h3" id="recent" mb="sm">
              Recent ratings
            </Title>
            <Table>
              <Table.Tbody>
                {r.recent.map((x) => (
                  <Table.Tr key={x.ticketId}>
                    <Table.Td>#{x.number}</Table.Td>
                    <Table.Td>{x.subject}</Table.Td>
                    <Table.Td>{x.client}</Table.Td>
                    <Table.Td>{x.rating}</Table.Td>
                    <Table.Td>{x.comment}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Paper>
        </>
      )}
      <BadRatingSetting />
    </Stack>
  );
}

function BadRatingSetting() {
  const me = useMe();
  const qc = useQueryClient();
  const s = useQuery({
    queryKey: ["csat-settings"],
    queryFn: () => get<{ badAction: string; version: number }>("/csat/settings"),
  });
  const save = useMutation({
    mutationFn: (badAction: string) =>
      api("PUT", "/csat/settings", { body: { version: s.data?.version, badAction } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["csat-settings"] }),
  });
  if (!s.data) return null;
  const admin = me.data?.role === "admin" && me.data.allClients;
  return (
    <Box>
      <Text fw={600} id="bad-rating-label">
        When a client rates a ticket bad
      </Text>
      <SegmentedControl
        aria-labelledby="bad-rating-label"
        disabled={!admin || save.isPending}
        value={s.data.badAction}
        onChange={(v) => save.mutate(v)}
        data={[
          { value: "reopen", label: "Reopen the ticket" },
          { value: "alert", label: "Alert the team" },
        ]}
      />
    </Box>
  );
}
