/**
 * Undo steps run last-in first-out, each bounded in time, at the end, on error and on
 * SIGINT/SIGTERM. A step added after the run began (something finished starting while we were
 * already cleaning up) runs at once; `drain()` waits for those.
 */
export class Cleanup {
  private readonly steps: { name: string; run: () => Promise<unknown> | unknown }[] = [];
  private readonly late = new Set<Promise<void>>();
  private running: Promise<void> | null = null;

  constructor(private readonly timeoutPerStepMs = 15_000) {}

  add(name: string, run: () => Promise<unknown> | unknown): void {
    if (this.running) {
      const step = this.runStep({ name, run });
      this.late.add(step);
      void step.then(() => this.late.delete(step));
    } else this.steps.push({ name, run });
  }

  /** Runs every step once (later calls wait for the same run); never throws. */
  run(): Promise<void> {
    this.running ??= (async () => {
      for (let step = this.steps.pop(); step; step = this.steps.pop()) await this.runStep(step);
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

  private async runStep(step: { name: string; run: () => Promise<unknown> | unknown }): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
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
    }
  }
}
