// Write the ```ts block(s) of the README's "Quick start" section to a file, as a user would copy
// them (the Python block is extracted by python-tests/readme_quickstart.py).
//
//   node readme-quickstart.js README.md app.ts
const fs = require('node:fs');

const [readmePath, outPath] = process.argv.slice(2);
if (!readmePath || !outPath) {
  console.error('usage: node readme-quickstart.js README.md OUT.ts');
  process.exit(2);
}
const lines = fs.readFileSync(readmePath, 'utf8').split('\n');
const start = lines.findIndex((l) => /^#{1,6}\s+quick start\s*$/i.test(l));
if (start < 0) {
  console.error('readme-quickstart: no "Quick start" heading in the README');
  process.exit(1);
}
const level = /^(#+)/.exec(lines[start])[1].length;
const blocks = [];
let fence;
for (const line of lines.slice(start + 1)) {
  if (!fence) {
    const heading = /^(#{1,6})\s/.exec(line);
    if (heading && heading[1].length <= level) break;
    const m = /^(`{3,}|~{3,})\s*([\w+-]*)/.exec(line);
    if (m) fence = { marker: m[1], ts: ['ts', 'typescript'].includes(m[2].toLowerCase()), body: [] };
  } else if (line.trim() === fence.marker) {
    if (fence.ts) blocks.push(fence.body.join('\n'));
    fence = undefined;
  } else {
    fence.body.push(line);
  }
}
if (blocks.length === 0) {
  console.error('readme-quickstart: the "Quick start" section has no ```ts block');
  process.exit(1);
}
fs.writeFileSync(outPath, `${blocks.join('\n')}\n`);
console.log(`readme-quickstart: ${blocks.length} ts block(s), ${blocks.join('\n').split('\n').length} lines -> ${outPath}`);
