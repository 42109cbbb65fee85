/** Small wording helpers shared by the commands' messages. */

/** "1 account", "2,500 accounts", "3 retries", "2 batches". */
export function plural(n: number, word: string): string {
  const many = word.endsWith('y') && !/[aeiou]y$/.test(word) ? `${word.slice(0, -1)}ies` : /(ch|sh|s|x)$/.test(word) ? `${word}es` : `${word}s`;
  return `${n.toLocaleString('en-US')} ${n === 1 ? word : many}`;
}

/** Commander argument parser for repeatable options: `-f a -f b` → ['a', 'b']. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
