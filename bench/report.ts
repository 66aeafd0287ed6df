import type { BenchSection } from './section';

/** A section as text: its title, each table with columns padded to their widest cell, then its notes. */
export function formatSection(section: BenchSection<object>): string {
  const lines = ['', `== ${section.title} ==`];
  for (const table of section.tables) {
    if (table.heading) lines.push('', table.heading);
    lines.push(...formatTable(table.headers, table.rows));
  }
  for (const note of section.notes ?? []) lines.push(`  · ${note}`);
  return lines.join('\n');
}

export function formatTable(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  // Text columns (the first) left-aligned, figures right-aligned.
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [`  ${line(headers)}`, `  ${widths.map((w) => '-'.repeat(w)).join('  ')}`, ...rows.map((row) => `  ${line(row)}`)];
}
