/**
 * onnxruntime-node as the model endpoint ships it, pinned: the npm registry's `dist.integrity` of
 * each package's tarball at ONNXRUNTIME_VERSION (`npm view onnxruntime-node@1.30.0 dist.integrity`),
 * and the SHA-256 of every file the endpoint's package takes from it (the JavaScript of `dist/`,
 * `package.json`, and the Linux binaries of both architectures).
 *
 * The file hashes were computed from the registry tarballs after checking their sha512 against
 * `integrity` (npm pack, then tar). A test recomputes them from the project's node_modules, whose
 * package-lock integrity must equal `integrity`. To move to another release: change the version,
 * `npm pack --ignore-scripts onnxruntime-node@<v> onnxruntime-common@<v>`, check each tarball's
 * sha512 against `npm view <pkg>@<v> dist.integrity`, extract them and rewrite this table from the
 * extracted files (the test prints what differs).
 *
 * @internal
 */
export const ONNXRUNTIME_VERSION = '1.30.0';

/** @internal */
export interface PinnedPackage {
  /** The registry tarball's integrity (SRI, sha512). */
  readonly integrity: string;
  /** SHA-256 (hex) of each file the endpoint ships, by path inside the package. */
  readonly files: Readonly<Record<string, string>>;
}

/** @internal */
export const ONNXRUNTIME_PACKAGES: Readonly<Record<'onnxruntime-node' | 'onnxruntime-common', PinnedPackage>> = {
  'onnxruntime-node': {
    integrity: 'sha512-twhs1C2C/BFkz1yc5OY0KIU2GUq6DURO7hD4bx5Q2Qy3nAMJwRXW8xU3NVczE29VA9lolLOYepoD8fjTGOfIqw==',
    files: {
      'bin/napi-v6/linux/arm64/libonnxruntime.so.1': '1f549d46250b005580b597f4164984aaf75b3bcb9f3aeb07c7f8a8fe60b23c76',
      'bin/napi-v6/linux/arm64/onnxruntime_binding.node': 'afec78dc11d38dc81605b068cefe1fc73ffe77ca240c15468aa40786150beac8',
      'bin/napi-v6/linux/x64/libonnxruntime.so.1': 'ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23',
      'bin/napi-v6/linux/x64/onnxruntime_binding.node': 'ccdc60b981d93a490cf9513d3f583547252b6e285b72988a96a494f2f006c7b8',
      'dist/backend.js': 'a79e8019e7276a282987023f9d38d41063a99e563e5e1a6f38a73a7d39ea83ab',
      'dist/binding.js': '2a85ac5de943c7222aae5ca2897f52d73891f528d4295b701fab077470c668c0',
      'dist/index.js': '019eb02133b94b1f7fdf2d89eb93b590ce1288d271f7b280647fb3978e6391fa',
      'dist/version.js': '0a1a7f532f4455ead0678966815c3114730150aa4368ebb5ebd9727425e9003b',
      'package.json': '0871cd56ac2b9c9dfc834c7eabba819e5d4f966f005388515abb3402b14e0874',
    },
  },
  'onnxruntime-common': {
    integrity: 'sha512-7fdVWjAID1dVhH/G8qK3APARunV4VkBFoCQAP7qp4Wkab0mrorvmc+sqiT+mKXOzDqdjN5j+/Z9nb4gzNPWcyA==',
    files: {
      'dist/cjs/backend-impl.js': '3d25321895995f7e9480570b9a88f121049adf152e1829d0ecb11218da02d487',
      'dist/cjs/backend.js': '325aaee7a2649ea27629666f3ca01c0d80b9751e704ce502e43a8352390749b4',
      'dist/cjs/env-impl.js': '35cd8cac33973538eab471b68622c86c35a6896f4307d1a74c9ca0eda7abbac6',
      'dist/cjs/env.js': '22c7647f8ca1c1b83b437a92b95fee1457fcb72866fa029616b8f146dc609be8',
      'dist/cjs/index.js': 'd7dd6cc9790e87299099fcd1b0ccb4969c01591d7eec0383a1c64dbea133dd1a',
      'dist/cjs/inference-session-impl.js': '88d90723a169297855ad3b564b134c6b685b2661316c81f71fc80da1e203bae0',
      'dist/cjs/inference-session.js': '458be26f316c5068d32a56ddbc30ca0aa687c636e079b3d161a69f0f14a683f1',
      'dist/cjs/onnx-model.js': '667f5fdac4b6df25e17f8a864d4dc619507f541f9fa0aafb6d3572fcca1e25e5',
      'dist/cjs/onnx-value.js': '8446854766f4955ce438a7338216f49223767ecc508bb502b73a3dc1a1f1998e',
      'dist/cjs/package.json': '091a04fa67c7907b98e106fcff8b964e13129754fce72d24f3025b97c4887fa3',
      'dist/cjs/tensor-conversion-impl.js': '9815e72c0bb91896035de93b3113a2256a1a998bc53c7b5e6bf5fb4e93714766',
      'dist/cjs/tensor-conversion.js': '28cc462d4a9ea556ecc86c0e6d16a51d61b58d5bc5b4b7b48976b14bc8035bdc',
      'dist/cjs/tensor-factory-impl.js': 'a3204838a2c14416e4e61c968dc17c663ab3c9b8b2c4a8b7f2a1c5b06e3e5173',
      'dist/cjs/tensor-factory.js': '13b8d735350b828a49bda8aeec50b1dac888cf42268006efc4312f50a88b6906',
      'dist/cjs/tensor-impl-type-mapping.js': '333110edbbffdb7575ea340cb341bcaf691862d6594a649db28097f7d8cb19b7',
      'dist/cjs/tensor-impl.js': '11645352ba5d08971344717d3339f86aac560f84f29229b2ebe07f1ec8aa8905',
      'dist/cjs/tensor-utils-impl.js': 'e7b1db989d33d54bdd1807b080a0989ff0b10d5f7dd8c93b92bbf293103aa4d5',
      'dist/cjs/tensor-utils.js': 'd3f577e90dc2257c72ac728e5e6355c34af0342d971158d9f22b69d22aa97b8d',
      'dist/cjs/tensor.js': '9097114de356750f36f28776fa6ccd08d13694f0f9aac9e7669c30b6c43153f7',
      'dist/cjs/trace.js': 'faecd0df94998d786e2085d56aa6003449f1ac3b35c350e0d2762498604e5d72',
      'dist/cjs/type-helper.js': '7f786da8d2a611ad751c70a74edf4d9acfccd26be8e5c6b1cb730f982892bf32',
      'dist/cjs/version.js': '0a1a7f532f4455ead0678966815c3114730150aa4368ebb5ebd9727425e9003b',
      'dist/esm/backend-impl.js': '97dd81b055a06f61120f09468fe59f046a9262b7b87bf5d05bceb085bf4f5558',
      'dist/esm/backend.js': '017ce2ec9dc2021ebc1ef2c4f04e1bc74276c65921b0297e7ed8cc16e640495b',
      'dist/esm/env-impl.js': '0da4c562a49fe147e19320a64cbb456184eb0e6242b1fe69c65c8368c55f3d97',
      'dist/esm/env.js': 'b2bbd3d3b00a95765713c57cd0f5ef73718ae5b8322e07cb47a43e2accb21f15',
      'dist/esm/index.js': 'ad23f6d6ce2c99c449031f24a5181f259516c64a9a67428c98a8539b857729bd',
      'dist/esm/inference-session-impl.js': '0446814a392c147b5c38ba242d9911ee54002b5d01a8e19fb4895fb8f8a0cdd3',
      'dist/esm/inference-session.js': '3ad4271a88edb3d242dc1e0e7bbf66510f9a56eff874c433b3b37f900ac007b1',
      'dist/esm/onnx-model.js': '9e9dc8678be0ea04575a542894508db355a4f9f2155ac7f4c17a697c5f843382',
      'dist/esm/onnx-value.js': '33dc232498753fc9026dfa44c99440cb1a6d29f3e53e1ad2fb8b696705158f06',
      'dist/esm/package.json': 'e3d5a4a2d8551aa52c5a01d2a0efb2e06a2d9711b4f5c5f1d20de6e21807e2cd',
      'dist/esm/tensor-conversion-impl.js': 'df6fa3cd1813c2d3e588cc07973cfe5ea2ab8647c957168200caa58e51440161',
      'dist/esm/tensor-conversion.js': '8c43ec1d061ab71032a1b28f45d85ef95f8d7bd2d4cd71d059e96d83e3a8f422',
      'dist/esm/tensor-factory-impl.js': 'cf5606fe23461e01bff59c2d72ac47d74e652548718f1e5fab07a22b441379b4',
      'dist/esm/tensor-factory.js': '68b9f4f4573f25012ce8a4f73c9a2cee3a28db91de8bbb0a20ddb08bcba33c4b',
      'dist/esm/tensor-impl-type-mapping.js': '20bd5ddb858954cf071bace6c7a6628c8e311433798ec172f4c778bebd81d407',
      'dist/esm/tensor-impl.js': '6a749be63055f9d21069566b1515412484a3a03448ca20427c8f8d29328a2843',
      'dist/esm/tensor-utils-impl.js': '87d3e07c153616138c2f57846545eea9c47957c714d50c0264696bdc293e6732',
      'dist/esm/tensor-utils.js': '7acfdb2f8403ae84b7ae62d55d6eeb01519108be8874337b317b911ed60190cd',
      'dist/esm/tensor.js': '721d24a538de5333057bfc423bc00c3453a1c483f4495c857d0a6f9b8f2d330e',
      'dist/esm/trace.js': '9b87e6309a1c502b03558aa94b0a65c8ea1e8eb59cb46090f54f6eacd191b841',
      'dist/esm/type-helper.js': '3e2588c6a5ee7b9755e199eef10c6aa2e777d0366ea47d27953657a5638deeae',
      'dist/esm/version.js': '71c36bdc106472438d3f6c865c0e7ffd0f957524dceb0750738c451098c5ef13',
      'package.json': '4266741a80346e25820ccc494fbffb95e2f652b6dfb5585025be44df3b0d6722',
    },
  },
};
