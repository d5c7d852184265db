import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli.js';

afterEach(() => vi.restoreAllMocks());

describe('CLI arguments', () => {
  it("reads flags after the literal '--' that `pnpm --filter train start -- ...` passes on", async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await main(['--', '--help'])).toBe(0);
    expect(error).not.toHaveBeenCalled();
    expect(String(log.mock.calls[0]?.[0])).toMatch(/--preset/);
  });

  it("reads flags after a command's '--' (`pnpm --filter train ablation -- --seeds ...`)", async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await main(['ablation', '--', '--seeds', '0,0'])).toBe(1);
    expect(String(error.mock.calls[0]?.[0])).toMatch(/--seeds: expected distinct integers/);
  });
});
