// A process with the serve safety net and an embedded PostgreSQL, for
// tests/embedded-postgres.test.ts: it lets a few errors escape and keeps
// going, then lets many escape, which must stop the server before it exits.
import { startEmbeddedPostgres } from '../../collector/src/db/embedded.ts';
import { createLogger } from '../../collector/src/logger.ts';
import { installSafetyNet } from '../../collector/src/serve/safety-net.ts';

const dataDir = process.argv[2]!;
const logger = createLogger('info');
const server = await startEmbeddedPostgres(dataDir, logger);
installSafetyNet({ logger, onFatal: () => server.stop(), maxEscapes: 10, windowMs: 60_000 });

const escape = (index: number) =>
  new Promise<void>((resolve) =>
    setTimeout(() => {
      setImmediate(resolve);
      if (index % 2 === 0) {
        throw new Error(`thrown in a timer ${index}`);
      }
      void Promise.reject(new Error(`rejected and never awaited ${index}`));
    }, 5)
  );

for (let index = 0; index < 3; index += 1) {
  await escape(index);
}
process.stdout.write('still serving after 3 escaped errors\n');
for (let index = 3; index < 12; index += 1) {
  await escape(index);
}
// Kept alive until the net, at the tenth escape, stops the server and exits 1.
setInterval(() => undefined, 1000);
