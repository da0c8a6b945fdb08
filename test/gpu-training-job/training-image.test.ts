/**
 * The example training image's build context (examples/training/hearing-who-grade), checked
 * without Docker: the Dockerfile copies files that exist, runs train.py, and the metric
 * definitions parse the script's metric line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { METRIC_DEFINITIONS, TRAINING_DIR } from '../../examples/training/hearing-dataset';
import { scrapeMetrics } from '../../examples/training/local-training';

const dockerfile = fs.readFileSync(path.join(TRAINING_DIR, 'Dockerfile'), 'utf8');
const instructions = dockerfile.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

test('the Dockerfile builds from a PyTorch base image pinned by digest, for the x86_64 training instances', () => {
  const from = instructions.filter((l) => /^FROM\s/i.test(l));
  expect(from).toHaveLength(1);
  expect(from[0]).toMatch(/^FROM --platform=linux\/amd64 pytorch\/pytorch:\d+\.\d+\.\d+-cuda[\d.]+-cudnn\d+-runtime@sha256:[0-9a-f]{64}$/);
});

test('every file the Dockerfile copies exists in its directory', () => {
  const copies = instructions.filter((l) => /^(COPY|ADD)\s/i.test(l));
  expect(copies.length).toBeGreaterThanOrEqual(2);
  for (const line of copies) {
    const parts = line.split(/\s+/).slice(1).filter((p) => !p.startsWith('--'));
    for (const source of parts.slice(0, -1)) {
      expect([source, fs.existsSync(path.join(TRAINING_DIR, source))]).toEqual([source, true]);
    }
  }
  expect(copies.map((l) => l.split(/\s+/)[1])).toEqual(expect.arrayContaining(['train.py', 'requirements.txt']));
});

test('the entry point runs the copied train.py (SageMaker appends `train`, which the script ignores)', () => {
  const entry = instructions.find((l) => l.startsWith('ENTRYPOINT'));
  expect(JSON.parse(entry!.slice('ENTRYPOINT'.length))).toEqual(['python', '/opt/program/train.py']);
  expect(instructions).toContain('COPY train.py /opt/program/train.py');
  expect(fs.readFileSync(path.join(TRAINING_DIR, 'train.py'), 'utf8')).toContain("if arg == 'train' and i == 0:");
});

test('requirements.txt pins its packages and does not reinstall torch', () => {
  const reqs = fs.readFileSync(path.join(TRAINING_DIR, 'requirements.txt'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  expect(reqs.length).toBeGreaterThan(0);
  for (const r of reqs) expect(r).toMatch(/^[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*$/);
  expect(reqs.some((r) => r.toLowerCase().startsWith('torch'))).toBe(false);
});

test('the metric definitions parse the metric line train.py prints', () => {
  const line = 'epoch=12 train_loss=0.4722 train_accuracy=0.9405 validation_loss=0.4717 validation_accuracy=0.9425';
  const source = fs.readFileSync(path.join(TRAINING_DIR, 'train.py'), 'utf8');
  expect(source).toContain('line = f"epoch={epoch} train_loss={row[\'train_loss\']:.4f} train_accuracy={row[\'train_accuracy\']:.4f}"');
  expect(scrapeMetrics([line, 'torch 1.13.0 device=cpu gpus=0 epochs=20 lr=0.003', 'resuming from checkpoint x: completed epochs 3, next epoch 4'], METRIC_DEFINITIONS)).toEqual({
    'epoch': { last: 12, series: [12] },
    'train:loss': { last: 0.4722, series: [0.4722] },
    'train:accuracy': { last: 0.9405, series: [0.9405] },
    'validation:loss': { last: 0.4717, series: [0.4717] },
    'validation:accuracy': { last: 0.9425, series: [0.9425] },
  });
  // SageMaker's limits: at most 40 definitions, names 1..255, regexes 1..500 characters
  expect(METRIC_DEFINITIONS.length).toBeLessThanOrEqual(40);
  for (const d of METRIC_DEFINITIONS) {
    expect(d.name).toMatch(/^.{1,255}$/);
    expect(d.regex).toMatch(/^.{1,500}$/);
  }
});
