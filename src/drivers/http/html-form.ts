/**
 * The first form of an HTML page, read without a DOM: its action and the named inputs with
 * their values. Enough for the challenge pages of web logins, whose forms carry hidden
 * tokens that must be posted back.
 */
export interface HtmlForm {
  action: string;
  fields: Record<string, string>;
}

export function firstForm(html: string): HtmlForm | undefined {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const fields: Record<string, string> = {};
  for (const input of (form[2] ?? "").matchAll(/<input\b([^>]*)>/gi)) {
    const name = attribute(input[1] ?? "", "name");
    if (name) fields[name] = attribute(input[1] ?? "", "value") ?? "";
  }
  return { action: attribute(form[1] ?? "", "action") ?? "", fields };
}

/** The value of `name` on the first element that has it (data-sitekey, ...). */
export function firstAttribute(html: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, "i").exec(html);
  return match ? decode(match[2] ?? match[3] ?? "") : undefined;
}

function attribute(tag: string, name: string): string | undefined {
  return firstAttribute(` ${tag}`, name);
}

function decode(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}
