import { Center, Loader } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type ComponentType, lazy, Suspense, useEffect } from "react";
import { Route, Switch, useLocation } from "wouter";
import { get, isApiError } from "./api/client.ts";
import { useMe } from "./api/hooks.ts";
import { keys } from "./api/keys.ts";
import { live } from "./api/live.ts";
import type { SetupStatus } from "./api/types.ts";
import { ErrorPage } from "./components/error-page.tsx";
import { Shell } from "./components/shell.tsx";
import { MyDayPage } from "./routes/my-day.tsx";

// Every page but My day (the first paint) is its own chunk, loaded when its route is first opened.
// One line per page: `lazyPage(() => import("./routes/x.tsx"), "XPage")`.
function lazyPage<K extends string, P extends object>(
  load: () => Promise<Record<K, ComponentType<P>>>,
  name: K,
) {
  return lazy(() => load().then((m) => ({ default: m[name] })));
}
const ClientsPage = lazyPage(() => import("./routes/clients.tsx"), "ClientsPage");
const ClientPage = lazyPage(() => import("./routes/clients.tsx"), "ClientPage");
const ContactsPage = lazyPage(() => import("./routes/contacts.tsx"), "ContactsPage");
const ContactPage = lazyPage(() => import("./routes/contacts.tsx"), "ContactPage");
const EndOfDayPage = lazyPage(() => import("./routes/end-of-day.tsx"), "EndOfDayPage");
const IntakePage = lazyPage(() => import("./routes/intake.tsx"), "IntakePage");
const LoginPage = lazyPage(() => import("./routes/login.tsx"), "LoginPage");
const QueuePage = lazyPage(() => import("./routes/queue.tsx"), "QueuePage");
const SettingsPage = lazyPage(() => import("./routes/settings.tsx"), "SettingsPage");
const SetupPage = lazyPage(() => import("./routes/setup.tsx"), "SetupPage");
const TicketPage = lazyPage(() => import("./routes/ticket.tsx"), "TicketPage");
const DevicesPage = lazyPage(() => import("./routes/devices.tsx"), "DevicesPage");
const DevicePage = lazyPage(() => import("./routes/devices.tsx"), "DevicePage");
// Admin screens.
const UsersPage = lazyPage(() => import("./routes/admin.tsx"), "UsersPage");
const TeamsPage = lazyPage(() => import("./routes/admin.tsx"), "TeamsPage");
const ImportPage = lazyPage(() => import("./routes/admin.tsx"), "ImportPage");
const EmailAdminPage = lazyPage(() => import("./routes/admin.tsx"), "EmailPage");
const StatusesPage = lazyPage(() => import("./routes/admin.tsx"), "StatusesPage");
const AuditPage = lazyPage(() => import("./routes/admin.tsx"), "AuditPage");
// Pages opened from a link in an email, signed in or not.
const AcceptInvitePage = lazyPage(() => import("./routes/accept-invite.tsx"), "AcceptInvitePage");
// The MSP's memory and the client's voice: knowledge base, documentation, vault, satisfaction.
const KnowledgeBasePage = lazyPage(() => import("./routes/knowledge-base.tsx"), "KnowledgeBasePage");
const KbArticlePage = lazyPage(() => import("./routes/knowledge-base.tsx"), "KbArticlePage");
const DocumentsPage = lazyPage(() => import("./routes/documents.tsx"), "DocumentsPage");
const DocumentPage = lazyPage(() => import("./routes/documents.tsx"), "DocumentPage");
const NewDocumentPage = lazyPage(() => import("./routes/documents.tsx"), "NewDocumentPage");
const VaultPage = lazyPage(() => import("./routes/vault.tsx"), "VaultPage");
const SatisfactionPage = lazyPage(() => import("./routes/satisfaction.tsx"), "SatisfactionPage");

// Time, scheduling, billing and projects; and the pages a client opens from an email.
const DispatchPage = lazyPage(() => import("./routes/dispatch.tsx"), "DispatchPage");
const TimesheetPage = lazyPage(() => import("./routes/timesheet.tsx"), "TimesheetPage");
const BillingPage = lazyPage(() => import("./routes/billing.tsx"), "BillingPage");
const ProjectsPage = lazyPage(() => import("./routes/projects.tsx"), "ProjectsPage");
const ProjectPage = lazyPage(() => import("./routes/projects.tsx"), "ProjectPage");
const BookingPage = lazyPage(() => import("./routes/public-links.tsx"), "BookingPage");
const QuotePage = lazyPage(() => import("./routes/public-links.tsx"), "QuotePage");
// Remote access: the terminal (xterm.js), the attended session, and the callers' public /join page.
const ShellPage = lazyPage(() => import("./routes/shell.tsx"), "ShellPage");
const SupportSessionPage = lazyPage(() => import("./routes/support-session.tsx"), "SupportSessionPage");
const JoinPage = lazyPage(() => import("./routes/join.tsx"), "JoinPage");
// SLA and on-call; the page link's acknowledgement page needs no session.
const OnCallPage = lazyPage(() => import("./routes/sla.tsx"), "OnCallPage");
const SlaAdminPage = lazyPage(() => import("./routes/sla.tsx"), "SlaAdminPage");
const PageAckPage = lazyPage(() => import("./routes/sla.tsx"), "PageAckPage");
const AlertsPage = lazyPage(() => import("./routes/alerts.tsx"), "AlertsPage");
const MonitoringPoliciesPage = lazyPage(
  () => import("./routes/monitoring-policies.tsx"),
  "MonitoringPoliciesPage",
);

