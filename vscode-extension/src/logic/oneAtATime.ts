/**
 * A job run one at a time: asked for while it runs, it runs once more when that run ends
 * (however often it was asked meanwhile), so a request is never lost and never doubled.
 */
export class OneAtATime {
  private running: Promise<void> | undefined;
  private asked = 0; // requests so far; a run answers all those made before it began

  /** `job` reports its own failures: a rejection ends the round and is not retried. */
  constructor(private readonly job: () => Promise<void>) {}

  /** Run the job now, or once more after the run under way. */
  request(): void {
    this.asked++;
    if (this.running) return;
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when no run is under way or due (tests wait on it). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    let answered = 0;
    while (answered < this.asked) {
      answered = this.asked;
      await this.job();
    }
  }
}
