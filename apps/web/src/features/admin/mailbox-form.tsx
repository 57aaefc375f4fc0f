import {
  Alert,
  Button,
  Checkbox,
  Group,
  Modal,
  NumberInput,
  PasswordInput,
  Select,
  Stack,
  Switch,
  TextInput,
} from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, fieldErrors } from "../../api/client.ts";
import { useClients, useTeams } from "../../api/hooks.ts";
import { TLS_OPTIONS } from "./email-relay.tsx";
import type { MailboxDto } from "./types.ts";
import { FormError } from "./ui.tsx";

export const mailboxesKey = ["admin", "mailboxes"] as const;

function ServerFields(props: {
  kind: "IMAP" | "SMTP";
  host: string;
  setHost: (v: string) => void;
  port: number | string;
  setPort: (v: number | string) => void;
  tls: string;
  setTls: (v: string) => void;
  user: string;
  setUser: (v: string) => void;
  password: string;
  setPassword: (v: string) => void;
  passwordSet: boolean;
  errors: Record<string, string>;
  prefix: string;
}) {
  const e = (f: string) => props.errors[`${props.prefix}.${f}`];
  return (
    <>
      <Group grow align="flex-start">
        <TextInput
          label={`${props.kind} host`}
          required
          value={props.host}
          onChange={(ev) => props.setHost(ev.currentTarget.value)}
          error={e("host")}
        />
        <NumberInput
          label={`${props.kind} port`}
          min={1}
          max={65535}
          allowDecimal={false}
          value={props.port}
          onChange={props.setPort}
          error={e("port")}
        />
        <Select
          label={`${props.kind} security`}
          data={TLS_OPTIONS}
          value={props.tls}
          onChange={(v) => v && props.setTls(v)}
          allowDeselect={false}
        />
      </Group>
      <Group grow align="flex-start">
        <TextInput
          label={`${props.kind} user name`}
          value={props.user}
          onChange={(ev) => props.setUser(ev.currentTarget.value)}
          error={e("user")}
        />
        <PasswordInput
          label={`${props.kind} password`}
          description={props.passwordSet ? "Stored; leave empty to keep it." : undefined}
          value={props.password}
          onChange={(ev) => props.setPassword(ev.currentTarget.value)}
          autoComplete="new-password"
          error={e("password")}
        />
      </Group>
    </>
  );
}

