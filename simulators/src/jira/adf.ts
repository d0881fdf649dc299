/** Atlassian Document Format: the rich-text tree Jira's v3 API uses for descriptions. */

export interface AdfNode {
  type?: string;
  text?: string;
  attrs?: Record<string, unknown>;
  marks?: Array<{ type?: string; attrs?: Record<string, unknown> }>;
  content?: AdfNode[];
  version?: number;
}

export function adfDoc(content: AdfNode[]): AdfNode {
  return { type: 'doc', version: 1, content };
}

export function adfParagraph(content: AdfNode[]): AdfNode {
  return { type: 'paragraph', content };
}

/** The text nodes of a tree, joined: what a changelog shows of a rich-text field. */
export function adfPlainText(node: AdfNode): string {
  return [node.text ?? '', ...(node.content ?? []).map(adfPlainText)].filter((text) => text !== '').join(' ');
}
