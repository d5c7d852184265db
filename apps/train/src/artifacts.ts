import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTable } from '@cvm/metrics';
import { writeFileAtomic } from '@cvm/nn/node';
import type { TrainConfig } from './config.js';
import type { PredictionSample } from './evaluate.js';
import type { MetricsRecord, ValRecord } from './metrics-log.js';
import { protocolOf, taskNames } from './model.js';
import { renderPlots } from './plots.js';
import { predictionPanel } from './predictions.js';

const text = (s: string) => new TextEncoder().encode(s);
const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * Refreshes a run's viewable outputs after an evaluation: `plots/{losses,lr,val}.svg`,
 * `predictions/<sample>.png` (RGB, then each task's prediction above its GT) and a self-contained
 * `report.html` embedding them. Every file is written atomically.
 */
export async function writeArtifacts(
  dir: string,
  config: TrainConfig,
  records: readonly MetricsRecord[],
  samples: readonly PredictionSample[],
  label: string,
): Promise<void> {
  const plotsDir = join(dir, 'plots');
  const predDir = join(dir, 'predictions');
  mkdirSync(plotsDir, { recursive: true });
  mkdirSync(predDir, { recursive: true });
  const plots = await renderPlots(records);
  for (const [name, svg] of Object.entries(plots))
    await writeFileAtomic(join(plotsDir, `${name}.svg`), text(svg));
  const tasks = taskNames(config);
  for (const s of samples) await writeFileAtomic(join(predDir, `${s.id}.png`), predictionPanel(s, tasks));
  await writeFileAtomic(join(dir, 'report.html'), text(reportHtml(dir, config, records, plots, label)));
}

function reportHtml(
  dir: string,
  config: TrainConfig,
  records: readonly MetricsRecord[],
  plots: Record<string, string>,
  label: string,
): string {
  const vals = records.filter((r): r is ValRecord => r.kind === 'val');
  const last = vals.at(-1);
  const table = last
    ? formatTable(
        [{ name: `${label} @${last.step}`, scores: last.scores, deltaMtl: last.deltaMtl }],
        protocolOf(config),
      )
    : 'no evaluation yet';
  const predDir = join(dir, 'predictions');
  const images = existsSync(predDir)
    ? readdirSync(predDir)
        .filter((n) => n.endsWith('.png'))
        .sort()
        .map(
          (n) =>
            `<figure><img alt="${escapeHtml(n)}" src="data:image/png;base64,${readFileSync(join(predDir, n)).toString('base64')}"><figcaption>${escapeHtml(n)}: RGB, then ${escapeHtml(taskNames(config).join(', '))}; top prediction, bottom ground truth</figcaption></figure>`,
        )
        .join('\n')
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cvm run: ${escapeHtml(label)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}pre{background:#f6f6f6;padding:1em;overflow:auto}
figure{display:inline-block;margin:0 1em 1em 0}img{image-rendering:pixelated;width:min(100%,900px)}svg{max-width:100%}</style></head>
<body>
<h1>cvm run: ${escapeHtml(label)}</h1>
<p>${escapeHtml(dir)} — step ${last?.step ?? 0} of ${config.steps}; generated ${new Date().toISOString()}</p>
<h2>Validation (${escapeHtml(config.dataset)} ${escapeHtml(config.valSplit)}, ${last?.samples ?? 0} samples)</h2>
<pre>${escapeHtml(table)}</pre>
<h2>Training</h2>
${plots.losses}
${plots.lr}
<h2>Validation over steps</h2>
${plots.val}
<h2>Predictions</h2>
${images}
<h2>Configuration</h2>
<pre>${escapeHtml(JSON.stringify(config, null, 2))}</pre>
</body></html>
`;
}
