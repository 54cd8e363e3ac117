import TurndownService from 'turndown';

/**
 * Turndown (pinned in package.json) turns a rendered DOM into Markdown: ATX headings and fenced code, as
 * readers of Markdown expect, and nothing of what a page runs or styles itself with.
 */
const converter = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-' });
converter.remove(['script', 'style', 'noscript', 'template']);

/** The page's HTML (its `outerHTML`) as Markdown. */
export function htmlToMarkdown(html: string): string {
  return converter.turndown(html);
}
