import path from 'node:path';
import { builtinAdapters } from '../../adapters/index.ts';
import { scaffoldAdapter } from '../sdk/scaffold.ts';

/** `amtsbote adapter new <name>`: an adapter's index.ts, conformance test and README, and what to do next. */
export function adapterNew(name: string, o: { dir: string }): void {
  const r = scaffoldAdapter(name, path.resolve(o.dir), { knownTypes: [...builtinAdapters.keys()] });
  const rel = (f: string) => path.relative(process.cwd(), f) || '.';
  console.log(`created ${rel(r.dir)}/`);
  for (const f of r.files) console.log(`  ${rel(f.path).padEnd(Math.max(...r.files.map((x) => rel(x.path).length)) + 2)}${f.what}`);
  console.log('\nnext steps:\n' + r.nextSteps.map((l) => '  ' + l).join('\n'));
}
