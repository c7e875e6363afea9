// mocha's spec reporter, plus the run's totals written as JSON to $REWIND_MOCHA_JSON when set,
// so .ci/run can print its closing "N passed, N failed" line.
const Mocha = require('mocha');
const fs = require('fs');

class RewindReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const out = process.env.REWIND_MOCHA_JSON;
      if (out) fs.writeFileSync(out, JSON.stringify({ stats: runner.stats }));
    });
  }
}

module.exports = RewindReporter;
