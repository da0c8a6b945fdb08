#!/usr/bin/env python3
"""Train the hearing-test WHO-grade classifier under SageMaker's training container contract.

The same script runs in a SageMaker training job (the Dockerfile beside it) and on a developer's
machine through the local-mode runner (examples/training/local-training.ts), with torch
1.13 (Debian's python3-torch) or newer.

Paths (SageMaker's contract, docs/formats.md). Every path is taken from its SageMaker
environment variable when set, else from the root OPT_ML (default /opt/ml; the local runner points
it at a work directory because /opt/ml itself is usually not writable there):
  channels         SM_CHANNEL_<NAME>      else $OPT_ML/input/data/<name>
  hyperparameters  SM_INPUT_CONFIG_DIR    else $OPT_ML/input/config   (hyperparameters.json)
  model            SM_MODEL_DIR           else $OPT_ML/model
  output data      SM_OUTPUT_DATA_DIR     else $OPT_ML/output/data
  failure reason   SM_OUTPUT_DIR/failure  else $OPT_ML/output/failure
  checkpoints      SM_CHECKPOINT_DIR      else $OPT_ML/checkpoints    (SageMaker syncs it with S3)
SM_CHECKPOINT_DIR is not set by SageMaker (CheckpointConfig.LocalPath defaults to
/opt/ml/checkpoints); the local runner sets it.

Channels: `train` (alias `training`, required) and `validation` (optional). A channel directory
holds one or more augmented-manifest files (`*.manifest` or `*.jsonl`, JSON Lines, at the top level
of the channel) in the format of docs/formats.md. SageMaker accepts the AugmentedManifestFile data type
only in Pipe mode, so in File mode the channel is an S3 prefix (S3Prefix) holding the manifest and,
where it references them, the clean records. Each line carries the label under the label attribute
(hyperparameter `label-attribute`, default `who-grade`: an integer 0..6, or the class name in
`<attribute>-metadata.class-name`) and the record, in one of these forms (first match wins):
  "features": [12 numbers]          already scaled, in the order of model.json's features.order
  "source": {...} or "..."          the clean record inline (an object, or a JSON string of it)
  "source-ref": "file:///abs/rec.json" | "records/rec.json" (relative to the channel directory)
              | "s3://bucket/key"   read from <channel>/<key>, else <channel>/<bucket>/<key>
A clean record holds `thresholds.left` and `thresholds.right`, each mapping the frequencies
250..8000 Hz to dB HL (docs/formats.md); features are (dB HL - 50) / 50, left then right.

Hyperparameters (all strings, from hyperparameters.json, then SM_HPS, then `--name value`
arguments; SageMaker starts a bring-your-own container as `<entrypoint> train`, which is ignored):
  epochs (20), lr (0.003), batch-size (64), seed (1), hidden-units ("32,32": widths of the
  hidden layers), label-smoothing (0.05), label-attribute (who-grade), class-names (a JSON array
  of the 7 class names in label order, as the endpoint names them; default the WHO grade names),
  model-version
  (default: hearing-who-grade@<TRAINING_JOB_NAME or local>), num-threads (0: torch's default).

Metric lines (one per epoch; parse them with the regexes of metric-definitions.json):
  epoch=3 train_loss=0.1234 train_accuracy=0.9512 validation_loss=0.1301 validation_accuracy=0.9476

Checkpoints: after every epoch, `checkpoint-epoch-<NNNN>.pt` (written atomically; the two newest
are kept). On start the newest is loaded and training continues at the next epoch. On SIGTERM
(spot interruption, StopTrainingJob, MaxRuntime) the running epoch stops at the next batch, the
weights are checkpointed as an interrupted epoch (re-run from its start on resume, with the same
shuffling), and the script exits with 143.

Outputs: `model.onnx` (opset 17, input `features` float32 [batch, 12], output `logits` float32
[batch, 7], dynamic batch axis), `baseline.json` and `model.json` (metadata, the format of
test/fixtures/models/model.json, written last) in the model directory; `metrics.json` (per-epoch
history) in the output data directory. On failure, the reason goes to the failure file and the exit
code is 1.

Drift baseline: `baseline.json` is the model's drift baseline (drift_baseline.py beside this
script, schema version 1, the document the library's ModelMonitor reads): per-feature statistics of
the training split's feature vectors (scaled, in features.order, the float64 values before the
float32 cast, as a client computes them), the model's predicted class names on the validation and
training splits (the class mix) with the true classes of the validation split beside its own (the
baseline accuracy; on the training split when there is no validation channel). Its `modelSha256` is model.onnx's SHA-256; model.json names it under
`baseline` (`file`, `sha256` of its bytes). It is one line of compact JSON, byte for byte the
library's `JSON.stringify(computeBaseline(...))` for the same input, and a newline: the bytes the
GpuTrainingJob publishes to monitoring/baselines/<modelSha256>.json, so the SHA-256 is the same there.
"""
import glob
import hashlib
import inspect
import json
import math
import os
import signal
import sys
import time
import traceback
from urllib.parse import unquote, urlparse

