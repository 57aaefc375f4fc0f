import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

// TEST SUPPORT ONLY (no test here, nothing the server runs): stand-ins for apt-get and dpkg-query that the
// tests with the real agent executable put first on its PATH, so an update install runs end to end
// without installing or upgrading anything on the machine running the tests.

const SEP = "\x1f";

/** The stand-ins: `D` holds installed/<pkg>, available/<pkg>, fail/<pkg> (apt-get fails it) and argv.log. */
function scripts(dir: string) {
  const record = `printf '%s${"\\037"}' "$(basename "$0")" "$@" >> ${dir}/argv.log; echo >> ${dir}/argv.log`;
  return {
    "apt-get": `#!/bin/sh
${record}
D=${dir}
case "$1" in
  --version) echo "apt 2.6.1 (amd64)"; exit 0 ;;
  -s)
    for f in "$D"/available/*; do
      p=$(basename "$f"); a=$(cat "$f"); c=$(cat "$D/installed/$p")
      [ "$a" != "$c" ] && echo "Inst $p [$c] ($a Debian-Security:12/stable-security [amd64])"
    done
    exit 0 ;;
  install)
    echo "DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> "$D/env.log"
    for a in "$@"; do pkg=$a; done
    if [ -f "$D/fail/$pkg" ]; then
      echo "Reading package lists..."
      echo "E: Failed to fetch http://deb.debian.org/pool/$pkg.deb  404  Not Found" >&2
      echo "E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?" >&2
      exit 100
    fi
    cp "$D/available/$pkg" "$D/installed/$pkg"
    echo "Setting up $pkg ($(cat "$D/installed/$pkg")) ..."
    exit 0 ;;
esac
echo "E: unexpected call" >&2
exit 1
`,
    "dpkg-query": `#!/bin/sh
${record}
D=${dir}
for a in "$@"; do pkg=$a; done
if [ ! -f "$D/installed/$pkg" ]; then echo "dpkg-query: no packages found matching $pkg" >&2; exit 1; fi
printf '%s install ok installed' "$(cat "$D/installed/$pkg")"
`,
  };
}

export interface FakeApt {
  /** Put first on the agent's PATH. */
  binDir: string;
  /** Every call made to the stand-ins, argv as received (argv[0] is the tool's name). */
  calls(): Promise<string[][]>;
  /** DEBIAN_FRONTEND as each `apt-get install` saw it. */
  frontends(): Promise<string[]>;
  /** The package's install fails (as a 404 from the mirror) until `heal` is called. */
  heal(pkg: string): Promise<void>;
  close(): Promise<void>;
}

/** Packages with [installed, available] versions; `failing` ones fail to install with apt's own error. */
export async function fakeApt(
  versions: Record<string, [string, string]>,
  failing: string[],
): Promise<FakeApt> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "sb-apt-"));
  for (const sub of ["bin", "installed", "available", "fail"]) await mkdir(path.join(dir, sub));
  for (const [name, text] of Object.entries(scripts(dir))) {
    await writeFile(path.join(dir, "bin", name), text);
    await chmod(path.join(dir, "bin", name), 0o755);
  }
  for (const [p, [installed, available]] of Object.entries(versions)) {
    await writeFile(path.join(dir, "installed", p), installed);
    await writeFile(path.join(dir, "available", p), available);
  }
  for (const p of failing) await writeFile(path.join(dir, "fail", p), "");
  const read = (file: string) => readFile(path.join(dir, file), "utf8").catch(() => "");
  return {
    binDir: path.join(dir, "bin"),
    calls: async () =>
      (await read("argv.log"))
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(SEP).slice(0, -1)),
    frontends: async () =>
      (await read("env.log"))
        .split("\n")
        .filter(Boolean)
        .map((l) => l.replace(/^DEBIAN_FRONTEND=/, "")),
    heal: (pkg) => rm(path.join(dir, "fail", pkg)),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
