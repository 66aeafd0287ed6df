import { existsSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/** One logging call found in a source tree. */
export interface CallSite {
  type: string;
  /** Relative to the scanned folder, with `/`. */
  file: string;
  line: number;
  column: number;
  /** `log` for `x.log({ type })`, `error` for `x.error(err, { type })`. */
  method: 'log' | 'error';
  /** Written as `unregistered('…')`: deliberately outside the registry. */
  unregistered: boolean;
}

/** Structural view of the few AST nodes the scan reads (TypeScript 7's AST objects). */
interface AstNode {
  kind: number;
  pos: number;
  text?: string;
  expression?: AstNode;
  name?: AstNode;
  arguments?: readonly AstNode[];
  properties?: readonly AstNode[];
  initializer?: AstNode;
  forEachChild<T>(visit: (node: AstNode) => T | undefined): T | undefined;
}

/**
 * Every `.log({ type: '…' })` and `.error(err, { type: '…' })` call in the
 * TypeScript and JavaScript files under `dir` (node_modules excluded), read
 * with the TypeScript compiler's parser (TypeScript 7's API: the native
 * compiler, driven from Node), not with regexes: comments, strings that
 * merely look like calls and `console.log` are not call sites.
 */
export async function findLogCallSites(dir: string): Promise<CallSite[]> {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`${dir} is not a folder`);
  const { API } = await import('typescript/unstable/sync');
  const { SyntaxKind } = await import('typescript/unstable/ast');
  const { computeLineStarts, skipTrivia } = await import('typescript/unstable/ast/scanner');

  // A project made up for the scan: every source file under the folder, parsed only (no lib, no imports followed).
  const configPath = join(root, '__audit_trail_scan__.tsconfig.json');
  const config = JSON.stringify({
    compilerOptions: { allowJs: true, checkJs: false, noEmit: true, noLib: true, noResolve: true, types: [], jsx: 'preserve' },
    include: ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.cts', '**/*.js', '**/*.jsx', '**/*.mjs', '**/*.cjs'],
    exclude: ['**/node_modules/**', '**/dist/**', '**/*.d.ts'],
  });
  const api = new API({ cwd: root, fs: { readFile: (file: string) => (file === configPath ? config : undefined), fileExists: (file: string) => (file === configPath ? true : undefined) } });
  try {
    const snapshot = api.updateSnapshot({ openProjects: [configPath] });
    const program = snapshot.getProject(configPath)?.program;
    if (!program) throw new Error(`could not read the sources under ${dir}`);
    const sites: CallSite[] = [];
    for (const fileName of program.getSourceFileNames()) {
      if (!fileName.startsWith(`${root}/`) || fileName.includes('/node_modules/')) continue;
      const sourceFile = program.getSourceFile(fileName) as unknown as AstNode & { text: string };
      if (!sourceFile) continue;
      const text = sourceFile.text;
      let lineStarts: number[] | undefined;
      const position = (node: AstNode) => {
        const start = skipTrivia(text, node.pos);
        lineStarts ??= computeLineStarts(text);
        let line = 0;
        while (line + 1 < lineStarts.length && lineStarts[line + 1] <= start) line++;
        return { line: line + 1, column: start - lineStarts[line] + 1 };
      };
      const literal = (node: AstNode | undefined): string | undefined =>
        node && (node.kind === SyntaxKind.StringLiteral || node.kind === SyntaxKind.NoSubstitutionTemplateLiteral) ? node.text : undefined;
      const typeOf = (argument: AstNode | undefined): { type: string; unregistered: boolean } | undefined => {
        if (!argument || argument.kind !== SyntaxKind.ObjectLiteralExpression) return undefined;
        for (const property of argument.properties ?? []) {
          if (property.kind !== SyntaxKind.PropertyAssignment || property.name?.text !== 'type') continue;
          const value = property.initializer;
          const direct = literal(value);
          if (direct !== undefined) return { type: direct, unregistered: false };
          // unregistered('billing.trial.extended')
          if (value?.kind === SyntaxKind.CallExpression && value.expression?.kind === SyntaxKind.Identifier && value.expression.text === 'unregistered') {
            const name = literal(value.arguments?.[0]);
            if (name !== undefined) return { type: name, unregistered: true };
          }
        }
        return undefined;
      };
      const visit = (node: AstNode): undefined => {
        if (node.kind === SyntaxKind.CallExpression && node.expression?.kind === SyntaxKind.PropertyAccessExpression) {
          const method = node.expression.name?.text;
          const receiver = node.expression.expression;
          const isConsole = receiver?.kind === SyntaxKind.Identifier && receiver.text === 'console';
          if ((method === 'log' || method === 'error') && !isConsole) {
            const found = typeOf(node.arguments?.[method === 'log' ? 0 : 1]);
            if (found) sites.push({ ...found, method, file: relative(root, fileName).split('\\').join('/'), ...position(node) });
          }
        }
        node.forEachChild(visit);
        return undefined;
      };
      visit(sourceFile);
    }
    return sites.sort((a, b) => a.type.localeCompare(b.type) || a.file.localeCompare(b.file) || a.line - b.line);
  } finally {
    api.close();
  }
}
