/**
 * While a spinner runs: the keys a person types are not echoed into it, and Ctrl-C still stops
 * the run. Raw mode turns the terminal's own Ctrl-C → SIGINT off, so the key is turned back into
 * a SIGINT here (the launcher's handler then stops the run after the call in flight). ora's own
 * stdin discarder listens with prependListener, which does not start a stdin nobody reads yet,
 * so the key was swallowed and the run went on: that is why ora's is off (discardStdin: false).
 * Spinners may overlap (regions at once): the first guard takes stdin, the last release gives
 * it back as it was (cooked, paused), e.g. to a prompt. Returns the release (once is enough).
 */
export function guardStdin(stdin: NodeJS.ReadStream = process.stdin): () => void {
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') return () => {};
  if (held++ === 0) {
    const wasRaw = stdin.isRaw;
    const onData = (chunk: Buffer | string) => {
      if ((typeof chunk === 'string' ? chunk : chunk.toString('latin1')).includes('\u0003')) process.kill(process.pid, 'SIGINT');
    };
    stdin.setRawMode(true);
    // Flowing, so the key arrives (a stream paused before, by a prompt or the last guard, stays
    // paused when a listener is added).
    stdin.on('data', onData);
    stdin.resume();
    restore = () => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
    };
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--held > 0) return;
    restore?.();
    restore = undefined;
  };
}

/** How many guards are on now, and how the first one gives stdin back. */
let held = 0;
let restore: (() => void) | undefined;
