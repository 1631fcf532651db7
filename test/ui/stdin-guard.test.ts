import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { guardStdin } from '../../src/ui/stdin-guard.js';

/** A terminal's stdin as the guard uses it: raw mode, flowing or paused, data events. */
function fakeStdin() {
  const s = Object.assign(new EventEmitter(), {
    isTTY: true,
    isRaw: false,
    flowing: false,
    setRawMode(on: boolean) {
      s.isRaw = on;
      return s;
    },
    resume() {
      s.flowing = true;
      return s;
    },
    pause() {
      s.flowing = false;
      return s;
    },
  });
  return s;
}

describe('the stdin guard of the spinners', () => {
  it('takes stdin raw and flowing, turns Ctrl-C into a SIGINT, and gives it back cooked and paused', () => {
    const stdin = fakeStdin();
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    const release = guardStdin(stdin as unknown as NodeJS.ReadStream);
    expect(stdin).toMatchObject({ isRaw: true, flowing: true });
    stdin.emit('data', Buffer.from('x'));
    expect(kill).not.toHaveBeenCalled();
    stdin.emit('data', Buffer.from('\u0003'));
    expect(kill).toHaveBeenCalledWith(process.pid, 'SIGINT');
    release();
    expect(stdin).toMatchObject({ isRaw: false, flowing: false });
    expect(stdin.listenerCount('data')).toBe(0);
    kill.mockRestore();
  });

  it('overlapping spinners: stdin is given back only when the last one stops, and a release counts once', () => {
    const stdin = fakeStdin() as unknown as NodeJS.ReadStream & { isRaw: boolean };
    const first = guardStdin(stdin);
    const second = guardStdin(stdin);
    first();
    first();
    expect(stdin.isRaw).toBe(true);
    second();
    expect(stdin.isRaw).toBe(false);
    expect(stdin.listenerCount('data')).toBe(0);
  });
});
