/**
 * Undo steps run last-in first-out, each bounded in time, at the end, on error and on
 * SIGINT/SIGTERM; adjacent steps of the same `group` run together (e.g. stopping every agent).
 * A step added after the run began (something finished starting while we were already cleaning
 * up) runs at once; `drain()` waits for those.
 */
interface Step {
  name: string;
  group?: string;
  run: () => Promise<unknown> | unknown;
}

export class Cleanup {
  private readonly steps: Step[] = [];
  private readonly late = new Set<Promise<void>>();
  private running: Promise<void> | null = null;

  constructor(private readonly timeoutPerStepMs = 15_000) {}

  add(name: string, run: () => Promise<unknown> | unknown, group?: string): void {
    if (this.running) {
      const step = this.runStep({ name, run });
      this.late.add(step);
      void step.then(() => this.late.delete(step));
    } else this.steps.push({ name, run, group });
  }

  /** Runs every step once (later calls wait for the same run); never throws. */
  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length > 0) {
        const batch = [this.steps.pop()!];
        const group = batch[0].group;
        while (group !== undefined && this.steps.at(-1)?.group === group) batch.push(this.steps.pop()!);
        await Promise.all(batch.map((step) => this.runStep(step)));
      }
    })();
    return this.running;
  }

  /** Waits (at most `ms`) for steps added after the run began. */
  async drain(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.late]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  private async runStep(step: Step): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const started = performance.now();
    try {
      await Promise.race([
        Promise.resolve().then(step.run),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), this.timeoutPerStepMs);
        }),
      ]);
    } catch (err) {
      process.stderr.write(`cleanup: ${step.name} failed: ${(err as Error).message}\n`);
    } finally {
      clearTimeout(timer);
      const ms = performance.now() - started;
      if (ms > 3_000) process.stderr.write(`cleanup: ${step.name} took ${(ms / 1000).toFixed(1)} s\n`);
    }
  }
}
