#!/usr/bin/env node
// `npm run package`: builds the bundles and packs rewind-<version>.vsix with @vscode/vsce, then
// checks what went in (the bundles and their assets; no sources, tests or node_modules) and
// reports its size.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const yauzl = require('yauzl');

const root = path.join(__dirname, '..');
const pkg = require(path.join(root, 'package.json'));
const out = path.resolve(root, process.env.REWIND_VSIX_OUT || `${pkg.name}-${pkg.version}.vsix`);

function run(cmd, args) {
  execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}

/** The file names in the archive. */
function zipEntries(file) {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const names = [];
      zip.on('entry', (e) => {
        names.push(e.fileName);
        zip.readEntry();
      });
      zip.on('end', () => resolve(names));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

async function main() {
  try {
    run('npm', ['run', '-s', 'build']);
    run(process.execPath, [require.resolve('@vscode/vsce/vsce'), 'package', '--no-dependencies', '--no-rewrite-relative-links',
      '--allow-missing-repository', '--readme-path', 'media/vsix/README.md', '-o', out]);
  } catch {
    console.error('package: building the .vsix failed (see above)');
    process.exit(1);
  }
  const entries = await zipEntries(out);
  const stray = entries.filter((e) => /(^|\/)(node_modules|test|src|emulator)\//.test(e.replace(/^extension\//, '')) || /\.ts$/.test(e));
  if (stray.length) {
    console.error(`package: ${path.basename(out)} holds files it must not: ${stray.slice(0, 5).join(', ')}${stray.length > 5 ? ', …' : ''}`);
    process.exit(1);
  }
  for (const need of ['extension/dist/extension.js', 'extension/dist/adapter.js', 'extension/dist/codicons/codicon.ttf', 'extension/dist/examples/programs/bugdemo.c', 'extension/readme.md', 'extension/changelog.md']) {
    if (!entries.some((e) => e.toLowerCase() === need.toLowerCase())) {
      console.error(`package: ${path.basename(out)} lacks ${need}`);
      process.exit(1);
    }
  }
  const bytes = fs.statSync(out).size;
  console.log(`package: ${path.relative(process.cwd(), out)}: ${(bytes / 1024).toFixed(0)} KiB (${bytes} bytes), ${entries.length} files`);
}

main().catch((e) => {
  console.error(`package: ${e.message}`);
  process.exit(1);
});
