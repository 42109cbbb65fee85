/** Small wording helpers shared by the commands' messages. */

/** "1 account", "2,500 accounts", "3 retries", "2 batches". */
export function plural(n: number, word: string): string {
  const many = word.endsWith('y') && !/[aeiou]y$/.test(word) ? `${word.slice(0, -1)}ies` : /(ch|sh|s|x)$/.test(word) ? `${word}es` : `${word}s`;
  return `${thousands(n)} ${n === 1 ? word : many}`;
}

/**
 * `n.toLocaleString('en-US')` for a count (1,234,567), without loading ICU's number formatting:
 * the first toLocaleString of a process cost about 20 ms, a tenth of `get alice` end to end.
 */
export function thousands(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Commander argument parser for repeatable options: `-f a -f b` → ['a', 'b']. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * `text` wrapped at spaces to `width` columns, every line after the first indented by `indent`
 * spaces (a hanging indent, as `doctor` lays out its checks). A word longer than a line stays
 * whole on a line of its own. Lines the text already breaks are kept.
 */
export function wrapHanging(text: string, width: number, indent: number): string {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  for (const [n, paragraph] of text.split('\n').entries()) {
    let line = n === 0 ? '' : pad;
    let bare = true;
    for (const word of paragraph.split(' ')) {
      if (!bare && line.length + 1 + word.length > width) {
        out.push(line);
        line = pad + word;
      } else {
        line = bare ? line + word : `${line} ${word}`;
      }
      bare = false;
    }
    out.push(line);
  }
  return out.join('\n');
}
