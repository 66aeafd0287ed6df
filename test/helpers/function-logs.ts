/**
 * The functions' structured log lines (Powertools writes JSON to stdout), captured instead of printed, so a
 * test's output is its own. Call at the top of a test file; process.stdout is the real stream, shared with
 * the files that run after this one, so it is restored in afterAll.
 */
export function captureFunctionLogs(): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  const writeStdout = process.stdout.write.bind(process.stdout);
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: never[]) => {
    const text = chunk.toString();
    if (!text.startsWith('{"level"')) return writeStdout(chunk, ...rest);
    for (const line of text.trim().split('\n')) {
      try {
        lines.push(JSON.parse(line));
      } catch {
        writeStdout(`${line}\n`);
      }
    }
    return true;
  }) as typeof process.stdout.write);
  afterAll(() => spy.mockRestore());
  return lines;
}