/** Add or edit a mailbox: its IMAP and SMTP servers (passwords write-only) and where its mail goes. */
export function MailboxModal({ mailbox, onClose }: { mailbox: MailboxDto | null; onClose: () => void }) {
  const qc = useQueryClient();
  const clients = useClients();
  const teams = useTeams();
  const [address, setAddress] = useState(mailbox?.address ?? "");
  const [name, setName] = useState(mailbox?.name ?? "");
  const [active, setActive] = useState(mailbox?.active ?? true);
  const [imapOn, setImapOn] = useState(mailbox ? !!mailbox.imap : true);
  const [imapHost, setImapHost] = useState(mailbox?.imap?.host ?? "");
  const [imapPort, setImapPort] = useState<number | string>(mailbox?.imap?.port ?? 993);
  const [imapTls, setImapTls] = useState<string>(mailbox?.imap?.tls ?? "implicit");
  const [imapUser, setImapUser] = useState(mailbox?.imap?.user ?? "");
  const [imapPassword, setImapPassword] = useState("");
  const [folder, setFolder] = useState(mailbox?.imap?.folder ?? "INBOX");
  const [smtpOn, setSmtpOn] = useState(!!mailbox?.smtp);
  const [smtpHost, setSmtpHost] = useState(mailbox?.smtp?.host ?? "");
  const [smtpPort, setSmtpPort] = useState<number | string>(mailbox?.smtp?.port ?? 587);
  const [smtpTls, setSmtpTls] = useState<string>(mailbox?.smtp?.tls ?? "starttls");
  const [smtpUser, setSmtpUser] = useState(mailbox?.smtp?.user ?? "");
  const [smtpPassword, setSmtpPassword] = useState("");
  const [defaultClientId, setDefaultClientId] = useState<string | null>(mailbox?.defaultClientId ?? null);
  const [defaultTeamId, setDefaultTeamId] = useState<string | null>(mailbox?.defaultTeamId ?? null);
  const [review, setReview] = useState(mailbox?.strangerPolicy === "review");
  const [ack, setAck] = useState(mailbox?.sendAcknowledgement ?? true);

  const save = useMutation({
    mutationFn: () => {
      const body = {
        name,
        active,
        imap: imapOn
          ? {
              host: imapHost,
              port: Number(imapPort),
              tls: imapTls,
              user: imapUser || address,
              folder,
              ...(imapPassword ? { password: imapPassword } : {}),
            }
          : null,
        smtp: smtpOn
          ? {
              host: smtpHost,
              port: Number(smtpPort),
              tls: smtpTls,
              user: smtpUser || null,
              ...(smtpPassword ? { password: smtpPassword } : {}),
            }
          : null,
        defaultClientId,
        defaultTeamId,
        strangerPolicy: review ? "review" : "new_ticket",
        sendAcknowledgement: ack,
      };
      return mailbox
        ? api<MailboxDto>("PATCH", `/email/mailboxes/${mailbox.id}`, {
            body: { version: mailbox.version, ...body },
          })
        : api<MailboxDto>("POST", "/email/mailboxes", { body: { address, ...body } });
    },
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: mailboxesKey });
      onClose();
    },
  });
  const remove = useMutation({
    mutationFn: () => api("DELETE", `/email/mailboxes/${mailbox?.id}`),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: mailboxesKey });
      onClose();
    },
  });
  const errs = fieldErrors(save.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const title = mailbox ? `Edit ${mailbox.address}` : "Add a mailbox";
  return (
    <Modal opened onClose={onClose} title={title} size="xl" closeButtonProps={{ "aria-label": "Close" }}>
      <form onSubmit={submit} aria-label={title}>
        <Stack gap="sm">
          <Group grow align="flex-start">
            <TextInput
              label="Address"
              type="email"
              required
              disabled={!!mailbox}
              value={address}
              onChange={(e) => setAddress(e.currentTarget.value)}
              error={errs.address}
            />
            <TextInput
              label="Display name"
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              error={errs.name}
            />
          </Group>
          <Switch
            label="Read mail from this mailbox (IMAP)"
            checked={imapOn}
            onChange={(e) => setImapOn(e.currentTarget.checked)}
          />
          {imapOn && (
            <>
              <ServerFields
                kind="IMAP"
                prefix="imap"
                host={imapHost}
                setHost={setImapHost}
                port={imapPort}
                setPort={setImapPort}
                tls={imapTls}
                setTls={setImapTls}
                user={imapUser}
                setUser={setImapUser}
                password={imapPassword}
                setPassword={setImapPassword}
                passwordSet={!!mailbox?.imapPasswordSet}
                errors={errs}
              />
              <TextInput
                label="Folder"
                value={folder}
                onChange={(e) => setFolder(e.currentTarget.value)}
                error={errs["imap.folder"]}
              />
            </>
          )}
          <Switch
            label="Send replies through this mailbox's own SMTP server"
            description="Off: replies go out through the relay above."
            checked={smtpOn}
            onChange={(e) => setSmtpOn(e.currentTarget.checked)}
          />
          {smtpOn && (
            <ServerFields
              kind="SMTP"
              prefix="smtp"
              host={smtpHost}
              setHost={setSmtpHost}
              port={smtpPort}
              setPort={setSmtpPort}
              tls={smtpTls}
              setTls={setSmtpTls}
              user={smtpUser}
              setUser={setSmtpUser}
              password={smtpPassword}
              setPassword={setSmtpPassword}
              passwordSet={!!mailbox?.smtpPasswordSet}
              errors={errs}
            />
          )}
          <Group grow align="flex-start">
            <Select
              label="Client for senders nobody knows"
              clearable
              clearButtonProps={{ "aria-label": "Clear" }}
              searchable
              data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
              value={defaultClientId}
              onChange={setDefaultClientId}
              error={errs.defaultClientId}
            />
            <Select
              label="Team for new tickets"
              clearable
              clearButtonProps={{ "aria-label": "Clear" }}
              data={(teams.data ?? []).map((t) => ({ value: t.id, label: t.name }))}
              value={defaultTeamId}
              onChange={setDefaultTeamId}
              error={errs.defaultTeamId}
            />
          </Group>
          <Checkbox
            label="Hold mail from unknown senders for review"
            checked={review}
            onChange={(e) => setReview(e.currentTarget.checked)}
          />
          <Checkbox
            label="Acknowledge new tickets by mail"
            checked={ack}
            onChange={(e) => setAck(e.currentTarget.checked)}
          />
          <Checkbox label="Active" checked={active} onChange={(e) => setActive(e.currentTarget.checked)} />
          <FormError error={save.error ?? remove.error} />
          {mailbox && (
            <Alert color="gray" p="xs">
              Passwords are never shown; leave a password empty to keep the stored one.
            </Alert>
          )}
          <Group justify="space-between">
            {mailbox ? (
              <Button
                size="xs"
                color="red.8"
                variant="outline"
                loading={remove.isPending}
                onClick={() => remove.mutate()}
              >
                Remove mailbox
              </Button>
            ) : (
              <span />
            )}
            <Group gap="xs">
              <Button size="xs" variant="default" onClick={onClose}>
                Cancel
              </Button>
              <Button size="xs" type="submit" loading={save.isPending}>
                {mailbox ? "Save" : "Add mailbox"}
              </Button>
            </Group>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
