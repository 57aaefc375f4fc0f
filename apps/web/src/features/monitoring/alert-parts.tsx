import { Alert, Anchor, Badge, Button, Group, Menu, Text, Tooltip } from "@mantine/core";
import { Link } from "wouter";
import { PriorityBadge } from "../../components/badges.tsx";
import { age, dateTime } from "../../components/format.ts";
import { type AlertDto, useAlertAction } from "./api.ts";

// Filled colours dark enough for white text at 4.5:1.
const SEVERITY_COLORS: Record<string, string> = {
  critical: "red.9",
  high: "orange.9",
  medium: "blue.8",
  low: "gray.7",
};
// Light badges (as the ticket status badges): the theme's text shade on a pale background.
const STATE_COLORS: Record<string, string> = { firing: "red", pending: "yellow", resolved: "green" };
export const CHECK_STATE_COLORS: Record<string, string> = {
  ok: "green",
  warning: "yellow",
  critical: "red",
  unknown: "gray",
};

export function SeverityBadge({ severity }: { severity: string }) {
  return (
    <Badge
      color={SEVERITY_COLORS[severity]}
      // White on the darkest orange is 4.3:1; black on it is 4.9:1.
      c={severity === "high" ? "black" : undefined}
      variant="filled"
      size="sm"
      aria-label={`Severity ${severity}`}
    >
      {severity}
    </Badge>
  );
}

export function AlertStateBadge({ alert }: { alert: AlertDto }) {
  const label = alert.state === "firing" && alert.acknowledgedAt ? "acknowledged" : alert.state;
  return (
    <Tooltip
      label={
        alert.acknowledgedAt
          ? `Acknowledged by ${alert.acknowledgedBy ?? "someone"} ${dateTime(alert.acknowledgedAt)}`
          : alert.resolvedAt
            ? `Resolved ${dateTime(alert.resolvedAt)} (${alert.resolution ?? ""})`
            : `Failing since ${dateTime(alert.firstFailedAt)}`
      }
    >
      <Badge
        color={STATE_COLORS[alert.state]}
        variant="light"
        size="sm"
        style={{ flexShrink: 0, overflow: "visible" }}
        styles={{ label: { overflow: "visible" } }}
      >
        {label}
      </Badge>
    </Tooltip>
  );
}

export function AlertTicketLink({ alert }: { alert: AlertDto }) {
  if (!alert.ticket)
    return (
      <Text fz="xs" c="dimmed">
        {alert.incidentId ? "site incident" : "no ticket"}
      </Text>
    );
  return (
    <Group gap={4} wrap="nowrap">
      <PriorityBadge priority={alert.ticket.priority} />
      <Anchor component={Link} href={`/tickets/${alert.ticket.number}`} fz="sm">
        #{alert.ticket.number}
      </Anchor>
    </Group>
  );
}

/**
 * What happened to the last remediation sent from this alert (a service restart or the check's script):
 * failures say why and offer a retry of the same thing.
 */
export function RemediationStatus({ alert }: { alert: AlertDto }) {
  const act = useAlertAction(alert);
  const r = alert.remediation;
  if (!r) return null;
  const failed = ["failed", "timed_out", "refused", "expired"].includes(r.status);
  const script = r.kind === "script.run";
  const label = script ? "Remediation script" : "Restart";
  if (!failed)
    return (
      <Text fz="xs" c="dimmed">
        {label}: {r.status.replace("_", " ")}
        {r.exitCode !== null ? ` (exit ${r.exitCode})` : ""}
      </Text>
    );
  return (
    <Alert color="red" p={4} role="alert">
      <Group gap="xs" wrap="nowrap">
        <Text fz="xs">
          {label} {r.status.replace("_", " ")}
          {r.exitCode !== null ? ` (exit ${r.exitCode})` : ""}
          {r.error ? `: ${r.error}` : ""}
        </Text>
        <Button
          size="compact-xs"
          variant="default"
          loading={act.isPending}
          onClick={() => act.mutate({ action: script ? "remediate" : "restart-service" })}
        >
          Retry
        </Button>
      </Group>
    </Alert>
  );
}

/** Acknowledge, snooze, resolve, restart the service: the actions a technician takes from an alert. */
export function AlertActions({ alert, canWrite }: { alert: AlertDto; canWrite: boolean }) {
  const act = useAlertAction(alert);
  if (!canWrite || alert.state === "resolved") return null;
  return (
    <Group gap={4} wrap="nowrap">
      {!alert.acknowledgedAt && (
        <Button
          size="compact-xs"
          variant="default"
          loading={act.isPending}
          onClick={() => act.mutate({ action: "acknowledge" })}
        >
          Acknowledge
        </Button>
      )}
      {alert.service && (
        <Button
          size="compact-xs"
          variant="default"
          loading={act.isPending}
          onClick={() => act.mutate({ action: "restart-service" })}
          aria-label={`Restart ${alert.service} on ${alert.hostname}`}
        >
          Restart {alert.service}
        </Button>
      )}
      <Menu position="bottom-end">
        <Menu.Target>
          <Button size="compact-xs" variant="default" aria-label={`More actions on alert ${alert.number}`}>
            …
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          <Menu.Item onClick={() => act.mutate({ action: "snooze", minutes: 60 })}>Snooze 1 hour</Menu.Item>
          <Menu.Item onClick={() => act.mutate({ action: "snooze", minutes: 24 * 60 })}>
            Snooze 1 day
          </Menu.Item>
          <Menu.Item onClick={() => act.mutate({ action: "resolve" })}>Resolve</Menu.Item>
        </Menu.Dropdown>
      </Menu>
      {act.isError && (
        <Text fz="xs" c="red.8" role="alert">
          {act.error.message}
        </Text>
      )}
    </Group>
  );
}

export const alertAge = (a: AlertDto) => age(a.firstFailedAt);
