#!/usr/bin/env node
// After webpack: what the extension ships besides its bundles — the example programs (sources,
// prebuilt ELFs, Makefile, README), the codicons font for the webviews, and the toolbar icons
// VS Code has no codicon for, drawn from codicon shapes.
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');
const guest = path.join(root, 'emulator', 'guest');

function examples() {
  const out = path.join(dist, 'examples');
  fs.rmSync(out, { recursive: true, force: true });
  for (const dir of ['programs', 'common', 'inputs']) fs.cpSync(path.join(guest, dir), path.join(out, dir), { recursive: true });
  fs.mkdirSync(path.join(out, 'bin'));
  for (const f of fs.readdirSync(path.join(guest, 'bin'))) if (f.endsWith('.elf')) fs.copyFileSync(path.join(guest, 'bin', f), path.join(out, 'bin', f));
  fs.copyFileSync(path.join(guest, 'Makefile'), path.join(out, 'Makefile'));
  fs.copyFileSync(path.join(root, 'media', 'examples', 'README.md'), path.join(out, 'README.md'));
}

function codicons() {
  const src = path.join(root, 'node_modules', '@vscode', 'codicons', 'dist');
  const out = path.join(dist, 'codicons');
  fs.mkdirSync(out, { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) fs.copyFileSync(path.join(src, f), path.join(out, f));
}

/** The `d` of each subpath of a codicon. */
function subpaths(name) {
  const svg = fs.readFileSync(path.join(root, 'node_modules', '@vscode', 'codicons', 'src', 'icons', `${name}.svg`), 'utf8');
  const d = /<path d="([^"]+)"/.exec(svg)[1];
  return d.split(/(?=M)/).map((s) => s.trim());
}

function icons() {
  const out = path.join(dist, 'icons');
  fs.mkdirSync(out, { recursive: true });
  const cont = subpaths('debug-continue'); // triangle (outline, hole), bar at the left
  const rev = subpaths('debug-reverse-continue'); // triangle (outline, hole), bar at the right
  const shapes = {
    // Step into / step out turned upside down: the arrow runs back up the page.
    'reverse-step-into': `<path transform="matrix(1 0 0 -1 0 16)" d="${subpaths('debug-step-into').join(' ')}"/>`,
    'reverse-step-out': `<path transform="matrix(1 0 0 -1 0 16)" d="${subpaths('debug-step-out').join(' ')}"/>`,
    // ⏮ and ⏭: a bar on the far side of the triangle.
    'go-to-start': `<path d="${cont[2]}"/><path transform="translate(4 0)" d="${rev[0]} ${rev[1]}"/>`,
    'go-to-end': `<path transform="translate(-4 0)" d="${cont[0]} ${cont[1]}"/><path d="${rev[2]}"/>`,
  };
  // The colours of VS Code's own light and dark icon themes.
  for (const [name, body] of Object.entries(shapes)) {
    for (const [theme, fill] of [['light', '#424242'], ['dark', '#C5C5C5']]) {
      fs.writeFileSync(path.join(out, `${name}-${theme}.svg`), `<svg width="16" height="16" viewBox="0 0 16 16" xmlns="http://www.w3.org/2000/svg" fill="${fill}">${body}</svg>\n`);
    }
  }
}

examples();
codicons();
icons();
