// Writes the README's `tessera serve` options table from server/config.ts (npm run docs:options).
// test/server/config.test.ts fails when the README's table and the configuration differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { optionsMarkdown } from '../server/config.js';

export const BEGIN = '<!-- options:begin (generated from server/config.ts by `npm run docs:options`) -->';
export const END = '<!-- options:end -->';

export function withOptionsTable(readme: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start === -1 || end < start) throw new Error(`README.md has no ${BEGIN} … ${END} block`);
  return `${readme.slice(0, start + BEGIN.length)}\n${optionsMarkdown()}\n${readme.slice(end)}`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync('README.md', withOptionsTable(readFileSync('README.md', 'utf8')));
}
