// The benchmark's loopback latency proxy: in front of moto_server, it holds every request for
// `delayMs` before passing it on, so each call costs at least one round trip of `delayMs`, and
// calls in flight together overlap (each waits on its own timer). It records when each call
// went out and came back, which gives the longest chain of calls that waited for one another.
// Listens on 127.0.0.1 only, on a port the OS hands out; forwards to a loopback endpoint only.
import { createServer, request } from 'node:http';

/**
 * @param {string} upstream moto's endpoint (http://127.0.0.1:<port>)
 * @param {number} delayMs the round-trip time to add to every call
 */
export async function startLatencyProxy(upstream, delayMs) {
  const target = new URL(upstream);
  if (target.protocol !== 'http:' || target.hostname !== '127.0.0.1') throw new Error(`loopback only (got ${upstream})`);
  /** @type {{ start: number, end: number }[]} */
  let calls = [];
  const now = () => Number(process.hrtime.bigint()) / 1e6;
  const server = createServer((req, res) => {
    const start = now();
    const body = [];
    req.on('data', (d) => body.push(d));
    req.on('end', () => {
      setTimeout(() => {
        const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', () => calls.push({ start, end: now() }));
        });
        up.on('error', () => {
          res.writeHead(502);
          res.end();
        });
        up.end(Buffer.concat(body));
      }, delayMs);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${port}`,
    /** Forgets the calls recorded so far (before each measured run). */
    reset() {
      calls = [];
    },
    /**
     * The calls since the last reset, and the longest chain: a call is one link after every call
     * that had come back before it went out (it may have waited for them), so the chain is the
     * number of round trips the run spent one after another.
     */
    stats() {
      const sorted = [...calls].sort((a, b) => a.start - b.start);
      const depth = [];
      let chain = 0;
      for (const [i, c] of sorted.entries()) {
        let d = 1;
        for (let j = 0; j < i; j++) if (sorted[j].end <= c.start) d = Math.max(d, depth[j] + 1);
        depth.push(d);
        chain = Math.max(chain, d);
      }
      return { calls: calls.length, chain };
    },
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  };
}
