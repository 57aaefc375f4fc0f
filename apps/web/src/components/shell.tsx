import {
  ActionIcon,
  AppShell,
  Avatar,
  Badge,
  Box,
  Burger,
  Group,
  Kbd,
  Menu,
  NavLink,
  ScrollArea,
  Text,
  Tooltip,
  UnstyledButton,
  useComputedColorScheme,
  useMantineColorScheme,
  VisuallyHidden,
} from "@mantine/core";
import { useDisclosure, useHotkeys } from "@mantine/hooks";
import { lazy, type ReactNode, Suspense } from "react";
import { Link, useLocation } from "wouter";
import { api } from "../api/client.ts";
import { useLiveState } from "../api/live.ts";
import type { MeDto } from "../api/types.ts";
import { TimerIndicator } from "../features/time/timer.tsx";

// Loaded the first time they are opened: the first paint does not need them.
const SearchModal = lazy(() => import("./search.tsx").then((m) => ({ default: m.SearchModal })));
const ShortcutsModal = lazy(() => import("./shortcuts.tsx").then((m) => ({ default: m.ShortcutsModal })));

/** `roles`: shown only to these roles (the server refuses the others anyway). */
const NAV: Array<{ href: string; label: string; section?: string; roles?: string[] }> = [
  { href: "/", label: "My day" },
  { href: "/intake", label: "Phone intake" },
  { href: "/queues/mine", label: "Mine", section: "Queues" },
  { href: "/queues/team", label: "My teams" },
  { href: "/queues/unassigned", label: "Unassigned" },
  { href: "/queues/waiting", label: "Waiting" },
  { href: "/queues/follow_ups", label: "Follow-ups due" },
  { href: "/queues/all", label: "All open" },
  { href: "/clients", label: "Clients", section: "Directory" },
  { href: "/contacts", label: "Contacts" },
  { href: "/devices", label: "Devices" },
  { href: "/alerts", label: "Alerts" },
  { href: "/monitoring/policies", label: "Monitoring policies" },
  { href: "/kb", label: "Knowledge base", section: "Knowledge" },
  { href: "/documents", label: "Documentation" },
  { href: "/vault", label: "Password vault" },
  { href: "/reports/satisfaction", label: "Satisfaction" },
  { href: "/dispatch", label: "Dispatch", section: "Time and billing" },
  { href: "/time", label: "Timesheet" },
  { href: "/projects", label: "Projects" },
  { href: "/billing", label: "Billing", roles: ["admin", "dispatcher"] },
  { href: "/end-of-day", label: "End of day", section: "Wrap-up" },
  { href: "/oncall", label: "On call" },
];

const initials = (name: string) =>
  name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]?.toUpperCase())
    .join("");

/** Shown to admins only (the server enforces it too); MSP-wide settings only to those who see every client. */
const adminNav = (me: MeDto): Array<{ href: string; label: string; section?: string; roles?: string[] }> =>
  me.role !== "admin"
    ? []
    : me.allClients
      ? [
          { href: "/admin/users", label: "Users", section: "Admin" },
          { href: "/admin/teams", label: "Teams" },
          { href: "/admin/import", label: "Import" },
          { href: "/admin/email", label: "Email" },
          { href: "/admin/statuses", label: "Statuses" },
          { href: "/admin/sla", label: "SLA" },
          { href: "/admin/audit", label: "Audit log" },
        ]
      : [{ href: "/admin/audit", label: "Audit log", section: "Admin" }];

function LiveIndicator() {
  const state = useLiveState();
  const label = state === "live" ? "Live" : state === "connecting" ? "Connecting" : "Reconnecting";
  return (
    <Tooltip label={state === "live" ? "Changes appear as they happen" : "Live updates paused; retrying"}>
      <Badge
        variant="dot"
        color={state === "live" ? "teal" : "orange"}
        size="sm"
        role="status"
        aria-label={label}
        data-testid="live-state"
        style={{ flexShrink: 0 }}
      >
        {/* On a phone the dot alone says it; the word needs room the search box uses better. */}
        <Box component="span" visibleFrom="sm">
          {label}
        </Box>
      </Badge>
    </Tooltip>
  );
}

function ThemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const computed = useComputedColorScheme("light");
  const next = computed === "dark" ? "light" : "dark";
  return (
    <Tooltip label={`Switch to ${next} theme`}>
      <ActionIcon
        variant="subtle"
        color="gray"
        onClick={() => setColorScheme(next)}
        aria-label={`Switch to ${next} theme`}
      >
        <span aria-hidden>{computed === "dark" ? "☀" : "☾"}</span>
      </ActionIcon>
    </Tooltip>
  );
}

