import {
  Autocomplete,
  Button,
  Group,
  NumberInput,
  Paper,
  Select,
  Stack,
  Text,
  Textarea,
  TextInput,
} from "@mantine/core";
import { useState } from "react";
import { fieldErrors } from "../../api/client.ts";
import { useClients, useSites } from "../../api/hooks.ts";
import { type PolicyDto, useKnownTags, useSavePolicy } from "./api.ts";
import { PolicyTasks } from "./policy-tasks.tsx";
import { UplinkPicker } from "./uplink-picker.tsx";

type Kind =
  | "service"
  | "process"
  | "disk"
  | "cpu"
  | "memory"
  | "ping"
  | "tcp"
  | "http"
  | "script"
  | "reboot"
  | "updates"
  | "log"
  | "backup";
interface Field {
  key: string;
  label: string;
  type: "text" | "number" | "textarea" | "select";
  required?: boolean;
  options?: Array<{ value: string; label: string }>;
}
/** The parameters each kind asks for (the server validates them: CheckConfig in packages/shared). */
const FIELDS: Record<Kind, Field[]> = {
  service: [{ key: "service", label: "Service name", type: "text", required: true }],
  process: [{ key: "process", label: "Process name", type: "text", required: true }],
  disk: [
    { key: "volume", label: "Volume (/ or C:)", type: "text", required: true },
    { key: "minFreePercent", label: "Min free %", type: "number" },
    { key: "minFreeGb", label: "Min free GB", type: "number" },
  ],
  cpu: [
    { key: "maxPercent", label: "Max average %", type: "number", required: true },
    { key: "windowSeconds", label: "Over seconds", type: "number" },
  ],
  memory: [
    { key: "maxPercent", label: "Max average %", type: "number", required: true },
    { key: "windowSeconds", label: "Over seconds", type: "number" },
  ],
  ping: [{ key: "host", label: "Host", type: "text", required: true }],
  tcp: [
    { key: "host", label: "Host", type: "text", required: true },
    { key: "port", label: "Port", type: "number", required: true },
  ],
  http: [
    { key: "url", label: "URL", type: "text", required: true },
    { key: "expectStatus", label: "Expected status", type: "number" },
    { key: "bodyContains", label: "Page contains", type: "text" },
    { key: "minCertDays", label: "Warn when certificate expires within (days)", type: "number" },
  ],
  script: [
    {
      key: "script",
      label: "Script (exit 0 ok, 1 warning, 2 critical; name=number lines are metrics)",
      type: "textarea",
      required: true,
    },
  ],
  reboot: [{ key: "graceHours", label: "Alert when pending longer than (hours)", type: "number" }],
  updates: [
    { key: "maxSecurity", label: "Max missing security updates", type: "number" },
    { key: "maxAgeDays", label: "Max age of a missing security update (days)", type: "number" },
    { key: "maxTotal", label: "Warn above this many missing updates", type: "number" },
  ],
  log: [
    {
      key: "source",
      label: "Log",
      type: "select",
      required: true,
      options: [
        { value: "journal", label: "journald" },
        { value: "file", label: "Text file" },
        { value: "eventlog", label: "Windows event log" },
      ],
    },
    { key: "target", label: "Unit, file path or event log name", type: "text" },
    { key: "contains", label: "Line contains (plain text)", type: "text", required: true },
    { key: "maxMatches", label: "Alert above this many lines", type: "number" },
    { key: "windowMinutes", label: "Within minutes", type: "number" },
  ],
  backup: [
    { key: "path", label: "Backup file, marker or directory", type: "text", required: true },
    { key: "maxAgeHours", label: "Max age (hours)", type: "number", required: true },
  ],
};
const KINDS = Object.keys(FIELDS) as Kind[];

interface Draft {
  key: number;
  /** A check the policy already has: kept (its alerts and history stay) when saved. */
  id?: string;
  kind: Kind;
  name: string;
  values: Record<string, string>;
  intervalSeconds: number;
  severity: string;
  failAfter: number;
  /** What the check tries once when it fires: nothing, a service restart, or a script. */
  remedy: "none" | "restart" | "script";
  restart: string;
  remedyInterpreter: string;
  remedyScript: string;
  /** A ping/TCP/HTTP check watching a site's connection: the site and its client. */
  uplinkClientId: string | null;
  uplinkSiteId: string | null;
}

const NETWORK_KINDS = new Set(["ping", "tcp", "http"]);
const REMEDIES = [
  { value: "none", label: "Nothing" },
  { value: "restart", label: "Restart a service" },
  { value: "script", label: "Run a script" },
];

let seq = 0;
const blank = (): Draft => ({
  key: ++seq,
  kind: "service",
  name: "",
  values: {},
  intervalSeconds: 60,
  severity: "high",
  failAfter: 2,
  remedy: "none",
  restart: "",
  remedyInterpreter: "bash",
  remedyScript: "",
  uplinkClientId: null,
  uplinkSiteId: null,
});

