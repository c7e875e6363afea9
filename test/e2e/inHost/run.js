// Inside the extension host: runs the *.inhost.ts files with mocha (from this repository's
// node_modules) and writes the outcome to a file the outside test reads.
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..', '..', '..');

exports.run = async function run({ results, folder }) {
  require(path.join(ROOT, 'node_modules', 'ts-node')).register({ transpileOnly: true, project: path.join(ROOT, 'tsconfig.json') });
  const Mocha = require(path.join(ROOT, 'node_modules', 'mocha'));
  process.env.REWIND_INHOST_FOLDER = folder;
  const mocha = new Mocha({ timeout: 120000, reporter: function Collect(runner) {
    const lines = [];
    let passed = 0;
    let failed = 0;
    runner.on('pass', (t) => { passed++; lines.push(`✔ ${t.fullTitle()}`); });
    runner.on('fail', (t, err) => { failed++; lines.push(`✘ ${t.fullTitle()}: ${String(err && err.message).split('\n').join(' ')}`); });
    runner.on('end', () => {
      fs.writeFileSync(results, JSON.stringify({ passed, failed, lines }));
      for (const l of lines) console.log(`[rewind-inhost] ${l}`);
    });
  } });
  for (const f of fs.readdirSync(__dirname).filter((f) => f.endsWith('.inhost.ts')).sort()) mocha.addFile(path.join(__dirname, f));
  await new Promise((resolve, reject) => mocha.run((failures) => (failures ? reject(new Error(`${failures} in-host tests failed`)) : resolve())));
};
