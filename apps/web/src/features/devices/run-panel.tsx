import {
  Alert,
  Button,
  Group,
  NumberInput,
  SegmentedControl,
  Select,
  Stack,
  Text,
  Textarea,
  TextInput,
} from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, fieldErrors, get, isApiError } from "../../api/client.ts";
import { keys } from "../../api/keys.ts";
import type { CommandDto, CommandHistory, CreateCommandRequest, DeviceDetail } from "../../api/types.ts";

type Kind = "script.run" | "service.restart" | "service.list";
type Interpreter = "bash" | "sh" | "powershell" | "cmd";

const INTERPRETERS: Array<{ value: Interpreter; label: string }> = [
  { value: "bash", label: "bash" },
  { value: "sh", label: "sh" },
  { value: "powershell", label: "PowerShell" },
  { value: "cmd", label: "cmd" },
];

/** Ticket numbers are what technicians know; the API links by ticket id. */
async function ticketIdOf(number: string): Promise<string | undefined> {
  const n = number.replace(/^#/, "").trim();
  if (!n) return undefined;
  const t = await get<{ ticket: { id: string } }>(`/tickets/by-number/${encodeURIComponent(n)}`);
  return t.ticket.id;
}

/** Script, service restart or service list; the result lands in the history below, which polls it. */
export function RunPanel({ device, onSent }: { device: DeviceDetail; onSent: (id: string) => void }) {
  const qc = useQueryClient();
  const [kind, setKind] = useState<Kind>("script.run");
  const [interpreter, setInterpreter] = useState<Interpreter>(
    device.platform === "win32" ? "powershell" : "bash",
  );
  const [script, setScript] = useState("");
  const [timeout, setTimeoutSeconds] = useState<number | string>(300);
  const [service, setService] = useState("");
  // Opened from a ticket's device panel: the command is logged on that ticket unless changed.
  const [ticket, setTicket] = useState(() => new URLSearchParams(window.location.search).get("ticket") ?? "");

  const run = useMutation({
    mutationFn: async () => {
      const command: CreateCommandRequest["command"] =
        kind === "script.run"
          ? { kind, interpreter, script, timeoutSeconds: Number(timeout) || 300 }
          : kind === "service.restart"
            ? { kind, name: service.trim() }
            : { kind };
      const ticketId = await ticketIdOf(ticket);
      const body: CreateCommandRequest = { command, ...(ticketId ? { ticketId } : {}) };
      return api<CommandDto>("POST", `/devices/${device.id}/commands`, { body });
    },
    onSuccess: (c) => {
      qc.setQueryData<CommandHistory>(keys.deviceCommands(device.id), (prev) =>
        prev ? { ...prev, items: [c, ...prev.items.filter((x) => x.id !== c.id)] } : prev,
      );
      qc.invalidateQueries({ queryKey: keys.deviceCommands(device.id) });
      onSent(c.id);
    },
  });
  const errs = fieldErrors(run.error);
  const fieldError = (name: string) =>
    Object.entries(errs).find(([k]) => k === `command.${name}` || k.endsWith(`.${name}`))?.[1];

  const submit = (e: FormEvent) => {
    e.preventDefault();
    run.mutate();
  };
  const offline = device.status !== "online";

  return (
    <form onSubmit={submit} aria-label="Run a command">
      <Stack gap="xs" p="sm">
        <SegmentedControl
          size="xs"
          aria-label="Command"
          value={kind}
          onChange={(v) => setKind(v as Kind)}
          data={[
            { value: "script.run", label: "Script" },
            { value: "service.restart", label: "Restart service" },
            { value: "service.list", label: "List services" },
          ]}
        />
        {kind === "script.run" && (
          <>
            <Group gap="xs" grow>
              <Select
                size="xs"
                label="Shell"
                data={INTERPRETERS}
                value={interpreter}
                onChange={(v) => v && setInterpreter(v as Interpreter)}
                allowDeselect={false}
                error={fieldError("interpreter")}
              />
              <NumberInput
                size="xs"
                label="Timeout (seconds)"
                min={1}
                max={86400}
                value={timeout}
                onChange={setTimeoutSeconds}
                error={fieldError("timeoutSeconds")}
              />
            </Group>
            <Textarea
              size="xs"
              label="Script"
              required
              autosize
              minRows={4}
              maxRows={14}
              value={script}
              onChange={(e) => setScript(e.currentTarget.value)}
              styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
              spellCheck={false}
              error={fieldError("script")}
            />
          </>
        )}
        {kind === "service.restart" && (
          <TextInput
            size="xs"
            label="Service name"
            required
            placeholder={device.platform === "win32" ? "Spooler" : "cups"}
            value={service}
            onChange={(e) => setService(e.currentTarget.value)}
            error={fieldError("name")}
          />
        )}
        {run.isError && !Object.keys(errs).length && (
          <Alert color="red" role="alert" p="xs">
            {isApiError(run.error) && run.error.status === 404 && ticket
              ? "That ticket was not found."
              : (run.error as Error).message}
          </Alert>
        )}
        <Group justify="space-between" align="flex-end" wrap="nowrap" gap="sm">
          <TextInput
            size="xs"
            label="On ticket # (optional)"
            title="The command and its result are written on that ticket's timeline"
            value={ticket}
            onChange={(e) => setTicket(e.currentTarget.value)}
            error={errs.ticketId}
            w={150}
          />
          <Text fz="xs" c="dimmed" style={{ flex: 1 }}>
            {offline
              ? "The device is offline: the command waits until it reconnects or expires (10 min)."
              : ""}
          </Text>
          <Button type="submit" size="xs" loading={run.isPending}>
            Run
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
