import { createDecipheriv } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { DirectoryCommand } from "@switchboard/shared";
import { runProcess } from "./process.ts";

/** The line a directory command's JSON result is printed on (the server reads it from stdout). */
export const RESULT_MARKER = "SWITCHBOARD-RESULT ";
const OUTPUT_LIMIT = 256 * 1024;

export interface DirectoryOutcome {
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  error?: string;
}

/** Opens the password sealed by the server (`v1.<nonce>.<tag>.<ciphertext>`, AES-256-GCM, aad = command id). */
export function openSealed(keyB64: string, sealed: string, commandId: string): string {
  const [v, iv, tag, data] = sealed.split(".");
  if (v !== "v1" || !iv || !tag || data === undefined) throw new Error("unreadable sealed password");
  const key = Buffer.from(keyB64, "base64");
  if (key.length !== 32) throw new Error("the password's key is missing or malformed");
  const d = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  d.setAAD(Buffer.from(commandId));
  d.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([d.update(Buffer.from(data, "base64url")), d.final()]).toString("utf8");
}

/** RFC 4515: a value inside an LDAP filter. */
export const ldapEscape = (v: string) =>
  v.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, "0")}`);

/** AD's unicodePwd: the password in double quotes, UTF-16LE, base64 in LDIF. */
export const unicodePwd = (password: string) => Buffer.from(`"${password}"`, "utf16le").toString("base64");

/** PowerShell single-quoted string. */
const psQuote = (v: string) => `'${v.replace(/'/g, "''")}'`;

/**
 * The PowerShell script for the ActiveDirectory module. Values enter as single-quoted literals and
 * filters as script blocks (the module binds the variable: no filter injection); the password is read
 * from stdin, never written into the script.
 */
export function powershellScript(cmd: DirectoryCommand): string {
  const lines = ["$ErrorActionPreference = 'Stop'", "Import-Module ActiveDirectory"];
  if (cmd.action === "find") {
    lines.push(
      `$email = ${psQuote(cmd.email ?? "")}`,
      "$users = @(Get-ADUser -Filter { mail -eq $email -or UserPrincipalName -eq $email } -Properties mail)",
      "$list = @($users | ForEach-Object { @{ samAccountName = $_.SamAccountName; userPrincipalName = $_.UserPrincipalName; dn = $_.DistinguishedName } })",
      `Write-Output ('${RESULT_MARKER}' + (ConvertTo-Json -Compress -Depth 3 -InputObject @{ accounts = $list }))`,
    );
    return `${lines.join("\r\n")}\r\n`;
  }
  lines.push(
    `$account = ${psQuote(cmd.account ?? "")}`,
    "$user = if ($account.Contains('@')) { Get-ADUser -Filter { UserPrincipalName -eq $account } } else { Get-ADUser -Identity $account }",
    'if (-not $user) { throw "no account $account in the directory" }',
  );
  if (cmd.action === "reset_password") {
    lines.push(
      "$password = [Console]::In.ReadLine()",
      "Set-ADAccountPassword -Identity $user -Reset -NewPassword (ConvertTo-SecureString -String $password -AsPlainText -Force)",
      "Remove-Variable password",
    );
    if (cmd.mustChange) lines.push("Set-ADUser -Identity $user -ChangePasswordAtLogon $true");
    if (cmd.unlock) lines.push("Unlock-ADAccount -Identity $user");
  }
  if (cmd.action === "unlock") lines.push("Unlock-ADAccount -Identity $user");
  if (cmd.action === "force_change") lines.push("Set-ADUser -Identity $user -ChangePasswordAtLogon $true");
  lines.push(`Write-Output '${RESULT_MARKER}{"done":true}'`);
  return `${lines.join("\r\n")}\r\n`;
}

/** LDIF records as ldbsearch prints them: `attr: value`, `attr:: base64`, folded lines, `#` comments. */
export function parseLdif(text: string): Array<Record<string, string[]>> {
  const records: Array<Record<string, string[]>> = [];
  for (const block of text.split(/\r?\n\s*\r?\n/)) {
    const unfolded = block.replace(/\r?\n /g, "");
    const rec: Record<string, string[]> = {};
    for (const line of unfolded.split(/\r?\n/)) {
      if (!line || line.startsWith("#")) continue;
      const m = /^([A-Za-z0-9;-]+)(::?)\s?(.*)$/.exec(line);
      if (!m) continue;
      const value = m[2] === "::" ? Buffer.from(m[3]!, "base64").toString("utf8") : m[3]!;
      const key = m[1]!.toLowerCase();
      const list = rec[key] ?? [];
      list.push(value);
      rec[key] = list;
    }
    if (rec.dn) records.push(rec);
  }
  return records;
}

/** The LDIF that ldbmodify applies for a reset, unlock or forced change (fed on stdin). */
export function modifyLdif(dn: string, cmd: DirectoryCommand, password: string | null): string {
  const changes: string[] = [];
  if (password !== null) changes.push(`replace: unicodePwd\nunicodePwd:: ${unicodePwd(password)}`);
  if (cmd.action === "force_change" || (cmd.action === "reset_password" && cmd.mustChange))
    changes.push("replace: pwdLastSet\npwdLastSet: 0");
  if (cmd.action === "unlock" || (cmd.action === "reset_password" && cmd.unlock))
    changes.push("replace: lockoutTime\nlockoutTime: 0");
  return `dn:: ${Buffer.from(dn).toString("base64")}\nchangetype: modify\n${changes.join("\n-\n")}\n-\n`;
}