import torch
from torch import nn

import drift_baseline

MODEL_NAME = 'hearing-who-grade'
ONNX_FILE = 'model.onnx'
BASELINE_FILE = 'baseline.json'
OPSET = 17
FREQUENCIES = ['250', '500', '1000', '2000', '4000', '8000']
EARS = ['left', 'right']
FEATURE_ORDER = [f'{ear}.{f}' for ear in EARS for f in FREQUENCIES]
CLASS_NAMES = ['normal', 'mild', 'moderate', 'moderately severe', 'severe', 'profound', 'complete']
OFFSET_DB = 50.0
DIVISOR_DB = 50.0
MIN_DB, MAX_DB = -10.0, 120.0
MANIFEST_PATTERNS = ('*.manifest', '*.jsonl')
CHECKPOINT_PREFIX = 'checkpoint-epoch-'
KEEP_CHECKPOINTS = 2
FAILURE_MAX_CHARS = 1024  # SageMaker's FailureReason is at most 1024 characters
EXIT_SIGTERM = 143

DEFAULTS = {
    'epochs': '20',
    'lr': '0.003',
    'batch-size': '64',
    'seed': '1',
    'hidden-units': '32,32',
    'label-smoothing': '0.05',
    'label-attribute': 'who-grade',
    'model-version': '',
    'num-threads': '0',
    'class-names': '',
}


class TrainingError(Exception):
    """An expected failure: its message is the failure reason (no record values in it)."""


class Stopped(Exception):
    """SIGTERM received."""


# ---------------------------------------------------------------------------------------------
# Paths and configuration


def opt_ml(*parts):
    return os.path.join(os.environ.get('OPT_ML', '/opt/ml'), *parts)


def env_path(name, *default_parts):
    value = os.environ.get(name)
    return value if value else opt_ml(*default_parts)


def paths():
    output_dir = env_path('SM_OUTPUT_DIR', 'output')
    return {
        'config': env_path('SM_INPUT_CONFIG_DIR', 'input', 'config'),
        'model': env_path('SM_MODEL_DIR', 'model'),
        'output_data': env_path('SM_OUTPUT_DATA_DIR', 'output', 'data'),
        'failure': os.path.join(output_dir, 'failure'),
        'checkpoints': env_path('SM_CHECKPOINT_DIR', 'checkpoints'),
    }


def channel_dir(name):
    value = os.environ.get('SM_CHANNEL_' + name.upper().replace('-', '_'))
    return value if value else opt_ml('input', 'data', name)


def parse_cli(argv):
    """`--name value` pairs (SageMaker's framework containers pass hyperparameters so); `train` ignored."""
    result = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == 'train' and i == 0:
            i += 1
            continue
        if not arg.startswith('--') or i + 1 >= len(argv):
            raise TrainingError(f'unexpected argument {arg!r}: expected `--name value` pairs')
        result[arg[2:]] = argv[i + 1]
        i += 2
    return result


def load_hyperparameters(config_dir, argv):
    hps = dict(DEFAULTS)
    file = os.path.join(config_dir, 'hyperparameters.json')
    if os.path.isfile(file):
        with open(file) as f:
            hps.update({k: str(v) for k, v in json.load(f).items()})
    elif os.environ.get('SM_HPS'):
        hps.update({k: str(v) for k, v in json.loads(os.environ['SM_HPS']).items()})
    hps.update(parse_cli(argv))
    return hps


