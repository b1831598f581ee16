import { build } from 'esbuild';
import { lambdaEsbuildOptions } from './infra/bundling/lambda-bundling';
const [entry, prefix] = [process.argv[2]!, process.argv[3] ?? 'lib/'];
const r = await build({ ...lambdaEsbuildOptions(entry, '/tmp/m4/out.mjs'), metafile: true, write: false });
const out = Object.entries(r.metafile!.outputs).find(([k]) => k.endsWith('.mjs'))![1];
console.log('total KiB', (out.bytes/1024).toFixed(1));
const groups: Record<string, number> = {};
for (const [f, v] of Object.entries(out.inputs)) { const g = f.startsWith('node_modules/') ? f.split('/').slice(0, f.split('/')[1]!.startsWith('@')?3:2).join('/') : f; groups[g] = (groups[g]??0) + v.bytesInOutput; }
for (const [g, b] of Object.entries(groups).sort((a,b)=>b[1]-a[1])) if (g.startsWith(prefix)) console.log((b/1024).toFixed(1).padStart(7), g);
