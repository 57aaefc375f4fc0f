import { createInterface } from "node:readline/promises";
import { CliError } from "./context.ts";

const interactive = () => process.stdin.isTTY === true && process.stderr.isTTY === true;

/** The flag's value, or an answer typed at the terminal; without a terminal the flag is required. */
export async function ask(question: string, flag: string, value?: string): Promise<string> {
  if (value !== undefined && value !== "") return value;
  if (!interactive()) throw new CliError(`${flag} is required (no terminal to ask on)`, 2);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question}: `)).trim();
    if (!answer) throw new CliError(`${flag} is required`, 2);
    return answer;
  } finally {
    rl.close();
  }
}

/** Reads a line without echoing it (passwords). */
export async function askSecret(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(`${question}: `);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding("utf8");
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = "";
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === "\r" || ch === "\n") {
            stdin.off("data", onData);
            process.stderr.write("\n");
            return resolve(value);
          }
          if (ch === "\u0003" || ch === "\u0004") {
            stdin.off("data", onData);
            process.stderr.write("\n");
            return reject(new CliError("cancelled", 130));
          }
          if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}

async function readStdin(): Promise<string> {
  let data = "";
  process.stdin.setEncoding("utf8");
  for await (const chunk of process.stdin) data += chunk;
  return data.replace(/\r?\n$/, "");
}

/**
 * A new password from --password, --password-stdin or the terminal (asked twice). Passwords on the
 * command line end up in shell history and `ps`, so the prompt is the default.
 */
export async function newPassword(opts: { password?: string; passwordStdin?: boolean }): Promise<string> {
  let password: string;
  if (opts.password) password = opts.password;
  else if (opts.passwordStdin) password = await readStdin();
  else {
    if (!interactive())
      throw new CliError("--password or --password-stdin is required (no terminal to ask on)", 2);
    password = await askSecret("Password (12+ characters)");
    if (password.length >= 12 && (await askSecret("Repeat the password")) !== password) {
      throw new CliError("the passwords do not match");
    }
  }
  if (password.length < 12) throw new CliError("the password must be at least 12 characters", 2);
  if (password.length > 256) throw new CliError("the password must be at most 256 characters", 2);
  return password;
}