const fromCheck = (c: PolicyDto["checks"][number]): Draft => ({
  key: ++seq,
  id: c.id,
  kind: c.kind as Kind,
  name: c.name,
  values: Object.fromEntries(
    Object.entries(c.config)
      .filter(([k]) => k !== "kind" && k !== "interpreter")
      .map(([k, v]) => [k, String(v)]),
  ),
  intervalSeconds: c.intervalSeconds,
  severity: c.severity,
  failAfter: c.failAfter,
  remedy: c.remediation?.kind === "service.restart" ? "restart" : c.remediation ? "script" : "none",
  restart: c.remediation?.kind === "service.restart" ? c.remediation.name : "",
  remedyInterpreter: c.remediation?.kind === "script.run" ? c.remediation.interpreter : "bash",
  remedyScript: c.remediation?.kind === "script.run" ? c.remediation.script : "",
  uplinkClientId: c.uplink?.clientId ?? null,
  uplinkSiteId: c.uplink?.siteId ?? null,
});

function toCheck(d: Draft) {
  const config: Record<string, unknown> = { kind: d.kind };
  for (const f of FIELDS[d.kind]) {
    const v = d.values[f.key]?.trim();
    if (!v) continue;
    config[f.key] = f.type === "number" ? Number(v) : v;
  }
  if (d.kind === "script") config.interpreter = "bash";
  return {
    ...(d.id ? { id: d.id } : {}),
    name: d.name,
    config,
    intervalSeconds: d.intervalSeconds,
    severity: d.severity,
    failAfter: d.failAfter,
    remediation:
      d.remedy === "restart"
        ? { kind: "service.restart" as const, name: d.restart.trim() }
        : d.remedy === "script"
          ? { kind: "script.run" as const, interpreter: d.remedyInterpreter, script: d.remedyScript }
          : null,
    uplinkSiteId: NETWORK_KINDS.has(d.kind) ? d.uplinkSiteId : null,
  };
}

/**
 * A new policy (its scope: the MSP, a client, one of its sites) or an existing one (`policy`: its scope
 * stays; checks it keeps keep their alerts) and its checks.
 */