def typed(hps):
    def number(name, cast, minimum):
        raw = hps[name]
        try:
            value = cast(raw)
        except ValueError:
            raise TrainingError(f"hyperparameter {name} must be {'an integer' if cast is int else 'a number'}, got {raw!r}")
        if not math.isfinite(value) or value < minimum:
            raise TrainingError(f'hyperparameter {name} must be at least {minimum}, got {raw!r}')
        return value
    try:
        hidden = [int(x) for x in hps['hidden-units'].split(',') if x.strip()]
    except ValueError:
        hidden = []
    if not hidden or any(h < 1 for h in hidden):
        raise TrainingError(f"hyperparameter hidden-units must be comma-separated positive integers, got {hps['hidden-units']!r}")
    smoothing = number('label-smoothing', float, 0.0)
    if smoothing >= 1:
        raise TrainingError(f"hyperparameter label-smoothing must be below 1, got {hps['label-smoothing']!r}")
    return {
        'epochs': number('epochs', int, 1),
        'lr': number('lr', float, 0.0),
        'batch_size': number('batch-size', int, 1),
        'seed': number('seed', int, 0),
        'hidden': hidden,
        'label_smoothing': smoothing,
        'label_attribute': hps['label-attribute'],
        'num_threads': number('num-threads', int, 0),
        'model_version': hps['model-version'] or f"{MODEL_NAME}@{os.environ.get('TRAINING_JOB_NAME', 'local')}",
        'class_names': class_names(hps['class-names']),
    }


def class_names(raw):
    """The names of the 7 classes, in label order: the endpoint's CLASS_NAMES, so that the predicted
    classes of the drift baseline and of the endpoint's captures are the same strings."""
    if not raw:
        return list(CLASS_NAMES)
    try:
        names = json.loads(raw)
    except ValueError:
        names = None
    if not isinstance(names, list) or len(names) != len(CLASS_NAMES) or not all(isinstance(n, str) and n for n in names) \
            or len(set(names)) != len(names):
        raise TrainingError(f'hyperparameter class-names must be a JSON array of {len(CLASS_NAMES)} distinct names, got {raw!r}')
    return names


# ---------------------------------------------------------------------------------------------
# Data


def features_of_record(record):
    thresholds = record.get('thresholds') if isinstance(record, dict) else None
    if not isinstance(thresholds, dict):
        raise ValueError('the record has no thresholds object')
    values = []
    for ear in EARS:
        side = thresholds.get(ear)
        if not isinstance(side, dict):
            raise ValueError(f'the record has no thresholds.{ear}')
        for f in FREQUENCIES:
            v = side.get(f)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not MIN_DB <= v <= MAX_DB:
                raise ValueError(f'thresholds.{ear}.{f} is missing or outside {MIN_DB:g}..{MAX_DB:g} dB HL')
            values.append((float(v) - OFFSET_DB) / DIVISOR_DB)
    return values


def resolve_ref(ref, channel):
    url = urlparse(ref)
    if url.scheme == 'file':
        return unquote(url.path)
    if url.scheme == 's3':
        key = unquote(url.path.lstrip('/'))
        for candidate in (os.path.join(channel, key), os.path.join(channel, url.netloc, key)):
            if os.path.isfile(candidate):
                return candidate
        raise ValueError(f'source-ref {ref} is not in the channel (looked for <channel>/{key} and <channel>/{url.netloc}/{key})')
    if url.scheme:
        raise ValueError(f'source-ref scheme {url.scheme}: is not supported (file://, s3:// or a path relative to the channel)')
    return ref if os.path.isabs(ref) else os.path.join(channel, ref)


