/**
 * Jest environment for tests that run onnxruntime-node in-process.
 *
 * Jest runs each test file in its own V8 context, with its own typed-array constructors. The
 * native binding of onnxruntime-node creates output data with the constructors of the main
 * context, and onnxruntime-common's Tensor checks `data instanceof Float32Array` against the
 * test context's: every `session.run` fails with "A float32 tensor's data must be type of
 * function Float32Array()". In Lambda (one context) this cannot happen. The fix: give the test
 * context the main context's typed arrays. Select it per file with a docblock:
 *
 *   /** @jest-environment ./test/serverless-model-endpoint/ort-environment.js *\/
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = OrtEnvironment;
