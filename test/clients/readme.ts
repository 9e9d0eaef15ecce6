// The README's "Using Tessera from ..." sections as the tests run them: fenced blocks in order,
// shell lines to run, and the servers' URLs swapped for a test cluster's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, type CommandRun } from '../support/process.js';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface Block {
  lang: string;
  code: string;
}

/** The fenced code blocks of the README section titled `title` (a "## " heading). */
export function readmeSection(title: string): Block[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

/** The README's example servers, 55501..55503 on loopback. */
export const README_NODES = ['http://127.0.0.1:55501', 'http://127.0.0.1:55502', 'http://127.0.0.1:55503'];

export function withNodes(code: string, nodes: readonly string[]): string {
  return README_NODES.reduce((text, url, i) => text.split(url).join(nodes[i]!), code);
}

/** The packages of a `sudo apt-get install ...` line. */
export function aptPackages(code: string): string[] {
  return code.split('\n').filter((l) => l.startsWith('sudo apt-get install ')).flatMap((l) => l.slice('sudo apt-get install '.length).trim().split(/\s+/));
}

export type ShellRun = CommandRun;

/** Runs `script` with bash; killed after `timeoutMs`. */
export function bash(script: string, options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<ShellRun> {
  return runCommand('bash', ['-e', '-c', script], options);
}

/** What a party block's comment promises: "# each prints X" or "# all three print the same ...". */
export function promised(code: string): { each: string } | { same: true } {
  const each = /^# each prints (.+)$/m.exec(code);
  if (each) return { each: each[1]! };
  if (/^# all three print the same/m.test(code)) return { same: true };
  throw new Error(`a party block without a promise:\n${code}`);
}
