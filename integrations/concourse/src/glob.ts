/** The `artifacts` globs of `out`, relative to the sources directory (Node 20 has no fs.glob). */
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** A glob relative to `root`: `*` and `?` within one path segment, `**` across segments. */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  const p = pattern.replace(/^\.\//, '');
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '*' && p[i + 1] === '*') {
      const slash = p[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

export function expandGlob(root: string, pattern: string): string[] {
  const matcher = globToRegExp(pattern);
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && matcher.test(relative(root, path).split(sep).join('/'))) found.push(path);
    }
  };
  walk(root);
  return found.sort();
}
