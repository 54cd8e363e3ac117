import { describe, expect, it } from 'vitest';
import { decodeBody, mimeType } from '../../src/fetch/fetch-content.js';
import { htmlToMarkdown } from '../../src/fetch/page-markdown.js';

/** How a fetched body becomes `content`, `contentType` and `encoding` (docs/api.md, "Fetch"). */
describe('a fetched body', () => {
  it('is text decoded by the charset its content-type names', () => {
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in ISO-8859-1
    expect(decodeBody(latin1, { 'Content-Type': 'text/plain; charset=ISO-8859-1' })).toEqual({
      content: 'café',
      contentType: 'text/plain',
      encoding: 'iso-8859-1',
    });
  });

  it('is UTF-8 when the type is textual and no charset is named, or the charset is unknown', () => {
    const body = Buffer.from('{"a":"é"}', 'utf8');
    expect(decodeBody(body, { 'content-type': 'application/json' })).toMatchObject({
      content: '{"a":"é"}',
      encoding: 'utf-8',
    });
    expect(decodeBody(body, { 'content-type': 'application/ld+json; charset=x-made-up' }).content).toBe('{"a":"é"}');
  });

  it('is base64 for any other type, and application/octet-stream without a content-type', () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    expect(decodeBody(bytes, { 'content-type': 'application/pdf' })).toEqual({
      content: bytes.toString('base64'),
      contentType: 'application/pdf',
      encoding: 'base64',
    });
    expect(mimeType({})).toBe('application/octet-stream');
  });
});

describe('a rendered page as markdown', () => {
  it('keeps headings, emphasis, links, lists and code, and drops scripts and styles', () => {
    const markdown = htmlToMarkdown(
      '<html><head><style>h1{color:red}</style></head><body><h1>Title</h1><p>A <em>b</em> <a href="https://x.test/">c</a></p><ul><li>one</li></ul><pre><code>let x = 1;</code></pre><script>alert(1)</script></body></html>',
    );
    expect(markdown).toBe('# Title\n\nA _b_ [c](https://x.test/)\n\n-   one\n\n```\nlet x = 1;\n```');
  });
});
