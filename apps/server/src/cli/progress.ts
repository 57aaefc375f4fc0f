import cliProgress from "cli-progress";

export interface Progress {
  /** One unit of work done; `step` names what is happening now. */
  tick(step?: string): void;
  stop(): void;
}

/**
 * A progress bar on stderr when it is a terminal; otherwise (CI logs, pipes) one line at the start
 * and one at the end, so logs stay readable.
 */
export function progress(label: string, total: number, opts: { quiet?: boolean } = {}): Progress {
  if (opts.quiet || total <= 0) return { tick() {}, stop() {} };
  if (!process.stderr.isTTY) {
    let done = 0;
    const started = Date.now();
    process.stderr.write(`${label}: ${total} steps\n`);
    return {
      tick() {
        done++;
      },
      stop() {
        process.stderr.write(`${label}: ${done}/${total} done in ${Date.now() - started} ms\n`);
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(10)} [{bar}] {value}/{total} {step}`,
      hideCursor: true,
      barsize: 30,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { step: "" });
  return {
    tick(step = "") {
      bar.increment(1, { step: step.length > 40 ? `${step.slice(0, 39)}…` : step });
    },
    stop() {
      bar.update({ step: "" });
      bar.stop();
    },
  };
}
