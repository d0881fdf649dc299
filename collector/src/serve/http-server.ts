import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ReadinessReport } from './readiness.ts';
import { WEBHOOK_BODY_LIMIT_BYTES, type WebhookAnswer, type WebhookDelivery } from '../sources/webhook.ts';

export interface HttpHandlers {
  readiness(): Promise<ReadinessReport>;
  metrics(): Promise<{ contentType: string; text: string }>;
  /** The handler of the webhook route at `path` (/webhooks/...), if an account's webhook is there; else 404. */
  webhook?: (path: string) => ((delivery: WebhookDelivery) => Promise<WebhookAnswer>) | undefined;
  /** Told about a webhook refused for its size, before it reaches the handler. */
  onWebhookTooLarge?: (path: string) => void;
}

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  handlers: HttpHandlers;
  logger: Logger;
  /** Default 256 KiB, PagerDuty's own ceiling. */
  bodyLimitBytes?: number;
  /** Connections open at once; past it new ones are closed at once. Default 1024. */
  maxConnections?: number;
}

export interface RunningHttpServer {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  /** Stops accepting connections, lets requests under way finish, then closes what is left. */
  close(graceMs?: number): Promise<void>;
}

const ROUTES: Record<string, string> = {
  '/healthz': 'GET',
  '/readyz': 'GET',
  '/metrics': 'GET',
};

/** Every account's webhook is under this prefix (sources/webhook.ts). */
const WEBHOOK_PREFIX = '/webhooks/';

class BodyTooLarge extends Error {}

/** The collector's HTTP endpoints on node:http: probes, metrics and webhooks. */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { handlers, logger } = options;
  const bodyLimit = options.bodyLimitBytes ?? WEBHOOK_BODY_LIMIT_BYTES;

  const route = async (request: IncomingMessage, response: ServerResponse, path: string): Promise<void> => {
    const webhookRoute = path.startsWith(WEBHOOK_PREFIX);
    const method = webhookRoute ? 'POST' : ROUTES[path];
    if (method === undefined) {
      return sendJson(response, 404, { status: 'not found' });
    }
    if (request.method !== method && !(method === 'GET' && request.method === 'HEAD')) {
      response.setHeader('Allow', method === 'GET' ? 'GET, HEAD' : method);
      return sendJson(response, 405, { status: 'method not allowed' });
    }
    if (webhookRoute) {
      const handler = handlers.webhook?.(path);
      if (!handler) {
        return sendJson(response, 404, {
          status: 'not found',
          reason: "no webhook is configured at this path: set the account's webhook secret",
        });
      }
      let rawBody: Buffer;
      try {
        rawBody = await readBody(request, bodyLimit);
      } catch (error) {
        if (!(error instanceof BodyTooLarge)) {
          throw error;
        }
        handlers.onWebhookTooLarge?.(path);
        logger.warn(
          { path, limitBytes: bodyLimit, remoteAddress: request.socket.remoteAddress },
          'webhook refused: body too large'
        );
        response.setHeader('Connection', 'close');
        return sendJson(response, 413, { status: 'rejected', reason: `the body is larger than ${bodyLimit} bytes` });
      }
      const answer = await handler({
        rawBody,
        headers: request.headers,
        receivedAt: new Date(),
        remoteAddress: request.socket.remoteAddress,
      });
      return sendJson(response, answer.status, answer.body);
    }
    switch (path) {
      case '/healthz':
        return sendJson(response, 200, { status: 'ok' });
      case '/readyz': {
        const report = await handlers.readiness();
        return sendJson(response, report.ready ? 200 : 503, {
          status: report.ready ? 'ready' : 'not ready',
          failing: report.checks.filter((check) => !check.ok).map((check) => check.name),
          checks: report.checks,
        });
      }
      case '/metrics': {
        const { contentType, text } = await handlers.metrics();
        response.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
        response.end(text);
        return;
      }
    }
  };

  const server = createServer(
    {
      // Idle and half-sent requests are found within a second, not the default 30.
      connectionsCheckingInterval: 1000,
      // A slow client cannot hold a connection open for long.
      headersTimeout: 10_000,
      requestTimeout: 15_000,
      keepAliveTimeout: 5_000,
      maxHeaderSize: 16 * 1024,
    },
    (request, response) => {
      const started = performance.now();
      const path = requestPath(request.url);
      response.on('finish', () => {
        logger.debug(
          { method: request.method, path, status: response.statusCode, ms: Math.round(performance.now() - started) },
          'http request'
        );
      });
      if (path === undefined) {
        return sendJson(response, 400, { status: 'bad request', reason: 'the request target is not a valid path' });
      }
      route(request, response, path).catch((error: unknown) => {
        logger.error({ path, err: error }, `http handler failed: ${errorMessage(error)}`);
        if (!response.headersSent && !response.destroyed) {
          sendJson(response, 500, { status: 'error' });
        } else {
          response.destroy();
        }
      });
    }
  );
  server.maxHeadersCount = 100;
  server.maxConnections = options.maxConnections ?? 1024;
  // Requests node:http cannot parse (bad method, header or chunk, too large, too slow) end here:
  // answered when the socket can still take it, closed in any case, never thrown.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (socket.writable && !socket.destroyed && error.code !== 'ECONNRESET') {
      const status =
        error.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  logger.info({ host: options.host, port }, 'http server listening');

  return {
    url: `http://${hostInUrl}:${port}`,
    port,
    async close(graceMs = 3000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

/** The path of a request target, or undefined when it is not one (`//[` and the like). */
function requestPath(target: string | undefined): string | undefined {
  try {
    return new URL(target ?? '/', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** The raw body (signatures are over its exact bytes), refused past `limit` bytes. */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    // Read no further; the connection closes after the 413.
    request.resume();
    return Promise.reject(new BodyTooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.off('data', onData);
        request.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
    // A client gone halfway through its body: nothing to answer, and nothing may wait for it.
    request.once('close', () => {
      if (!request.complete) {
        reject(new Error('the client closed the connection before the body was complete'));
      }
    });
  });
}