def label_of(line, attribute):
    value = line.get(attribute)
    if isinstance(value, bool):
        value = None
    if isinstance(value, str) and value.strip().lstrip('-').isdigit():
        value = int(value)
    if isinstance(value, (int, float)) and float(value).is_integer() and 0 <= int(value) < len(CLASS_NAMES):
        return int(value)
    meta = line.get(f'{attribute}-metadata')
    name = meta.get('class-name', meta.get('class_name')) if isinstance(meta, dict) else None
    if name in CLASS_NAMES:
        return CLASS_NAMES.index(name)
    raise ValueError(f'no label 0..{len(CLASS_NAMES) - 1} under "{attribute}" (nor a known class-name in "{attribute}-metadata")')


def features_of_line(line, channel):
    if 'features' in line:
        values = line['features']
        if not isinstance(values, list) or len(values) != len(FEATURE_ORDER) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
            raise ValueError(f'"features" must be a list of {len(FEATURE_ORDER)} finite numbers')
        return [float(v) for v in values]
    if 'source' in line:
        source = line['source']
        if isinstance(source, str):
            try:
                source = json.loads(source)
            except ValueError:
                raise ValueError('"source" is a string that is not a JSON record')
        return features_of_record(source)
    if 'source-ref' in line:
        path = resolve_ref(str(line['source-ref']), channel)
        try:
            with open(path, encoding='utf-8') as f:
                record = json.load(f)
        except FileNotFoundError:
            raise ValueError(f'source-ref {line["source-ref"]} does not exist')
        except ValueError:
            raise ValueError(f'source-ref {line["source-ref"]} is not valid JSON')
        return features_of_record(record)
    raise ValueError('the line has none of "features", "source", "source-ref"')


def load_channel(name, attribute, required):
    """(feature vectors, labels) as Python lists (float64 features), or None for a missing optional channel."""
    channel = channel_dir(name)
    if not os.path.isdir(channel):
        if required:
            raise TrainingError(f'channel {name} is missing: {channel} is not a directory')
        return None
    files = sorted(f for p in MANIFEST_PATTERNS for f in glob.glob(os.path.join(channel, p)) if os.path.isfile(f))
    if not files:
        raise TrainingError(f'channel {name} has no manifest: no {" or ".join(MANIFEST_PATTERNS)} file in {channel}')
    xs, ys = [], []
    for file in files:
        with open(file, encoding='utf-8') as f:
            for number, text in enumerate(f, start=1):
                if not text.strip():
                    continue
                where = f'channel {name}, {os.path.basename(file)} line {number}'
                try:
                    line = json.loads(text)
                    if not isinstance(line, dict):
                        raise ValueError('the line is not a JSON object')
                    xs.append(features_of_line(line, channel))
                    ys.append(label_of(line, attribute))
                except ValueError as e:
                    # json's messages name positions, never values: the reason stays free of record data
                    raise TrainingError(f'{where}: {e}')
    if not xs:
        raise TrainingError(f'channel {name} has no records: its manifest files ({len(files)}) hold no lines')
    return xs, ys


def tensors(split):
    return torch.tensor(split[0], dtype=torch.float32), torch.tensor(split[1], dtype=torch.int64)


# ---------------------------------------------------------------------------------------------
# Model, checkpoints, export


def build_model(hidden):
    layers, width = [], len(FEATURE_ORDER)
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, len(CLASS_NAMES)))
    return nn.Sequential(*layers)


def list_checkpoints(directory):
    """Oldest first: by epoch, an interrupted checkpoint (saved later) after the regular one."""
    def key(path):
        name = os.path.basename(path)[len(CHECKPOINT_PREFIX):-len('.pt')]
        epoch, _, interrupted = name.partition('-')
        return (int(epoch) if epoch.isdigit() else -1, interrupted == 'interrupted')
    return sorted(glob.glob(os.path.join(directory, CHECKPOINT_PREFIX + '*.pt')), key=key)


def save_checkpoint(directory, state):
    os.makedirs(directory, exist_ok=True)
    name = f"{CHECKPOINT_PREFIX}{state['epoch']:04d}{'-interrupted' if state['interrupted'] else ''}.pt"
    tmp = os.path.join(directory, '.' + name + '.tmp')
    torch.save(pack_checkpoint(state), tmp)
    os.replace(tmp, os.path.join(directory, name))
    for old in list_checkpoints(directory)[:-KEEP_CHECKPOINTS]:
        os.remove(old)
    return name