const Loading = () => (
  <Center h="100vh">
    <Loader size="sm" aria-label="Loading" />
  </Center>
);

/** Pages opened from a link in an email: they need neither setup nor a session. */
const LINK_PAGES = ["/invite/", "/book/", "/quote/", "/page-ack"];

/** First run shows setup; no session shows login; otherwise the console. Links from email need neither. */
export function App() {
  const [location] = useLocation();
  if (LINK_PAGES.some((p) => location.startsWith(p))) {
    return (
      <Suspense fallback={<Loading />}>
        <Switch>
          <Route path="/invite/:token" component={AcceptInvitePage} />
          <Route path="/book/:token" component={BookingPage} />
          <Route path="/quote/:token" component={QuotePage} />
          <Route path="/page-ack" component={PageAckPage} />
        </Switch>
      </Suspense>
    );
  }
  return <Console />;
}

function Console() {
  const setup = useQuery({
    queryKey: keys.setup,
    queryFn: () => get<SetupStatus>("/setup"),
    staleTime: Infinity,
  });
  const me = useMe();
  const qc = useQueryClient();
  const userId = me.data?.id;
  const [location] = useLocation();

  useEffect(() => {
    if (!userId) return;
    live.start(qc, userId);
    return () => live.stop();
  }, [qc, userId]);

  if (setup.isPending) return <Loading />;
  if (setup.isError) return <ErrorPage error={setup.error} onRetry={() => setup.refetch()} />;
  if (!setup.data.setUp) {
    return (
      <Suspense fallback={<Loading />}>
        <SetupPage />
      </Suspense>
    );
  }
  // The callers' page needs no sign-in (and shows nothing of the console).
  if (location === "/join" || location.startsWith("/join/")) {
    return (
      <Suspense fallback={<Loading />}>
        <JoinPage mspName={setup.data.mspName ?? "Remote support"} />
      </Suspense>
    );
  }
  if (me.isPending) return <Loading />;
  if (me.isError) {
    if (isApiError(me.error) && me.error.status === 401) {
      return (
        <Suspense fallback={<Loading />}>
          <LoginPage mspName={setup.data.mspName} />
        </Suspense>
      );
    }
    return <ErrorPage error={me.error} onRetry={() => me.refetch()} />;
  }
  return (
    <Shell me={me.data}>
      <Suspense fallback={<Loader size="sm" m="md" aria-label="Loading" />}>
        <Switch>
          <Route path="/" component={MyDayPage} />
          <Route path="/queues/:queue" component={QueuePage} />
          <Route path="/tickets/:number" component={TicketPage} />
          <Route path="/intake" component={IntakePage} />
          <Route path="/clients" component={ClientsPage} />
          <Route path="/clients/:id" component={ClientPage} />
          <Route path="/contacts" component={ContactsPage} />
          <Route path="/contacts/:id" component={ContactPage} />
          <Route path="/devices" component={DevicesPage} />
          <Route path="/devices/:id" component={DevicePage} />
          <Route path="/alerts" component={AlertsPage} />
          <Route path="/monitoring/policies" component={MonitoringPoliciesPage} />
          <Route path="/kb" component={KnowledgeBasePage} />
          <Route path="/kb/:id" component={KbArticlePage} />
          <Route path="/documents" component={DocumentsPage} />
          <Route path="/documents/new" component={NewDocumentPage} />
          <Route path="/documents/:id" component={DocumentPage} />
          <Route path="/vault" component={VaultPage} />
          <Route path="/reports/satisfaction" component={SatisfactionPage} />
          <Route path="/devices/:id/shell" component={ShellPage} />
          <Route path="/support-sessions/:id" component={SupportSessionPage} />
          <Route path="/end-of-day" component={EndOfDayPage} />
          <Route path="/dispatch" component={DispatchPage} />
          <Route path="/time" component={TimesheetPage} />
          <Route path="/billing" component={BillingPage} />
          <Route path="/projects" component={ProjectsPage} />
          <Route path="/projects/:id" component={ProjectPage} />
          <Route path="/settings" component={SettingsPage} />
          <Route path="/admin/users" component={UsersPage} />
          <Route path="/admin/teams" component={TeamsPage} />
          <Route path="/admin/import" component={ImportPage} />
          <Route path="/admin/email" component={EmailAdminPage} />
          <Route path="/admin/statuses" component={StatusesPage} />
          <Route path="/admin/audit" component={AuditPage} />
          <Route path="/oncall" component={OnCallPage} />
          <Route path="/admin/sla" component={SlaAdminPage} />
          <Route>
            <ErrorPage status={404} />
          </Route>
        </Switch>
      </Suspense>
    </Shell>
  );
}
