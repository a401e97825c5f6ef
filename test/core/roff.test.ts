import test from 'ava';
import { renderManPage, roffItem, roffText } from '../../core/roff.ts';

test('text is escaped for roff: backslashes, hyphens, and a line that starts with a dot or a quote', (t) => {
  t.is(roffText('a\\b --json'), 'a\\eb \\-\\-json');
  t.is(roffText(".not a request\n'nor this"), "\\&.not a request\n\\&'nor this");
  t.is(roffItem('-s, --socket <path>', 'x'), '.TP\n\\fB\\-s, \\-\\-socket <path>\\fR\nx');
});

test('a page: title line, NAME, then each section in order', (t) => {
  const page = renderManPage({
    name: 'dsrd',
    section: 8,
    summary: 'the daemon',
    version: '1.2.3',
    date: '2026-12-07',
    sections: [
      { title: 'Synopsis', body: '.B dsrd' },
      { title: 'See also', body: '.BR dsrctl (1)' },
    ],
  });
  t.is(
    page,
    '.TH DSRD 8 "2026-12-07" "dsr-director 1.2.3" "dsr-director"\n.SH NAME\ndsrd \\- the daemon\n.SH SYNOPSIS\n.B dsrd\n.SH SEE ALSO\n.BR dsrctl (1)\n',
  );
});
