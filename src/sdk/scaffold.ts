import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../project-root.ts';

/**
 * `amtsbote adapter new <name>`: a working adapter to start from. The generated files import the SDK by a
 * path relative to where they are written, so they work in the hub's own adapters/ and in any folder
 * whose node_modules resolves zod and express.
 */

// The SDK's sources, also when this runs compiled from dist/: the generated files import the TypeScript.
const SDK_DIR = path.join(PROJECT_ROOT, 'src', 'sdk');
const TEMPLATES = path.join(SDK_DIR, 'templates', 'adapter');

/** The adapter type doubles as the folder name and the config value: keep it plain. */
export const ADAPTER_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export class ScaffoldError extends Error {}

export interface ScaffoldResult {
  dir: string;
  files: { path: string; what: string }[];
  nextSteps: string[];
}

export function validateAdapterName(name: string, knownTypes: readonly string[] = []): void {
  if (!ADAPTER_NAME.test(name) || name.length > 40) {
    throw new ScaffoldError(
      `"${name}" is not a valid adapter name: lower-case letters and digits, words joined by single dashes, starting with a letter (e.g. acme-dms), at most 40 characters`,
    );
  }
  if (knownTypes.includes(name)) throw new ScaffoldError(`an adapter of type "${name}" ships with the hub already; choose another name`);
}

const posix = (p: string) => p.split(path.sep).join('/');

function relativeImport(fromDir: string, to: string): string {
  const rel = posix(path.relative(fromDir, to));
  return rel.startsWith('.') ? rel : `./${rel}`;
}

export function scaffoldAdapter(name: string, adaptersDir: string, opts: { knownTypes?: readonly string[] } = {}): ScaffoldResult {
  validateAdapterName(name, opts.knownTypes);
  const dir = path.join(adaptersDir, name);
  mkdirSync(adaptersDir, { recursive: true });
  try {
    // Not recursive: an existing folder fails here, so nothing of someone's work is overwritten.
    mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new ScaffoldError(`${dir} exists already; choose another name or remove it`);
    throw e;
  }

  const ident = name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  const testFile = path.join(dir, `${name}.test.ts`);
  const insideProject = !path.relative(PROJECT_ROOT, dir).startsWith('..');
  const vars: Record<string, string> = {
    __NAME__: name,
    __IDENT__: ident,
    __TYPE__: ident[0]!.toUpperCase() + ident.slice(1),
    __ENV__: `${name.replace(/-/g, '_').toUpperCase()}_TOKEN`,
    __SDK__: relativeImport(dir, SDK_DIR),
    __DOCS__: relativeImport(dir, path.join(PROJECT_ROOT, 'docs')),
    __TEST__: insideProject ? posix(path.relative(PROJECT_ROOT, testFile)) : testFile,
  };
  const fill = (template: string) => readFileSync(path.join(TEMPLATES, template), 'utf8').replace(/__[A-Z]+__/g, (m) => vars[m] ?? m);

  const files = [
    {
      path: path.join(dir, 'index.ts'),
      what: 'the adapter: options schema with a secret, deliver() (TODO: the back-office call), check()',
      template: 'index.ts.tmpl',
    },
    { path: testFile, what: 'the conformance suite against a local back office', template: 'test.ts.tmpl' },
    { path: path.join(dir, 'README.md'), what: 'options table and a target example', template: 'README.md.tmpl' },
  ];
  try {
    for (const f of files) writeFileSync(f.path, fill(f.template), { flag: 'wx' });
  } catch (e) {
    // Half a scaffold is worse than none: the next try would be refused as "exists already".
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  const registry = path.join(PROJECT_ROOT, 'adapters', 'index.ts');
  const importPath = relativeImport(path.dirname(registry), path.join(dir, 'index.ts'));
  const shown = (f: string) => posix(path.relative(process.cwd(), f)) || '.';
  const nextSteps = [
    `1. Run its test; it passes as generated:`,
    `     npx mocha --no-config --node-option import=tsx ${shown(testFile)}`,
    `2. Register it in ${shown(registry)}:`,
    `     import ${ident} from '${importPath}';`,
    `     … ([rest, ${ident}] as AdapterDefinition[]) …`,
    `3. Add a target (config/targets.yaml) and point a route's target at it (config/routes.yaml):`,
    `     ${name}-example:`,
    `       adapter: ${name}`,
    `       options: { url: "https://back-office.example/api/cases", token: "\${env:${vars.__ENV__}}" }`,
    `   then: npm run config:schema && node bin/amtsbote.js config check config`,
    `4. Replace the TODO in deliver() with the back office's real call and keep the test green.`,
    `   docs/writing-an-adapter.md walks through it.`,
  ];
  return { dir, files: files.map(({ path: p, what }) => ({ path: p, what })), nextSteps };
}
