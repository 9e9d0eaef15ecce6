// Helpers for the tests of the generated Python client: run Debian's python3 (not a pyenv shim
// that may come first on PATH: the apt-installed urllib3/six/dateutil/certifi/numpy live in
// Debian's interpreter) with the generated package on its path, always with a timeout.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const PYTHON = '/usr/bin/python3';
export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const PYTHON_CLIENT = join(ROOT, 'clients', 'python');
/** The hand-written package (`import tessera`) and the generated client it builds on. */
export const PYTHON_PACKAGE_PATH = [join(ROOT, 'clients', 'python-tessera'), PYTHON_CLIENT].join(':');

export interface PythonRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `python3 args...` with PYTHONPATH=clients/python (or `pythonPath`); killed after `timeoutMs`. */
export function runPython(args: readonly string[], timeoutMs: number, input?: string, pythonPath = PYTHON_CLIENT): Promise<PythonRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, {
      cwd: ROOT,
      env: { ...process.env, PYTHONPATH: pythonPath, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** A failure message that shows what the Python side printed. */
export function describeRun(what: string, run: PythonRun): string {
  return `${what}: exit ${run.code ?? run.signal}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}
