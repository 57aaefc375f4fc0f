import { Center, Loader } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useEffect } from "react";
import { Route, Switch, useLocation } from "wouter";
import { get, isApiError } from "./api/client.ts";
import { useMe } from "./api/hooks.ts";
import { keys } from "./api/keys.ts";
import { live } from "./api/live.ts";
import type { SetupStatus } from "./api/types.ts";
import { ErrorPage } from "./components/error-page.tsx";
import { Shell } from "./components/shell.tsx";
import { ClientPage, ClientsPage } from "./routes/clients.tsx";
import { ContactPage, ContactsPage } from "./routes/contacts.tsx";
import { EndOfDayPage } from "./routes/end-of-day.tsx";
import { IntakePage } from "./routes/intake.tsx";
import { LoginPage } from "./routes/login.tsx";
import { MyDayPage } from "./routes/my-day.tsx";
import { QueuePage } from "./routes/queue.tsx";
import { SettingsPage } from "./routes/settings.tsx";
import { SetupPage } from "./routes/setup.tsx";
import { TicketPage } from "./routes/ticket.tsx";

// Device pages are a separate chunk: most of a technician's day never opens them.
const DevicesPage = lazy(() => import("./routes/devices.tsx").then((m) => ({ default: m.DevicesPage })));
const DevicePage = lazy(() => import("./routes/devices.tsx").then((m) => ({ default: m.DevicePage })));

// Admin screens and the invitation page: their own chunks, opened rarely.
const admin = () => import("./routes/admin.tsx");
const UsersPage = lazy(() => admin().then((m) => ({ default: m.UsersPage })));
const TeamsPage = lazy(() => admin().then((m) => ({ default: m.TeamsPage })));
const ImportPage = lazy(() => admin().then((m) => ({ default: m.ImportPage })));
const EmailAdminPage = lazy(() => admin().then((m) => ({ default: m.EmailPage })));
const StatusesPage = lazy(() => admin().then((m) => ({ default: m.StatusesPage })));
const AuditPage = lazy(() => admin().then((m) => ({ default: m.AuditPage })));
const AcceptInvitePage = lazy(() =>
  import("./routes/accept-invite.tsx").then((m) => ({ default: m.AcceptInvitePage })),
);

const Loading = () => (
  <Center h="100vh">
    <Loader size="sm" aria-label="Loading" />
  </Center>
);

/** First run shows setup; no session shows login; otherwise the console. */
export function App() {
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

  // An invitation link works signed in or not: it sets a password and signs its owner in.
  if (location.startsWith("/invite/")) {
    return (
      <Suspense fallback={<Loading />}>
        <Route path="/invite/:token" component={AcceptInvitePage} />
      </Suspense>
    );
  }
  if (setup.isPending) return <Loading />;
  if (setup.isError) return <ErrorPage error={setup.error} onRetry={() => setup.refetch()} />;
  if (!setup.data.setUp) return <SetupPage />;
  if (me.isPending) return <Loading />;
  if (me.isError) {
    if (isApiError(me.error) && me.error.status === 401) return <LoginPage mspName={setup.data.mspName} />;
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
          <Route path="/end-of-day" component={EndOfDayPage} />
          <Route path="/settings" component={SettingsPage} />
          <Route path="/admin/users" component={UsersPage} />
          <Route path="/admin/teams" component={TeamsPage} />
          <Route path="/admin/import" component={ImportPage} />
          <Route path="/admin/email" component={EmailAdminPage} />
          <Route path="/admin/statuses" component={StatusesPage} />
          <Route path="/admin/audit" component={AuditPage} />
          <Route>
            <ErrorPage status={404} />
          </Route>
        </Switch>
      </Suspense>
    </Shell>
  );
}
