// The HTTP endpoint of the metrics: GET /metrics in the text format, OpenMetrics when the Accept header asks for it.
import * as http from 'http';
import type { AddressInfo } from 'net';

export interface MetricsRenderer {
  render(openMetrics: boolean): Promise<{ contentType: string; body: string }>;
}

/** True when the client prefers OpenMetrics (as Prometheus says in its Accept header). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return /application\/openmetrics-text/i.test(accept ?? '');
}

export interface MetricsServer {
  readonly server: http.Server;
  /** The address it listens on (the real port when 0 was asked). */
  readonly address: AddressInfo;
  close(): Promise<void>;
}

export async function startMetricsServer(metrics: MetricsRenderer, host: string, port: number): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    metrics.render(wantsOpenMetrics(req.headers.accept)).then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(req.method === 'HEAD' ? undefined : body),
      (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting the metrics failed: ${e.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    address: server.address() as AddressInfo,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
