/**
 * Manual pages in roff (man(7)): escaping and the page skeleton. dsrctl's page is drawn from its
 * command tree (cli/man-page.ts), dsrd's from its options (daemon/usage.ts); the package installs
 * both (scripts/package.ts), so `man dsrctl` documents what `dsrctl --help` prints.
 */

/** Text escaped for roff: backslashes, hyphens (so they are not hyphenation points), line-leading dots. */
export function roffText(text: string): string {
  return text
    .replaceAll('\\', '\\e')
    .replaceAll('-', '\\-')
    .split('\n')
    .map((line) => (line.startsWith('.') || line.startsWith("'") ? `\\&${line}` : line))
    .join('\n');
}

export interface ManSection {
  title: string;
  /** roff lines as they are (build them with roffText). */
  body: string;
}

export interface ManPage {
  name: string;
  section: 1 | 5 | 8;
  /** One line: what the program is, after the NAME dash. */
  summary: string;
  /** The footer's source and date (man-pages(7): .TH title section date source manual). */
  version: string;
  date: string;
  sections: readonly ManSection[];
}

export function renderManPage(p: ManPage): string {
  const head = [
    `.TH ${p.name.toUpperCase()} ${p.section} "${p.date}" "dsr-director ${p.version}" "dsr-director"`,
    '.SH NAME',
    `${roffText(p.name)} \\- ${roffText(p.summary)}`,
  ];
  const body = p.sections.flatMap((s) => [`.SH ${roffText(s.title.toUpperCase())}`, s.body]);
  return `${[...head, ...body].join('\n')}\n`;
}

/** A tagged paragraph: `tag` in bold, `text` under it (an option, a command, a file). */
export function roffItem(tag: string, text: string): string {
  return `.TP\n\\fB${roffText(tag)}\\fR\n${roffText(text)}`;
}
