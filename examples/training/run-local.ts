/**
 * Runs the example training script in local mode on a generated hearing dataset and prints the
 * metrics: the same script, layout and environment as a SageMaker training job, on this machine.
 *
 *   npx ts-node --project tsconfig.dev.json examples/training/run-local.ts \
 *     [--python /usr/bin/python3] [--work-dir DIR] [--train 2000] [--validation 400] \
 *     [--epochs 20] [--lr 0.003] [--batch-size 64] [--hidden-units 32,32] [--seed 1]
 *
 * Needs PyTorch for that Python (Debian: apt-get install -y --no-install-recommends
 * python3-torch python3-onnx, then --python /usr/bin/python3, the default). Run it again with the
 * same --work-dir and more --epochs: it resumes from the checkpoints in <work-dir>/checkpoints.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { METRIC_DEFINITIONS, TRAIN_SCRIPT, writeChannel } from './hearing-dataset';
import { runLocalTraining } from './local-training';

const HYPERPARAMETERS = ['epochs', 'lr', 'batch-size', 'hidden-units', 'seed'];

async function main(argv: string[]): Promise<number> {
  const args: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) {
      console.error(`unexpected argument ${argv[i]}: expected --name value pairs (see the header of ${__filename})`);
      return 2;
    }
    args[argv[i].slice(2)] = argv[i + 1];
  }
  const workDir = path.resolve(args['work-dir'] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'hearing-training-')));
  const datasetDir = path.join(workDir, 'dataset');
  if (!fs.existsSync(datasetDir)) {
    writeChannel(path.join(datasetDir, 'train'), { seed: 1, count: Number(args.train ?? 2000), forms: ['relative-ref', 'inline-source'] });
    writeChannel(path.join(datasetDir, 'validation'), { seed: 2, count: Number(args.validation ?? 400), forms: ['inline-source'] });
  }
  const hyperparameters = Object.fromEntries(HYPERPARAMETERS.filter((k) => args[k] !== undefined).map((k) => [k, args[k]]));
  const result = await runLocalTraining({
    command: [args.python ?? '/usr/bin/python3', TRAIN_SCRIPT],
    channels: { train: path.join(datasetDir, 'train'), validation: path.join(datasetDir, 'validation') },
    hyperparameters,
    metricDefinitions: METRIC_DEFINITIONS,
    workDir: path.join(workDir, 'opt-ml'),
    checkpointDir: path.join(workDir, 'checkpoints'),
  });
  console.log(JSON.stringify({
    exitCode: result.exitCode,
    failureReason: result.failureReason,
    durationMs: result.durationMs,
    metrics: Object.fromEntries(Object.entries(result.metrics).map(([k, v]) => [k, v.last])),
    modelDir: result.modelDir,
    checkpointDir: result.checkpointDir,
  }, null, 2));
  return result.exitCode;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
  console.error(e);
  process.exit(1);
});
