// What the timed parts of `npm run bench` share: a clock, quantiles, and the PASS/BELOW line.
'use strict';

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))];
const now = () => Number(process.hrtime.bigint()) / 1e6;
/** A latency target (lower is better), as every target line of the bench reads. */
const verdictLine = (name, value, limit, unit, fmt) => `target: ${name} ≤ ${limit} ${unit}: ${value <= limit ? 'PASS' : 'BELOW'} (${fmt(value)} ${unit})`;

module.exports = { quantile, now, verdictLine };