const samLdb = () => process.env.SWITCHBOARD_AGENT_SAM_LDB ?? "/var/lib/samba/private/sam.ldb";
const collect = () => {
  const out = { stdout: "", stderr: "" };
  let used = 0;
  return {
    out,
    onOutput: (o: { stream: "stdout" | "stderr"; data: string }) => {
      if (used > OUTPUT_LIMIT) return;
      used += o.data.length;
      out[o.stream] += o.data;
    },
  };
};

async function samba(cmd: DirectoryCommand, password: string | null, timeoutMs: number) {
  const attrs = ["sAMAccountName", "userPrincipalName", "mail"];
  const filter =
    cmd.action === "find"
      ? `(&(objectClass=user)(|(mail=${ldapEscape(cmd.email ?? "")})(userPrincipalName=${ldapEscape(cmd.email ?? "")})))`
      : `(&(objectClass=user)(|(sAMAccountName=${ldapEscape(cmd.account ?? "")})(userPrincipalName=${ldapEscape(cmd.account ?? "")})))`;
  const search = collect();
  const found = await runProcess("ldbsearch", ["-H", samLdb(), filter, ...attrs], {
    timeoutMs,
    outputLimitBytes: OUTPUT_LIMIT,
    onOutput: search.onOutput,
  });
  if (found.exitCode !== 0)
    return {
      ...found,
      ...search.out,
      error: found.error ?? lastLine(search.out.stderr) ?? "ldbsearch failed",
    };
  const records = parseLdif(search.out.stdout);
  const accounts = records.map((r) => ({
    samAccountName: r.samaccountname?.[0] ?? null,
    userPrincipalName: r.userprincipalname?.[0] ?? null,
    dn: r.dn![0]!,
  }));
  if (cmd.action === "find")
    return { ...found, stdout: `${RESULT_MARKER}${JSON.stringify({ accounts })}\n`, stderr: "" };
  if (accounts.length !== 1) {
    const why = accounts.length ? `${accounts.length} accounts match` : "no such account";
    return {
      exitCode: 1,
      timedOut: false,
      stdout: "",
      stderr: "",
      error: `${cmd.account}: ${why} in the directory`,
    };
  }
  const modify = collect();
  const r = await runProcess("ldbmodify", ["-H", samLdb()], {
    timeoutMs,
    outputLimitBytes: OUTPUT_LIMIT,
    onOutput: modify.onOutput,
    input: modifyLdif(accounts[0]!.dn, cmd, password),
  });
  if (r.exitCode !== 0)
    return { ...r, ...modify.out, error: r.error ?? lastLine(modify.out.stderr) ?? "ldbmodify failed" };
  return { ...r, stdout: `${modify.out.stdout}${RESULT_MARKER}{"done":true}\n`, stderr: modify.out.stderr };
}

async function activeDirectory(cmd: DirectoryCommand, password: string | null, timeoutMs: number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "switchboard-dir-"));
  try {
    const file = path.join(dir, "directory.ps1");
    writeFileSync(file, powershellScript(cmd), { mode: 0o600 });
    const out = collect();
    const r = await runProcess(
      process.platform === "win32" ? "powershell.exe" : "pwsh",
      ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", file],
      {
        timeoutMs,
        outputLimitBytes: OUTPUT_LIMIT,
        onOutput: out.onOutput,
        cwd: dir,
        input: password === null ? "" : `${password}\n`,
      },
    );
    return {
      ...r,
      ...out.out,
      error: r.exitCode === 0 ? undefined : (r.error ?? lastLine(out.out.stderr) ?? "PowerShell failed"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const lastLine = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1)
    ?.slice(0, 1000);

/**
 * Runs a directory command. The password is opened only here, handed to the tool on stdin, and
 * scrubbed from anything the tool printed before it leaves the machine.
 */
export async function runDirectory(
  cmd: DirectoryCommand,
  commandId: string,
  key: string | undefined,
): Promise<DirectoryOutcome> {
  let password: string | null = null;
  if (cmd.action === "reset_password") {
    if (!cmd.sealedPassword || !key)
      return {
        exitCode: null,
        timedOut: false,
        stdout: "",
        stderr: "",
        error: "the new password did not arrive",
      };
    try {
      password = openSealed(key, cmd.sealedPassword, commandId);
    } catch {
      return {
        exitCode: null,
        timedOut: false,
        stdout: "",
        stderr: "",
        error: "the new password could not be opened",
      };
    }
  }
  const timeoutMs = cmd.timeoutSeconds * 1000;
  const r =
    cmd.system === "samba"
      ? await samba(cmd, password, timeoutMs)
      : await activeDirectory(cmd, password, timeoutMs);
  const scrub = (s: string | undefined) => (s && password ? s.split(password).join("[redacted]") : s);
  return {
    exitCode: r.exitCode,
    timedOut: r.timedOut,
    stdout: scrub(r.stdout) ?? "",
    stderr: scrub(r.stderr) ?? "",
    error: scrub(r.timedOut ? `timed out after ${cmd.timeoutSeconds} s` : r.error),
  };
}