def pack_checkpoint(state):
    """Tensors as tensors, everything else as one JSON string: loadable with weights_only on every torch."""
    optimizer = state['optimizer']
    meta = {k: v for k, v in state.items() if k not in ('model', 'optimizer', 'generator')}
    meta['optimizer_param_groups'] = optimizer['param_groups']
    return {'meta': json.dumps(meta), 'model': state['model'], 'optimizer_state': optimizer['state'],
            'generator': state['generator']}


def load_checkpoint(path):
    try:
        packed = torch.load(path, map_location='cpu', weights_only=True)
    except TypeError:  # a torch without weights_only
        packed = torch.load(path, map_location='cpu')
    state = json.loads(packed['meta'])
    state['model'] = packed['model']
    state['optimizer'] = {'state': packed['optimizer_state'], 'param_groups': state.pop('optimizer_param_groups')}
    state['generator'] = packed['generator']
    return state


def export_onnx(model, path):
    kwargs = dict(
        input_names=['features'], output_names=['logits'],
        dynamic_axes={'features': {0: 'batch'}, 'logits': {0: 'batch'}},
        opset_version=OPSET, do_constant_folding=True, export_params=True,
    )
    if 'dynamo' in inspect.signature(torch.onnx.export).parameters:
        kwargs['dynamo'] = False  # the TorchScript exporter: the same graph on every torch version
    torch.onnx.export(model, torch.zeros(1, len(FEATURE_ORDER)), path, **kwargs)
    try:
        import onnx
        onnx.checker.check_model(onnx.load(path), full_check=True)
    except ImportError:
        pass


