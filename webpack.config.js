// Bundles each entry point into dist/: the CLI, the debug adapter and the extension are single
// self-contained files, so `node dist/cli.js` and `node dist/adapter.js` need no node_modules at
// run time, and the .vsix ships no dependencies. `vscode` is the editor's own module.
const path = require('path');
const webpack = require('webpack');

module.exports = {
  target: 'node',
  entry: { cli: './emulator/cli.ts', adapter: './src/adapter/main.ts', extension: './src/extension/extension.ts' },
  externals: { vscode: 'commonjs vscode' },
  output: { path: path.resolve(__dirname, 'dist'), filename: '[name].js', clean: true, library: { type: 'commonjs2' } },
  resolve: { extensions: ['.ts', '.js'] },
  module: { rules: [{ test: /\.ts$/, loader: 'ts-loader', options: { transpileOnly: false, onlyCompileBundledFiles: true } }] },
  devtool: 'source-map',
  optimization: { minimize: false },
  plugins: [new webpack.BannerPlugin({ banner: '#!/usr/bin/env node', raw: true, entryOnly: true })],
  performance: { hints: false },
};
