/** A markdown table: a header row, then one row per entry; numbers right-aligned. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (string | number)[][],
): string {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === 'number' ? fmt(cell) : cell)))
  const align = header.map((_, i) =>
    rows.every((row) => typeof row[i] === 'number') ? '---:' : ':---',
  )
  const line = (row: readonly string[]) => `| ${row.join(' | ')} |`
  return [line(header), line(align), ...cells.map(line)].join('\n')
}

/** A number with thousands separators and at most `digits` decimals. */
export function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits })
}

/** The median of some numbers (they are sorted in place). */
export function median(values: number[]): number {
  values.sort((a, b) => a - b)
  const mid = values.length >> 1
  return values.length % 2 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2
}
