import pg from 'pg';

export const READER_ROLE = 'incident_lens_reader';
const READER_PASSWORD = 'reader-in-tests';

/**
 * A connection string for `databaseUrl` as incident_lens_reader, the role
 * Grafana uses. The migration creates it NOLOGIN (deployments give it a
 * login); tests give it one so they can read exactly as Grafana would.
 */
export async function readerUrl(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`ALTER ROLE ${READER_ROLE} LOGIN PASSWORD '${READER_PASSWORD}'`);
  } finally {
    await client.end();
  }
  const url = new URL(databaseUrl);
  url.username = READER_ROLE;
  url.password = READER_PASSWORD;
  return url.toString();
}

/**
 * Ends a pool and waits until each of its connections has closed. pg.Pool's
 * end() resolves as soon as it has asked them to: a test database dropped
 * right after terminates those still open, and the pool raises that error
 * with nobody listening, failing the run although every test passed.
 */
export async function endPool(pool: pg.Pool): Promise<void> {
  let open = pool.totalCount;
  const closed = new Promise<void>((resolve) => {
    if (open === 0) {
      resolve();
    }
    pool.on('remove', () => {
      open -= 1;
      if (open === 0) {
        resolve();
      }
    });
  });
  await pool.end();
  await closed;
}
