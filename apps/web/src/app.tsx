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

const DispatchPage = lazy(() => import("./routes/dispatch.tsx").then((m) => ({ default: m.DispatchPage })));
const TimesheetPage = lazy(() =>
  import("./routes/timesheet.tsx").then((m) => ({ default: m.TimesheetPage })),
);
const BillingPage = lazy(() => import("./routes/billing.tsx").then((m) => ({ default: m.BillingPage })));
const ProjectsPage = lazy(() => import("./routes/projects.tsx").then((m) => ({ default: m.ProjectsPage })));
const ProjectPage = lazy(() => import("./routes/projects.tsx").then((m) => ({ default: m.ProjectPage })));
// Pages opened from a client's email, without signing in.
const BookingPage = lazy(() => import("./routes/public-links.tsx").then((m) => ({ default: m.BookingPage })));
const QuotePage = lazy(() => import("./routes/public-links.tsx").then((m) => ({ default: m.QuotePage })));

const Loading = () => (
  <Center h="100vh">
    <Loader size="sm" aria-label="Loading" />
  </Center>
);

/** First run shows setup; no session shows login; otherwise the console. Links from email need neither. */
export function App() {
  const [location] = useLocation();
  if (location.startsWith("/book/") || location.startsWith("/quote/")) {
    return (
      <Suspense fallback={<Loading />}>
        <Switch>
          <Route path="/book/:token" component={BookingPage} />
          <Route path="/quote/:token" component={QuotePage} />
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

  useEffect(() => {
    if (!userId) return;
    live.start(qc, userId);
    return () => live.stop();
  }, [qc, userId]);

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
          <Route path="/dispatch" component={DispatchPage} />
          <Route path="/time" component={TimesheetPage} />
          <Route path="/billing" component={BillingPage} />
          <Route path="/projects" component={ProjectsPage} />
          <Route path="/projects/:id" component={ProjectPage} />
          <Route path="/settings" component={SettingsPage} />
          <Route>
            <ErrorPage status={404} />
          </Route>
        </Switch>
      </Suspense>
    </Shell>
  );
}