export function PolicyForm({ onDone, policy }: { onDone: () => void; policy?: PolicyDto }) {
  const clients = useClients();
  const [clientId, setClientId] = useState<string | null>(policy?.clientId ?? null);
  const [siteId, setSiteId] = useState<string | null>(policy?.siteId ?? null);
  const [tag, setTag] = useState<string>(policy?.tag ?? "");
  const sites = useSites(clientId);
  const known = useKnownTags();
  const [name, setName] = useState(policy?.name ?? "");
  const [checks, setChecks] = useState<Draft[]>(
    policy?.checks.length ? policy.checks.map(fromCheck) : [blank()],
  );
  const save = useSavePolicy();
  const errors = fieldErrors(save.error);
  const set = (key: number, patch: Partial<Draft>) =>
    setChecks((cs) => cs.map((c) => (c.key === key ? { ...c, ...patch } : c)));

  return (
    <Stack gap="md">
      <Stack
        component="form"
        gap="sm"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(
            {
              name,
              clientId,
              siteId: tag.trim() ? null : siteId,
              tag: tag.trim() || null,
              checks: checks.map(toCheck) as never,
              id: policy?.id,
              version: policy?.version,
              enabled: policy?.enabled,
            },
            { onSuccess: onDone },
          );
        }}
      >
        <Group gap="xs" align="flex-end" wrap="wrap">
          <TextInput
            label="Policy name"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={errors.name}
            required
            w={240}
          />
          <Select
            label="Applies to client"
            placeholder="Every client (MSP default)"
            searchable
            clearable
            data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
            value={clientId}
            onChange={(v) => {
              setClientId(v);
              setSiteId(null);
            }}
            error={errors.clientId}
            disabled={!!policy}
            w={240}
          />
          <Select
            label="Site"
            placeholder="Every site"
            clearable
            disabled={!clientId || !!policy || !!tag.trim()}
            data={(sites.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
            value={siteId}
            onChange={setSiteId}
            error={errors.siteId}
            w={200}
          />
          <Autocomplete
            label="Devices tagged"
            placeholder="Any tag"
            description={
              clientId ? "This client's devices with the tag" : "Every client's devices with the tag"
            }
            data={known.data?.items ?? []}
            value={tag}
            onChange={setTag}
            disabled={!!policy || !!siteId}
            error={errors.tag}
            w={220}
          />
        </Group>
        {checks.map((c, i) => (
          <Paper key={c.key} p="xs" withBorder>
            <Stack gap={6}>
              <Group gap="xs" align="flex-end" wrap="wrap">
                <Select
                  label="Check"
                  data={KINDS}
                  value={c.kind}
                  onChange={(v) => set(c.key, { kind: (v as Kind) ?? "service", values: {} })}
                  allowDeselect={false}
                  w={120}
                />
                <TextInput
                  label="Name"
                  value={c.name}
                  onChange={(e) => set(c.key, { name: e.currentTarget.value })}
                  error={errors[`checks.${i}.name`]}
                  required
                  w={220}
                />
                <NumberInput
                  label="Every (s)"
                  value={c.intervalSeconds}
                  min={5}
                  onChange={(v) => set(c.key, { intervalSeconds: Number(v) || 60 })}
                  w={100}
                />
                <Select
                  label="Severity"
                  data={["critical", "high", "medium", "low"]}
                  value={c.severity}
                  onChange={(v) => set(c.key, { severity: v ?? "high" })}
                  allowDeselect={false}
                  w={110}
                />
                <NumberInput
                  label="Alert after failures"
                  value={c.failAfter}
                  min={1}
                  max={100}
                  onChange={(v) => set(c.key, { failAfter: Number(v) || 1 })}
                  w={150}
                />
                <Select
                  label="On alert, try once"
                  data={REMEDIES}
                  value={c.remedy}
                  onChange={(v) => set(c.key, { remedy: (v as Draft["remedy"]) ?? "none" })}
                  allowDeselect={false}
                  w={170}
                />
                {c.remedy === "restart" && (
                  <TextInput
                    label="Service to restart"
                    value={c.restart}
                    onChange={(e) => set(c.key, { restart: e.currentTarget.value })}
                    error={errors[`checks.${i}.remediation.name`]}
                    required
                    w={190}
                  />
                )}
                {c.remedy === "script" && (
                  <Select
                    label="Script language"
                    data={["bash", "sh", "powershell", "cmd"]}
                    value={c.remedyInterpreter}
                    onChange={(v) => set(c.key, { remedyInterpreter: v ?? "bash" })}
                    allowDeselect={false}
                    w={130}
                  />
                )}
                {checks.length > 1 && (
                  <Button
                    size="xs"
                    variant="default"
                    onClick={() => setChecks((cs) => cs.filter((x) => x.key !== c.key))}
                  >
                    Remove
                  </Button>
                )}
              </Group>
              <Group gap="xs" align="flex-end" wrap="wrap">
                {FIELDS[c.kind].map((f) => {
                  const props = {
                    label: f.label,
                    value: c.values[f.key] ?? "",
                    required: f.required,
                    error: errors[`checks.${i}.config.${f.key}`],
                    onChange: (e: { currentTarget: { value: string } }) =>
                      set(c.key, { values: { ...c.values, [f.key]: e.currentTarget.value } }),
                  };
                  if (f.type === "select")
                    return (
                      <Select
                        key={f.key}
                        label={f.label}
                        required={f.required}
                        data={f.options ?? []}
                        value={c.values[f.key] ?? null}
                        error={errors[`checks.${i}.config.${f.key}`]}
                        onChange={(v) => set(c.key, { values: { ...c.values, [f.key]: v ?? "" } })}
                        w={180}
                      />
                    );
                  return f.type === "textarea" ? (
                    <Textarea key={f.key} {...props} autosize minRows={3} w="100%" ff="monospace" />
                  ) : (
                    <TextInput
                      key={f.key}
                      {...props}
                      inputMode={f.type === "number" ? "decimal" : undefined}
                      w={f.key === "url" || f.key === "path" || f.key === "target" ? 340 : 180}
                    />
                  );
                })}
                {c.remedy === "script" && (
                  <Textarea
                    label="Remediation script (runs once on the device when the alert fires)"
                    value={c.remedyScript}
                    onChange={(e) => set(c.key, { remedyScript: e.currentTarget.value })}
                    error={errors[`checks.${i}.remediation.script`]}
                    required
                    autosize
                    minRows={3}
                    w="100%"
                    ff="monospace"
                  />
                )}
                {NETWORK_KINDS.has(c.kind) && (
                  <UplinkPicker
                    clientId={c.uplinkClientId}
                    siteId={c.uplinkSiteId}
                    onChange={(v) => set(c.key, { uplinkClientId: v.clientId, uplinkSiteId: v.siteId })}
                    error={errors[`checks.${i}.uplinkSiteId`]}
                  />
                )}
              </Group>
            </Stack>
          </Paper>
        ))}
        <Group gap="xs">
          <Button size="xs" variant="default" onClick={() => setChecks((cs) => [...cs, blank()])}>
            Add a check
          </Button>
          <Button type="submit" size="xs" loading={save.isPending}>
            Save policy
          </Button>
          <Button size="xs" variant="subtle" onClick={onDone}>
            Cancel
          </Button>
        </Group>
        {save.isError && (
          <Text fz="sm" c="red.8" role="alert">
            {save.error.message}
            {Object.entries(errors).map(([k, v]) => ` · ${k}: ${v}`)}
          </Text>
        )}
      </Stack>
      {/* Outside the policy's form: each task is saved on its own, and forms do not nest. */}
      {policy ? (
        <PolicyTasks policyId={policy.id} />
      ) : (
        <Text fz="xs" c="dimmed">
          Save the policy to add scheduled tasks to it.
        </Text>
      )}
    </Stack>
  );
}
