// ANSI colour sequences take no room on the screen.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the escape character is the point.
const ANSI = /\u001b\[[0-9;]*m/g;
const visible = (s: string) => s.replace(ANSI, '').length;

/**
 * One logical line as screen lines: indented by `indent`, broken at spaces to fit `width`
 * (colours do not count), continuation lines indented `hang` more (a hanging indent). A word
 * longer than the line is left whole. Width Infinity: no wrapping.
 */
export function wrap(text: string, width: number, indent = 0, hang = 2): string[] {
  const first = ' '.repeat(indent);
  if (!Number.isFinite(width) || visible(first + text) <= width) return [first + text];
  const rest = ' '.repeat(indent + hang);
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(' ')) {
    if (!empty && visible(line) + 1 + visible(word) > width) {
      lines.push(line);
      line = rest + word;
      continue;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}
