import { spawn, type ChildProcess } from 'node:child_process';

/** A child process that printed `LISTENING <port>`. */
export type ListeningApp = {
  child: ChildProcess;
  port: number;
  output: () => { stdout: string; stderr: string };
  /** Resolves on exit, with `at` (performance.now() when the exit was seen). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** SIGKILLs the process if it still runs and waits for it to be gone. */
  stop: () => Promise<void>;
};

/** Runs `node <args>` in `cwd` with `env` (and PATH) and waits for its `LISTENING <port>` line. */
export async function spawnListeningApp(args: string[], cwd: string, env: Record<string, string>): Promise<ListeningApp> {
  const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not start: ${stdout} ${stderr}`)), 20_000);
    const check = (): void => {
      const match = /LISTENING (\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => reject(new Error(`app exited: ${stdout} ${stderr}`)));
  });
  return {
    child,
    port,
    output: () => ({ stdout, stderr }),
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
