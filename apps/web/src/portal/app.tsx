import { Anchor, AppShell, Button, Center, Container, Group, Loader, Text, Title } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, Route, Router, Switch, useLocation } from "wouter";
import { AccountPage } from "./account.tsx";
import { call, type Me, PortalError } from "./api.ts";
import { ArticlePage } from "./article.tsx";
import { ApprovePage, SelfServicePage } from "./identity.tsx";
import { RatePage } from "./rate.tsx";
import { SharedPage } from "./shared.tsx";
import { SignInPage } from "./sign-in.tsx";
import { HomePage, NewTicketPage, TicketPage } from "./tickets.tsx";

/** The client portal at /portal: sign-in, rating and share links work without a session; the rest needs one. */
export function PortalApp() {
  return (
    <Router base="/portal">
      <Switch>
        <Route path="/sign-in" component={SignInPage} />
        <Route path="/rate" component={RatePage} />
        <Route path="/shared" component={SharedPage} />
        <Route path="/approve" component={ApprovePage} />
        <Route>
          <SignedIn />
        </Route>
      </Switch>
    </Router>
  );
}

function SignedIn() {
  const me = useQuery({ queryKey: ["me"], queryFn: () => call<Me>("GET", "/portal/me") });
  const [, navigate] = useLocation();
  const qc = useQueryClient();
  if (me.isPending) {
    return (
      <Center h="100vh">
        <Loader size="sm" aria-label="Loading" />
      </Center>
    );
  }
  if (me.isError) {
    if (me.error instanceof PortalError && me.error.status === 401) {
      navigate("/sign-in", { replace: true });
      return null;
    }
    return (
      <Container py="xl">
        <Title order={1}>Something went wrong</Title>
        <Text>{me.error.message}</Text>
        <Button mt="md" onClick={() => me.refetch()}>
          Try again
        </Button>
      </Container>
    );
  }
  const signOut = async () => {
    await call("POST", "/portal/auth/logout");
    qc.clear();
    navigate("/sign-in");
  };
  return (
    <AppShell header={{ height: 56 }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="md">
            <Anchor component={Link} href="/" fw={700} c="inherit" underline="never">
              {me.data.mspName || "Support"} · {me.data.client.name}
            </Anchor>
          </Group>
          <Group gap="xs">
            <Button component={Link} href="/new" size="xs">
              New ticket
            </Button>
            <Button component={Link} href="/reset-password" size="xs" variant="subtle">
              Reset my password
            </Button>
            <Button component={Link} href="/account" size="xs" variant="subtle">
              {me.data.name}
            </Button>
            <Button size="xs" variant="default" onClick={signOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Main>
        <Container size="md" component="main">
          <Switch>
            <Route path="/">
              <HomePage me={me.data} />
            </Route>
            <Route path="/new" component={NewTicketPage} />
            <Route path="/tickets/:id" component={TicketPage} />
            <Route path="/articles/:id" component={ArticlePage} />
            <Route path="/reset-password" component={SelfServicePage} />
            <Route path="/account">
              <AccountPage me={me.data} />
            </Route>
            <Route>
              <Title order={1}>Not found</Title>
            </Route>
          </Switch>
        </Container>
      </AppShell.Main>
    </AppShell>
  );
}
