import { Alert, Badge, Button, Group, Stack, Switch, Text } from "@mantine/core";
import type { PortalAccountDto } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, get } from "../../api/client.ts";

/** A contact's portal access on their page: give it, make them a company admin, mail a sign-in link. */
export function PortalAccess({ contactId, canEdit }: { contactId: string; canEdit: boolean }) {
  const qc = useQueryClient();
  const key = ["portal-account", contactId];
  const account = useQuery({
    queryKey: key,
    queryFn: () => get<PortalAccountDto | null>(`/contacts/${contactId}/portal`),
  });
  const put = useMutation({
    mutationFn: (body: { enabled: boolean; companyAdmin: boolean; invite: boolean }) =>
      api<PortalAccountDto>("PUT", `/contacts/${contactId}/portal`, { body }),
    onSuccess: (a) => qc.setQueryData(key, a),
  });
  const a = account.data;
  return (
    <Stack gap="xs">
      {a ? (
        <Group gap="xs">
          <Badge variant="light" color={a.enabled ? "green" : "gray"}>
            {a.enabled ? "Portal access" : "Portal access off"}
          </Badge>
          <Text fz="sm">
            {a.email}
            {a.lastSignInAt
              ? ` · last signed in ${new Date(a.lastSignInAt).toLocaleString()}`
              : " · never signed in"}
          </Text>
        </Group>
      ) : (
        <Text fz="sm">No portal access.</Text>
      )}
      {canEdit && (
        <Group>
          <Switch
            label="Portal access"
            checked={a?.enabled ?? false}
            onChange={(e) =>
              put.mutate({
                enabled: e.currentTarget.checked,
                companyAdmin: a?.companyAdmin ?? false,
                invite: false,
              })
            }
          />
          <Switch
            label="Sees all company tickets"
            checked={a?.companyAdmin ?? false}
            disabled={!a?.enabled}
            onChange={(e) =>
              put.mutate({ enabled: true, companyAdmin: e.currentTarget.checked, invite: false })
            }
          />
          <Button
            size="xs"
            variant="default"
            onClick={() =>
              put.mutate({ enabled: true, companyAdmin: a?.companyAdmin ?? false, invite: true })
            }
          >
            Email a sign-in link
          </Button>
        </Group>
      )}
      {put.isError && <Alert color="red">{put.error.message}</Alert>}
      {put.isSuccess && put.variables?.invite && (
        <Text fz="sm" role="status">
          Sign-in link sent.
        </Text>
      )}
    </Stack>
  );
}
