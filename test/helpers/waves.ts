/** How long no new call may come before the held answers are let go (a wave is over). */
const QUIET_MS = 10;

/**
 * The waves of calls a piece of code makes on some clients (`ctx.aws.get(KMSClient)`, …):
 * every answer is held until no new call has come for a moment, then the whole wave of answers
 * is let go. Calls of one wave did not wait for each other's answers; each wave waited for an
 * answer of the one before it. So the number of waves is the number of round trips one after
 * the other, as a slow network makes them. Wraps `send` of those client instances (over the
 * aws-sdk-client-mock stub, whose answers it passes on unchanged).
 */
export function callWaves(...clients: object[]) {
  const waves: string[][] = [];
  let current = 0;
  let held: (() => void)[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const release = () => {
    timer = undefined;
    const go = held;
    held = [];
    current++;
    for (const g of go) g();
  };
  for (const client of clients) {
    const c = client as { send: (...args: unknown[]) => Promise<unknown> };
    const send = c.send.bind(c);
    c.send = (...args: unknown[]) => {
      const wave = waves[current] ?? [];
      waves[current] = wave;
      wave.push((args[0] as object).constructor.name.replace(/Command$/, ''));
      const answer = Promise.resolve(send(...args));
      answer.catch(() => {}); // handled by the caller, once let go
      return new Promise<void>((go) => {
        held.push(go);
        clearTimeout(timer);
        timer = setTimeout(release, QUIET_MS);
      }).then(() => answer);
    };
  }
  /** The command names (without `Command`) of each wave, sorted within it. */
  return { waves: () => waves.map((w) => [...w].sort()) };
}
