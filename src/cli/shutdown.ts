/**
 * Waits for SIGINT or SIGTERM, runs the drain, and resolves. A second signal exits at once
 * with status 1 (the drain is abandoned).
 */
export function onShutdown(drain: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = () => {
      if (stopping) process.exit(1);
      stopping = true;
      drain().then(resolve, (err: unknown) => {
        process.stderr.write(`shutdown failed: ${(err as Error).message}\n`);
        resolve();
      });
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
