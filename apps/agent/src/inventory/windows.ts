import os from "node:os";
import type { Inventory } from "@switchboard/shared";
import { clip, cpu, network, tryRun } from "./common.ts";

async function ps<T>(script: string, timeoutMs = 120_000): Promise<T | null> {
  const out = await tryRun(
    "powershell.exe",
    ["-NoProfile", "-NonInteractive", "-Command", script],
    timeoutMs,
  );
  if (!out?.trim()) return null;
  try {
    return JSON.parse(out) as T;
  } catch {
    return null;
  }
}
const list = <T>(v: T | T[] | null): T[] => (v === null ? [] : Array.isArray(v) ? v : [v]);

export async function collectWindows(): Promise<Inventory> {
  type Row = Record<string, string | number | null>;
  const [osInfo, system, disks, sw, user, upd] = await Promise.all([
    ps<Row>(
      "Get-CimInstance Win32_OperatingSystem | Select-Object Caption,Version | ConvertTo-Json -Compress",
    ),
    ps<Row>(
      "$c=Get-CimInstance Win32_ComputerSystem; $b=Get-CimInstance Win32_BIOS; " +
        "[pscustomobject]@{m=$c.Manufacturer;n=$c.Model;s=$b.SerialNumber} | ConvertTo-Json -Compress",
    ),
    ps<Row | Row[]>(
      "Get-CimInstance Win32_LogicalDisk -Filter 'DriveType=3' | Select-Object DeviceID,FileSystem,Size,FreeSpace | ConvertTo-Json -Compress",
    ),
    ps<Row | Row[]>(
      "Get-ItemProperty 'HKLM:\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*','HKLM:\\Software\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*' " +
        "| Where-Object DisplayName | Select-Object DisplayName,DisplayVersion,Publisher | ConvertTo-Json -Compress",
    ),
    ps<Row>("Get-CimInstance Win32_ComputerSystem | Select-Object UserName | ConvertTo-Json -Compress"),
    ps<Row | Row[]>(
      "$s=(New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher(); " +
        "@($s.Search('IsInstalled=0 and IsHidden=0').Updates | Select-Object Title) | ConvertTo-Json -Compress",
      300_000,
    ),
  ]);
  const updates = upd === null ? null : list(upd);
  return {
    hostname: clip(os.hostname(), 255),
    os: {
      platform: "win32",
      name: clip(String(osInfo?.Caption ?? "Windows")),
      version: clip(String(osInfo?.Version ?? os.release())),
      kernel: os.release(),
      arch: process.arch,
    },
    hardware: {
      manufacturer: clip(String(system?.m ?? "")) || undefined,
      model: clip(String(system?.n ?? "")) || undefined,
      serial: clip(String(system?.s ?? "")) || undefined,
    },
    cpu: cpu(),
    memory: { totalBytes: os.totalmem(), freeBytes: os.freemem() },
    disks: list(disks).map((d) => ({
      mount: clip(String(d.DeviceID), 500),
      fs: clip(String(d.FileSystem ?? ""), 50) || undefined,
      totalBytes: Number(d.Size ?? 0),
      freeBytes: Number(d.FreeSpace ?? 0),
    })),
    network: network(),
    users: user?.UserName ? [clip(String(user.UserName), 200)] : [],
    uptimeSeconds: Math.floor(os.uptime()),
    software: list(sw)
      .slice(0, 20_000)
      .map((s) => ({
        name: clip(String(s.DisplayName)),
        version: clip(String(s.DisplayVersion ?? ""), 200),
        publisher: clip(String(s.Publisher ?? "")) || undefined,
      })),
    updates: updates && {
      source: "windows_update",
      count: updates.length,
      items: updates.slice(0, 2000).map((u) => ({ name: clip(String(u.Title)) })),
    },
  };
}
