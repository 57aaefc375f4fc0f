import { Center, Loader } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useEffect } from "react";
import { Route, Switch } from "wouter";
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
// The MSP's memory and the client's voice: knowledge base, documentation, vault, satisfaction.
const KnowledgeBasePage = lazy(() =>
  import("./routes/knowledge-base.tsx").then((m) => ({ default: m.KnowledgeBasePage })),
);
const KbArticlePage = lazy(() =>
  import("./routes/knowledge-base.tsx").then((m) => ({ default: m.KbArticlePage })),
);
const DocumentsPage = lazy(() =>
  import("./routes/documents.tsx").then((m) => ({ default: m.DocumentsPage })),
);
const DocumentPage = lazy(() => import("./routes/documents.tsx").then((m) => ({ default: m.DocumentPage })));
const NewDocumentPage = lazy(() =>
  import("./routes/documents.tsx").then((m) => ({ default: m.NewDocumentPage })),
);
const VaultPage = lazy(() => import("./routes/vault.tsx").then((m) => ({ default: m.VaultPage })));
const SatisfactionPage = lazy(() =>
  import("./routes/satisfaction.tsx").then((m) => ({ default: m.SatisfactionPage })),
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
          <Route path="/kb" component={KnowledgeBasePage} />
          <Route path="/kb/:id" component={KbArticlePage} />
          <Route path="/documents" component={DocumentsPage} />
          <Route path="/documents/new" component={NewDocumentPage} />
          <Route path="/documents/:id" component={DocumentPage} />
          <Route path="/vault" component={VaultPage} />
          <Route path="/reports/satisfaction" component={SatisfactionPage} />
          <Route path="/end-of-day" component={EndOfDayPage} />
          <Route path="/settings" component={SettingsPage} />
          <Route>
            <ErrorPage status={404} />
          </Route>
        </Switch>
      </Suspense>
    </Shell>
  );
}
