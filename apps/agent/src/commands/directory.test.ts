import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { seal } from "../../../server/src/lib/server-keys.ts";
import { ldapEscape, modifyLdif, openSealed, parseLdif, powershellScript, unicodePwd } from "./directory.ts";

const base = { kind: "directory.account" as const, mustChange: false, unlock: false, timeoutSeconds: 60 };

describe("directory commands", () => {
  it("escapes LDAP filter values (RFC 4515), so an address cannot widen the search", () => {
    expect(ldapEscape("a*)(uid=*")).toBe("a\\2a\\29\\28uid=\\2a");
    expect(ldapEscape("back\\slash")).toBe("back\\5cslash");
  });

  it("reads ldbsearch output: base64 values, folded lines, and skips referrals", () => {
    const dn = Buffer.from("CN=Zoë Ö,CN=Users,DC=sb,DC=test").toString("base64");
    const records = parseLdif(
      `# record 1\ndn:: ${dn}\nsAMAccountName: zoe\nuserPrincipalName: zoe@sb.te\n st\n\n# Referral\nref: ldap:///CN=Configuration,DC=sb,DC=test\n\n# returned 2 records\n`,
    );
    expect(records).toEqual([
      {
        dn: ["CN=Zoë Ö,CN=Users,DC=sb,DC=test"],
        samaccountname: ["zoe"],
        userprincipalname: ["zoe@sb.test"],
      },
    ]);
  });

  it("writes unicodePwd as AD wants it and only the changes asked for", () => {
    expect(Buffer.from(unicodePwd("Ab1!"), "base64").toString("utf16le")).toBe('"Ab1!"');
    const ldif = modifyLdif(
      "CN=x,DC=t",
      { ...base, system: "samba", action: "reset_password", mustChange: true },
      "Ab1!xyzw",
    );
    expect(ldif).toContain("replace: unicodePwd\nunicodePwd:: ");
    expect(ldif).toContain("replace: pwdLastSet\npwdLastSet: 0");
    expect(ldif).not.toContain("lockoutTime");
    expect(ldif).not.toContain("Ab1!xyzw");
    expect(modifyLdif("CN=x,DC=t", { ...base, system: "samba", action: "unlock" }, null)).toBe(
      `dn:: ${Buffer.from("CN=x,DC=t").toString("base64")}\nchangetype: modify\nreplace: lockoutTime\nlockoutTime: 0\n-\n`,
    );
  });

  it("quotes values in the PowerShell script and never writes the password into it", () => {
    const find = powershellScript({
      ...base,
      system: "active_directory",
      action: "find",
      email: "o'brien@x.test",
    });
    expect(find).toContain("$email = 'o''brien@x.test'");
    expect(find).toContain("Get-ADUser -Filter { mail -eq $email -or UserPrincipalName -eq $email }");
    const reset = powershellScript({
      ...base,
      system: "active_directory",
      action: "reset_password",
      account: "dana",
      unlock: true,
    });
    expect(reset).toContain("$password = [Console]::In.ReadLine()");
    expect(reset).toContain("Unlock-ADAccount -Identity $user");
    expect(reset).not.toContain("ChangePasswordAtLogon");
  });

  it("opens only what was sealed for this command id, with its key", () => {
    const key = randomBytes(32);
    const sealed = seal(key, Buffer.from("Maple-Orbit-1"), "cmd-1");
    expect(openSealed(key.toString("base64"), sealed, "cmd-1")).toBe("Maple-Orbit-1");
    expect(() => openSealed(key.toString("base64"), sealed, "cmd-2")).toThrow();
    expect(() => openSealed(randomBytes(32).toString("base64"), sealed, "cmd-1")).toThrow();
  });
});
