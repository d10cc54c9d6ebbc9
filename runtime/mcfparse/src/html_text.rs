//! HTML to plain text for descriptions: one paragraph or list item per line (list items start
//! with "- "), entities decoded, whitespace collapsed, scripts and styles dropped.
//!
//! The walk is iterative (`traverse`), so deeply nested input cannot overflow the stack.

use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node};

/// Converts an HTML fragment (MCF's `description`) to text; `None` when nothing readable is left.
pub(crate) fn fragment_to_text(html: &str) -> Option<String> {
    let fragment = Html::parse_fragment(html);
    let text = element_to_text(fragment.root_element());
    (!text.is_empty()).then_some(text)
}

/// The text of an element of a parsed page, laid out the same way.
pub(crate) fn element_to_text(element: ElementRef<'_>) -> String {
    let mut out = TextBuilder::default();
    let mut skipping = 0usize;
    for edge in element.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(el) => {
                    let name = el.name();
                    if is_skipped(name) {
                        skipping += 1;
                    } else if skipping == 0 {
                        out.open(name);
                    }
                }
                Node::Text(text) if skipping == 0 => out.text(&text.text),
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(el) = node.value() {
                    let name = el.name();
                    if is_skipped(name) {
                        skipping = skipping.saturating_sub(1);
                    } else if skipping == 0 {
                        out.close(name);
                    }
                }
            }
        }
    }
    out.finish()
}

fn is_skipped(name: &str) -> bool {
    matches!(name, "script" | "style" | "template" | "noscript" | "head" | "svg")
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "li"
            | "ul"
            | "ol"
            | "br"
            | "hr"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "tr"
            | "table"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "blockquote"
            | "pre"
            | "dl"
            | "dt"
            | "dd"
            | "main"
            | "aside"
            | "nav"
            | "figure"
            | "figcaption"
            | "address"
            | "details"
            | "summary"
    )
}

#[derive(Default)]
struct TextBuilder {
    lines: Vec<String>,
    current: String,
    bullet: bool,
}

impl TextBuilder {
    fn open(&mut self, name: &str) {
        if is_block(name) {
            self.flush();
        }
        if name == "li" {
            self.bullet = true;
        }
    }

    fn close(&mut self, name: &str) {
        if is_block(name) {
            self.flush();
        } else if matches!(name, "td" | "th") {
            // Adjacent cells would otherwise run together into one word.
            self.current.push(' ');
        }
    }

    fn text(&mut self, text: &str) {
        self.current.push_str(text);
    }

    fn flush(&mut self) {
        let line = crate::json::collapse_whitespace(&self.current);
        self.current.clear();
        if line.is_empty() {
            return;
        }
        if std::mem::take(&mut self.bullet) {
            self.lines.push(format!("- {line}"));
        } else {
            self.lines.push(line);
        }
    }

    fn finish(mut self) -> String {
        self.flush();
        self.lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::fragment_to_text;

    #[test]
    fn paragraphs_and_items_get_their_own_lines() {
        let html = "<p><strong>Duties</strong></p>\n<ul>\n  <li>Build&nbsp;things &amp; test</li><li><p>Ship  \n it</p></li>\n</ul><p><br></p><p>Bachelor\u{2019}s degree</p>";
        assert_eq!(
            fragment_to_text(html).unwrap(),
            "Duties\n- Build things & test\n- Ship it\nBachelor\u{2019}s degree"
        );
    }

    #[test]
    fn inline_markup_joins_and_scripts_vanish() {
        assert_eq!(
            fragment_to_text("a<b>b</b> c<script>x()</script><br/>d").unwrap(),
            "ab c\nd"
        );
        assert_eq!(fragment_to_text("  <p> </p><br>"), None);
        assert_eq!(fragment_to_text("plain text, no tags").unwrap(), "plain text, no tags");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        // html5ever itself is quadratic in nesting depth (scope checks walk the open-element stack),
        // so the depth is kept where it proves the point without slowing the suite.
        const N: usize = 10_000;
        let html = "<div>".repeat(N) + "deep" + &"</div>".repeat(N);
        assert_eq!(fragment_to_text(&html).unwrap(), "deep");
    }
}
