import { existsSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { builtinAdapters } from '../../adapters/index.ts';
import { formatFileResult, formatSummary, loadGoldenConfig, runGoldenTests, type GoldenConfig } from '../mapping/golden/index.ts';

export interface MappingTestOptions {
  config: string;
  grep?: string;
  update?: boolean;
  /** Whether --config was given (not the default): then the configuration must be there. */
  configGiven: boolean;
}

/** `amtsbote mapping test [paths...]`: the golden cases of the mappings; exit 1 on any failure. */
export async function mappingTest(paths: string[], o: MappingTestOptions): Promise<void> {
  const configDir = path.resolve(o.config);
  let config: GoldenConfig | undefined;
  // Without paths the configuration says where mappings are, so it must be there. With paths it only
  // enriches the input (tenant names, routes); a missing default folder is then no reason to stop.
  if (paths.length === 0 || o.configGiven || existsSync(configDir)) config = loadGoldenConfig(configDir);
  else console.log(`(no configuration at ${o.config}: inputs carry only tenant and service keys)`);
  const targets = paths.length ? paths : [config!.mappingsDir];
  let grep: RegExp | undefined;
  try {
    grep = o.grep ? new RegExp(o.grep) : undefined;
  } catch {
    throw new InvalidArgumentError(`--grep: not a regular expression: ${o.grep}`);
  }
  const report = await runGoldenTests({
    paths: targets,
    config,
    grep,
    update: o.update === true,
    adapterFormats: new Map([...builtinAdapters].map(([type, a]) => [type, a.defaultFormat])),
    onFile: (r) => console.log(formatFileResult(r).join('\n') + '\n'),
  });
  if (report.files.length === 0) {
    console.error(
      `no golden cases (*.cases.yaml) under ${targets.map((t) => path.relative(process.cwd(), path.resolve(t)) || '.').join(', ')}${grep ? ` matching ${grep}` : ''}`,
    );
    process.exitCode = 1;
    return;
  }
  console.log(formatSummary(report));
  if (o.update) {
    // What changed on disk, for the review in git; files whose cases passed were not touched.
    const shown = report.written.map((f) => path.relative(process.cwd(), f) || f);
    console.log(
      shown.length
        ? `wrote ${shown.length} file${shown.length === 1 ? '' : 's'} (review with git diff):\n${shown.map((f) => `  ${f}`).join('\n')}`
        : 'wrote nothing: every expectation matched',
    );
  }
  if (report.failed) process.exitCode = 1;
}