export function Shell({ me, children }: { me: MeDto; children: ReactNode }) {
  const [navOpen, nav] = useDisclosure(false);
  const [searchOpen, search] = useDisclosure(false);
  const [helpOpen, help] = useDisclosure(false);
  const [location, navigate] = useLocation();
  const liveState = useLiveState();

  useHotkeys([
    ["mod+K", () => search.open()],
    ["/", () => search.open()],
    ["shift+?", () => help.toggle()],
    ["i", () => navigate("/intake")],
  ]);

  // A full load after signing out drops every cached record and the live stream in one go.
  const logout = async () => {
    await api("POST", "/auth/logout").catch(() => {});
    window.location.assign("/");
  };

  return (
    <AppShell
      header={{ height: 48 }}
      navbar={{ width: 208, breakpoint: "md", collapsed: { mobile: !navOpen } }}
      padding={0}
    >
      <AppShell.Header px="sm">
        <Group h="100%" justify="space-between" wrap="nowrap" gap="xs">
          <Group gap="sm" wrap="nowrap" style={{ flexShrink: 0 }}>
            <Burger
              opened={navOpen}
              onClick={nav.toggle}
              hiddenFrom="md"
              size="sm"
              aria-label="Toggle navigation"
            />
            <Text fw={700} fz="sm" component={Link} href="/" c="inherit" style={{ textDecoration: "none" }}>
              Switchboard
            </Text>
            <Text c="dimmed" fz="xs" visibleFrom="md">
              {me.mspName}
            </Text>
          </Group>
          <UnstyledButton
            onClick={search.open}
            aria-keyshortcuts="Control+K /"
            px="sm"
            py={5}
            w={{ base: "auto", sm: 360 }}
            style={{
              flex: "1 1 auto",
              minWidth: 0,
              maxWidth: 360,
              border: "1px solid var(--mantine-color-default-border)",
              borderRadius: 6,
              color: "var(--mantine-color-dimmed)",
              fontSize: 13,
            }}
          >
            <Group justify="space-between" wrap="nowrap">
              <span>Search…</span>
              <Group gap={3} visibleFrom="sm">
                <Kbd size="xs">Ctrl</Kbd>
                <Kbd size="xs">K</Kbd>
              </Group>
            </Group>
          </UnstyledButton>
          <Group gap="xs" wrap="nowrap" style={{ flexShrink: 0 }}>
            <TimerIndicator />
            <LiveIndicator />
            <ThemeToggle />
            <Tooltip label="Keyboard shortcuts (?)">
              <ActionIcon
                variant="subtle"
                color="gray"
                onClick={help.open}
                aria-label="Keyboard shortcuts"
                visibleFrom="sm"
              >
                <span aria-hidden>?</span>
              </ActionIcon>
            </Tooltip>
            <Menu position="bottom-end" withinPortal>
              <Menu.Target>
                <UnstyledButton fz="sm" px={6} style={{ whiteSpace: "nowrap" }}>
                  <VisuallyHidden>Account: </VisuallyHidden>
                  <Box component="span" visibleFrom="sm">
                    {me.name}
                  </Box>
                  {/* A phone shows initials: the full name would wrap the header. */}
                  <Box component="span" hiddenFrom="sm">
                    <VisuallyHidden>{me.name}</VisuallyHidden>
                    <Avatar component="span" size={28} radius="xl" color="indigo" aria-hidden>
                      {initials(me.name)}
                    </Avatar>
                  </Box>
                </UnstyledButton>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>
                  {me.email} · {me.role}
                </Menu.Label>
                <Menu.Item component={Link} href="/settings">
                  Settings
                </Menu.Item>
                <Menu.Item onClick={logout}>Sign out</Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p={6} className="sb-nav">
        <AppShell.Section grow component={ScrollArea}>
          <nav aria-label="Main">
            {[...NAV, ...adminNav(me)]
              .filter((n) => !n.roles || n.roles.includes(me.role))
              .map((n) => (
                <div key={n.href}>
                  {n.section && (
                    <Text fz={11} fw={600} c="dimmed" tt="uppercase" px={10} pt={10} pb={2}>
                      {n.section}
                    </Text>
                  )}
                  <NavLink
                    component={Link}
                    href={n.href}
                    label={n.label}
                    active={n.href === "/" ? location === "/" : location.startsWith(n.href)}
                    onClick={nav.close}
                    py={5}
                    style={{ borderRadius: 4 }}
                  />
                </div>
              ))}
          </nav>
        </AppShell.Section>
        <AppShell.Section>
          <Text fz={11} c="dimmed" px={10} py={6}>
            Press <Kbd size="xs">?</Kbd> for shortcuts
          </Text>
        </AppShell.Section>
      </AppShell.Navbar>
      <AppShell.Main>
        {liveState === "reconnecting" && (
          <div
            role="status"
            data-testid="connection-banner"
            style={{
              background: "var(--mantine-color-orange-light)",
              color: "var(--mantine-color-orange-light-color)",
              padding: "4px 12px",
              fontSize: 13,
            }}
          >
            Connection lost. Reconnecting… Your drafts are safe in this browser.
          </div>
        )}
        <main>{children}</main>
      </AppShell.Main>
      <Suspense fallback={null}>
        {searchOpen && <SearchModal opened={searchOpen} onClose={search.close} />}
        {helpOpen && <ShortcutsModal opened={helpOpen} onClose={help.close} />}
      </Suspense>
    </AppShell>
  );
}
