// Bundles each entry point into dist/: the CLI and the debug adapter are single self-contained
// files, so `node dist/cli.js` and `node dist/adapter.js` need no node_modules at run time.
const path = require('path');
const webpack = require('webpack');

module.exports = {
  target: 'node',
  entry: { cli: './emulator/cli.ts', adapter: './src/adapter/main.ts' },
  output: { path: path.resolve(__dirname, 'dist'), filename: '[name].js', clean: true },
  resolve: { extensions: ['.ts', '.js'] },
  module: { rules: [{ test: /\.ts$/, loader: 'ts-loader', options: { transpileOnly: false, onlyCompileBundledFiles: true } }] },
  devtool: 'source-map',
  optimization: { minimize: false },
  plugins: [new webpack.BannerPlugin({ banner: '#!/usr/bin/env node', raw: true, entryOnly: true })],
  performance: { hints: false },
};
