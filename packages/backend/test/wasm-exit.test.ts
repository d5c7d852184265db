import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const program = fileURLToPath(new URL('./programs/wasm-then-exit.ts', import.meta.url));

describe('threaded wasm in Node', () => {
  it('lets a program exit once its work is done (the pool workers hold no event loop open), adding no global', async () => {
    const started = Date.now();
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--conditions=cvm-source', '--import', 'tsx', program],
        { timeout: 60_000, killSignal: 'SIGKILL' },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
      child.stdin?.end();
    });
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.stdout.trim()).toBe('wasm 2 new globals: []');
    expect(result.code).toBe(0);
    // Killed at the 60 s timeout when the workers keep Node alive; exits in a few seconds otherwise.
    expect(Date.now() - started).toBeLessThan(55_000);
  });
});
