import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo } from '../../../test-support/demo-and-prometheus.js';

// The docker-compose variant of the demo: DATABASE_URL adds a real pg pool behind /db, bridged by the
// preload with no code. Here it points at the local PostgreSQL the tests use.
describe('the demo with DATABASE_URL (the docker-compose variant)', () => {
  let demo: Awaited<ReturnType<typeof startDemo>>;

  beforeAll(async () => {
    demo = await startDemo({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', DEMO_LOAD: '0' });
  });

  afterAll(async () => {
    await demo?.stop();
  });

  it('serves /db from a real pg pool that /metrics reports under host:port/database', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`http://127.0.0.1:${demo.appPort}/db`);
      expect(response.status).toBe(200);
      expect(Object.keys((await response.json()) as object)).toContain('at');
    }
    const text = await (await fetch(`http://127.0.0.1:${demo.metricsPort}/metrics`)).text();
    const pool = 'db_client_connection_pool_name="127.0.0.1:5432/test"';
    const line = (name: string) => text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(pool));
    expect(line('db_client_connection_max')).toMatch(/ 5$/);
    expect(line('db_client_connection_wait_time_seconds_count')).toMatch(/ 3$/);
    expect(line('db_client_connection_use_time_seconds_count')).toMatch(/ 3$/);
  });
});