def predicted_classes(model, x, names, batch_size=1024):
    """The class names the model predicts for the rows of x (argmax of the logits)."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            out += [names[int(c)] for c in model(x[i:i + batch_size]).argmax(dim=1)]
    return out


def write_baseline(path, model, model_sha256, train_rows, split, names=CLASS_NAMES, unlabeled=None):
    """Compute the drift baseline (drift_baseline.py) and write it; returns its bytes' SHA-256.

    The predicted classes of `split` (x, y) come with their true classes (the baseline accuracy);
    those of `unlabeled` (x) widen the class mix only, with no true class (None)."""
    x, y = split
    predictions = predicted_classes(model, x, names)
    truths = [names[int(c)] for c in y]
    if unlabeled is not None and len(unlabeled) > 0:
        predictions += predicted_classes(model, unlabeled, names)
        truths += [None] * len(unlabeled)
    document = drift_baseline.compute_baseline(
        model_sha256, [{'name': name} for name in FEATURE_ORDER], train_rows, predictions, truths)
    # JSON.stringify's bytes and a newline: what the GpuTrainingJob publishes to monitoring/baselines/
    data = (drift_baseline.dumps(document) + '\n').encode('utf-8')
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()


def write_json(path, value):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(value, f, indent=2)
        f.write('\n')
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Training


def evaluate(model, x, y, loss_fn, batch_size):
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            logits = model(x[i:i + batch_size])
            total_loss += float(loss_fn(logits, y[i:i + batch_size])) * len(logits)
            correct += int((logits.argmax(dim=1) == y[i:i + batch_size]).sum())
    return total_loss / len(x), correct / len(x)


def train(argv):
    p = paths()
    hp = typed(load_hyperparameters(p['config'], argv))
    stop = {'requested': False}

    def on_sigterm(signum, frame):
        stop['requested'] = True
        print('SIGTERM received: checkpointing and stopping', flush=True)
    signal.signal(signal.SIGTERM, on_sigterm)

    if hp['num_threads']:
        torch.set_num_threads(hp['num_threads'])
    torch.manual_seed(hp['seed'])
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    print(f"torch {torch.__version__} device={device.type} gpus={torch.cuda.device_count()} "
          f"epochs={hp['epochs']} lr={hp['lr']} batch-size={hp['batch_size']} hidden-units={hp['hidden']}", flush=True)

    train_name = 'training' if not os.path.isdir(channel_dir('train')) and os.path.isdir(channel_dir('training')) else 'train'
    if not os.path.isdir(channel_dir(train_name)):
        raise TrainingError(f"channel train is missing: {channel_dir('train')} is not a directory "
                            '(the training channel is named train or training)')
    train_rows, train_labels = load_channel(train_name, hp['label_attribute'], required=True)
    validation_split = load_channel('validation', hp['label_attribute'], required=False)
    x_train, y_train = tensors((train_rows, train_labels))
    validation = tensors(validation_split) if validation_split else None
    print(f"records: train={len(x_train)} validation={len(validation[0]) if validation else 0}", flush=True)
    if stop['requested']:
        raise Stopped()

    model = build_model(hp['hidden'])
    optimizer = torch.optim.Adam(model.parameters(), lr=hp['lr'])
    generator = torch.Generator().manual_seed(hp['seed'])
    history = []
    start_epoch = 1
    checkpoints = list_checkpoints(p['checkpoints'])
    if checkpoints:
        state = load_checkpoint(checkpoints[-1])
        if state.get('hidden') != hp['hidden']:
            raise TrainingError(f"checkpoint {os.path.basename(checkpoints[-1])} has hidden-units {state.get('hidden')}, "
                                f"the hyperparameters ask for {hp['hidden']}: use an empty checkpoint directory")
        model.load_state_dict(state['model'])
        optimizer.load_state_dict(state['optimizer'])
        generator.set_state(state['generator'])
        history = list(state.get('history', []))
        start_epoch = state['epoch'] + 1
        print(f"resuming from checkpoint {os.path.basename(checkpoints[-1])}: completed epochs {state['epoch']}, "
              f"next epoch {start_epoch}", flush=True)
    model.to(device)
    for group in optimizer.state.values():
        for k, v in group.items():
            if torch.is_tensor(v):
                group[k] = v.to(device)
    x_train, y_train = x_train.to(device), y_train.to(device)
    if validation:
        validation = (validation[0].to(device), validation[1].to(device))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=hp['label_smoothing'])

    def checkpoint(epoch, generator_state, interrupted):
        return save_checkpoint(p['checkpoints'], {
            'epoch': epoch, 'interrupted': interrupted, 'hidden': hp['hidden'],
            'model': {k: v.detach().cpu() for k, v in model.state_dict().items()},
            'optimizer': optimizer.state_dict(), 'generator': generator_state, 'history': history,
        })

    for epoch in range(start_epoch, hp['epochs'] + 1):
        epoch_start_generator = generator.get_state()
        model.train()
        order = torch.randperm(len(x_train), generator=generator).to(device)
        total_loss, correct, seen = 0.0, 0, 0
        for i in range(0, len(order), hp['batch_size']):
            if stop['requested']:
                name = checkpoint(epoch - 1, epoch_start_generator, interrupted=True)
                print(f'stopped during epoch {epoch}: saved {name}; a resumed run repeats epoch {epoch}', flush=True)
                raise Stopped()
            idx = order[i:i + hp['batch_size']]
            optimizer.zero_grad()
            logits = model(x_train[idx])
            loss = loss_fn(logits, y_train[idx])
            loss.backward()
            optimizer.step()
            total_loss += float(loss) * len(idx)
            correct += int((logits.argmax(dim=1) == y_train[idx]).sum())
            seen += len(idx)
        if not math.isfinite(total_loss):
            raise TrainingError(f'the training loss diverged in epoch {epoch}: lower lr (now {hp["lr"]})')
        row = {'epoch': epoch, 'train_loss': total_loss / seen, 'train_accuracy': correct / seen}
        line = f"epoch={epoch} train_loss={row['train_loss']:.4f} train_accuracy={row['train_accuracy']:.4f}"
        if validation:
            row['validation_loss'], row['validation_accuracy'] = evaluate(model, *validation, loss_fn, 1024)
            line += f" validation_loss={row['validation_loss']:.4f} validation_accuracy={row['validation_accuracy']:.4f}"
        history.append(row)
        print(line, flush=True)
        checkpoint(epoch, generator.get_state(), interrupted=False)
        if stop['requested']:
            print(f'stopped after epoch {epoch}: checkpoint saved', flush=True)
            raise Stopped()

    model.eval()
    model.cpu()
    os.makedirs(p['model'], exist_ok=True)
    onnx_path = os.path.join(p['model'], ONNX_FILE)
    export_onnx(model, onnx_path)
    with open(onnx_path, 'rb') as f:
        onnx_bytes = f.read()
    onnx_sha256 = hashlib.sha256(onnx_bytes).hexdigest()
    # The baseline's predictions: the accuracy on the validation split (else, without a validation
    # channel, on the training split); the class mix over the validation and training splits. A
    # validation split of a few dozen people alone gives a class mix that later traffic of the same
    # people differs from by a Jensen-Shannon distance of 0.15 to 0.25 (measured), which a drift
    # test flags; the training split adds the people the model was fitted on.
    split_name = 'validation' if validation else 'train'
    split = (validation[0].cpu(), validation[1].cpu()) if validation else (x_train.cpu(), y_train.cpu())
    unlabeled = x_train.cpu() if validation else None
    baseline_sha256 = write_baseline(os.path.join(p['model'], BASELINE_FILE), model, onnx_sha256, train_rows, split, hp['class_names'], unlabeled)
    print(f"wrote {BASELINE_FILE}: {len(FEATURE_ORDER)} features of {len(train_rows)} training records, "
          f"accuracy on the {split_name} split ({len(split[0])}), class mix over "
          f"{len(split[0]) + (len(unlabeled) if unlabeled is not None else 0)} predictions", flush=True)
    final = history[-1] if history else {}
    metadata = {
        'name': MODEL_NAME,
        'version': hp['model_version'],
        'file': ONNX_FILE,
        'sha256': onnx_sha256,
        'bytes': len(onnx_bytes),
        'opset': OPSET,
        'inputs': [{'name': 'features', 'type': 'float32', 'shape': ['batch', len(FEATURE_ORDER)]}],
        'outputs': [{'name': 'logits', 'type': 'float32', 'shape': ['batch', len(CLASS_NAMES)]}],
        'classNames': hp['class_names'],
        'features': {
            'order': FEATURE_ORDER,
            'unit': 'dB HL',
            'scaling': {'offset': OFFSET_DB, 'divisor': DIVISOR_DB, 'formula': '(dB HL - offset) / divisor'},
        },
        'training': {
            'data': 'augmented manifests of hearing-test records labelled with the WHO 2021 grade',
            'seed': hp['seed'], 'epochs': hp['epochs'], 'samples': len(x_train),
            'hyperparameters': {'lr': hp['lr'], 'batch-size': hp['batch_size'], 'hidden-units': hp['hidden'],
                                'label-smoothing': hp['label_smoothing']},
            'validationAccuracy': final.get('validation_accuracy'),
            'trainLoss': final.get('train_loss'),
        },
        'baseline': {'file': BASELINE_FILE, 'sha256': baseline_sha256},
        'producer': {'torch': torch.__version__, 'script': os.path.basename(__file__)},
    }
    write_json(os.path.join(p['model'], 'model.json'), metadata)
    os.makedirs(p['output_data'], exist_ok=True)
    write_json(os.path.join(p['output_data'], 'metrics.json'), {'history': history})
    print(f"wrote {onnx_path} ({len(onnx_bytes)} bytes), {BASELINE_FILE} and model.json", flush=True)


def write_failure(reason):
    path = paths()['failure']
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(reason[:FAILURE_MAX_CHARS])
    except OSError as e:
        print(f'could not write the failure reason to {path}: {e}', file=sys.stderr, flush=True)


def main(argv):
    started = time.time()
    try:
        train(argv)
    except Stopped:
        print(f'exiting after SIGTERM ({time.time() - started:.1f} s)', flush=True)
        return EXIT_SIGTERM
    except TrainingError as e:
        print(f'training failed: {e}', file=sys.stderr, flush=True)
        write_failure(str(e))
        return 1
    except Exception as e:  # an unexpected error: the type and message, the traceback to the log
        traceback.print_exc()
        write_failure(f'unexpected error: {type(e).__name__}: {e}')
        return 1
    print(f'training finished in {time.time() - started:.1f} s', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
