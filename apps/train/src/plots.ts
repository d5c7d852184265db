import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { MetricsRecord, TrainRecord, ValRecord } from './metrics-log.js';

/** Renders a Vega-Lite spec to an SVG string headlessly (no DOM, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Averages consecutive records so that a long run plots at most `max` points per series. */
function thin<T extends { step: number }>(records: readonly T[], max: number, value: (r: T) => number) {
  const stride = Math.max(1, Math.ceil(records.length / max));
  const out: { step: number; value: number }[] = [];
  for (let i = 0; i < records.length; i += stride) {
    const chunk = records.slice(i, i + stride);
    out.push({
      step: chunk[chunk.length - 1].step,
      value: chunk.reduce((s, r) => s + value(r), 0) / chunk.length,
    });
  }
  return out;
}

const WIDTH = 420;
const HEIGHT = 220;

/** The run's plots as SVG strings: training losses per task, learning rate, val metrics over steps. */
export async function renderPlots(
  records: readonly MetricsRecord[],
): Promise<Record<'losses' | 'lr' | 'val', string>> {
  const train = records.filter((r): r is TrainRecord => r.kind === 'train');
  const val = records.filter((r): r is ValRecord => r.kind === 'val');
  const tasks = train.length ? Object.keys(train[0].losses) : [];
  const lossRows = [
    ...thin(train, 400, (r) => r.total).map((p) => ({ ...p, series: 'total' })),
    ...tasks.flatMap((t) => thin(train, 400, (r) => r.losses[t]).map((p) => ({ ...p, series: t }))),
  ].filter((p) => Number.isFinite(p.value) && p.value > 0);
  const losses = await renderSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Training loss (weighted, per task)',
    width: WIDTH,
    height: HEIGHT,
    data: { values: lossRows },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'value', type: 'quantitative', title: 'loss', scale: { type: 'log' } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  });
  const lr = await renderSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Learning rate',
    width: WIDTH,
    height: HEIGHT / 2,
    data: { values: thin(train, 400, (r) => r.lr) },
    mark: 'line',
    encoding: {
      x: { field: 'step', type: 'quantitative' },
      y: { field: 'value', type: 'quantitative', title: 'lr', axis: { format: '.1e' } },
    },
  });
  const valRows = val.flatMap((r) =>
    Object.entries(r.scores).map(([metric, value]) => ({ step: r.step, metric, value })),
  );
  const valSvg = await renderSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Validation metrics',
    data: { values: valRows },
    facet: { field: 'metric', type: 'nominal', title: null },
    columns: 4,
    spec: {
      width: 180,
      height: 140,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'step', type: 'quantitative' },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
      },
    },
    resolve: { scale: { y: 'independent' } },
  });
  return { losses, lr, val: valSvg };
}
