import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { pino } from 'pino';
import { addPoolRoutes } from './pools.js';
import { createQuoteBreaker } from './quotes.js';
import { createUserStore } from './users.js';

/** Fails roughly one call in `1 / failureRatio`, deterministic per call count so numbers are stable. */
function shouldFail(counter: { calls: number }, every: number): boolean {
  counter.calls++;
  return counter.calls % every === 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The demo's express app:
 * - `GET /`: fast, always 200;
 * - `GET /slow`: 100–600 ms, always 200;
 * - `GET /fail`: always 500 (an unhandled error, as a bug would give);
 * - `GET /users/:id`: a cached lookup (lru-cache), 404 for ids above 100; routes carry templates, not raw paths;
 * - `GET /flaky`: fails one call in four;
 * - `GET /quote`: a flaky downstream call behind a circuit breaker with a fallback;
 * - `GET /pool`: work on a pooled (simulated) connection; `GET /db` a pg query when DATABASE_URL is set.
 */
export function createApp(options: { quotePeriodMs?: number } = {}): Express {
  const app = express();
  const flaky = { calls: 0 };
  const quotes = createQuoteBreaker(options.quotePeriodMs ?? 15_000);
  const users = createUserStore();
  addPoolRoutes(app);

  app.get('/', (_req, res) => {
    res.json({ ok: true, service: 'otelkit-demo' });
  });

  app.get('/slow', async (_req, res) => {
    await sleep(100 + Math.floor(Math.random() * 500));
    res.json({ ok: true, slow: true });
  });

  app.get('/fail', () => {
    throw new Error('this route always fails');
  });

  app.get('/users/:id', async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isInteger(id) || id > 100) {
      res.status(404).json({ error: 'no such user' });
      return;
    }
    res.json(await users.find(id));
  });

  app.get('/flaky', (_req, res) => {
    if (shouldFail(flaky, 4)) {
      res.status(503).json({ error: 'downstream unavailable' });
      return;
    }
    res.json({ ok: true });
  });

  app.get('/quote', async (_req, res) => {
    res.json({ quote: await quotes.fire() });
  });

  // A failed request is logged (at most one line per DEMO_LOG_EVERY_MS, 5 s by default, so the load
  // does not flood the console); under the preload the line carries the request's trace_id, span_id
  // and trace_flags, the same trace id the caller got in its traceresponse header.
  const logger = pino({ base: { service: 'otelkit-demo' } });
  const logEveryMs = Number(process.env.DEMO_LOG_EVERY_MS ?? 5000);
  let lastLoggedAt = -Infinity;
  app.use((error: Error, req: Request, res: Response, _next: NextFunction) => {
    const now = performance.now();
    if (now - lastLoggedAt >= logEveryMs) {
      lastLoggedAt = now;
      logger.error({ err: error, route: req.route?.path }, 'request failed');
    }
    res.status(500).json({ error: error.message });
  });
  return app;
}
