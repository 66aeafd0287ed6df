/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`,
 * after jest's own summary, so CI logs state the outcome in a form any tool reads.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const line = `${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests + results.numTodoTests} skipped`;
    process.stdout.write(`\ntests: ${line}\n`);
  }
}
module.exports = SummaryReporter;
