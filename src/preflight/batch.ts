/**
 * Collects the items asked for while the current turn of the event loop runs and answers them
 * with one `flush`: workloads checked at once (the engine reconciles a level's resources
 * concurrently, `converge verify` checks all of them) share one call per ECR repository and one
 * per 50 SSM parameters. The flush runs in the async context of the first `load`, so its AWS
 * calls count towards (and abort with) that cycle.
 */
export class TickBatcher<T, R> {
  private pending: { item: T; resolve: (value: R) => void; reject: (error: unknown) => void }[] = [];
  private scheduled = false;

  /** `flush` answers each item, in order. */
  constructor(private readonly flush: (items: T[]) => Promise<R[]>) {}

  load(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => void this.run());
    });
  }

  private async run(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.scheduled = false;
    try {
      const answers = await this.flush(batch.map((b) => b.item));
      batch.forEach((b, i) => {
        if (i < answers.length) b.resolve(answers[i] as R);
        else b.reject(new Error('batch flush answered fewer items than it was given'));
      });
    } catch (error) {
      for (const b of batch) b.reject(error);
    }
  }
}
