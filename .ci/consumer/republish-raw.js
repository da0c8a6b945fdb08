// Publish a tarball to an npm registry with a raw PUT (the request `npm publish` sends), to see the
// registry itself answer a second publish of the same version (npm 11 refuses on the client side
// before it sends anything). Prints the status and the registry's message; exits 0 only when the
// registry refuses with 403 or 409.
//
//   node republish-raw.js REGISTRY_URL TOKEN TARBALL
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

const [registry, token, tgz] = process.argv.slice(2);
const data = fs.readFileSync(tgz);
const manifest = JSON.parse(execFileSync('tar', ['-xOzf', tgz, 'package/package.json'], { encoding: 'utf8' }));
const file = `${manifest.name}-${manifest.version}.tgz`;
const body = {
  _id: manifest.name,
  name: manifest.name,
  'dist-tags': { latest: manifest.version },
  versions: {
    [manifest.version]: {
      ...manifest,
      _id: `${manifest.name}@${manifest.version}`,
      dist: {
        shasum: crypto.createHash('sha1').update(data).digest('hex'),
        integrity: `sha512-${crypto.createHash('sha512').update(data).digest('base64')}`,
        tarball: `${registry}${manifest.name}/-/${file}`,
      },
    },
  },
  _attachments: { [file]: { content_type: 'application/octet-stream', data: data.toString('base64'), length: data.length } },
};
fetch(`${registry}${encodeURIComponent(manifest.name)}`, {
  method: 'PUT',
  headers: { 'content-type': 'application/json', 'authorization': `Bearer ${token}` },
  body: JSON.stringify(body),
}).then(async (res) => {
  const text = (await res.text()).slice(0, 300);
  console.log(`HTTP ${res.status}: ${text}`);
  process.exit(res.status === 403 || res.status === 409 ? 0 : 1);
}, (e) => {
  console.log(`request failed: ${e.message}`);
  process.exit(1);
});
