//! A rendered job page read in one pass without building a tree: the JSON-LD blocks, the text
//! of the first element of each `data-testid` the page parser reads, the canonical link and
//! `og:url`.
//!
//! html5ever's tokenizer and tree builder were nearly all of a page's parse time, for a page of
//! which a few dozen elements are read. [`scan`] tokenizes the page itself and keeps a stack of
//! open elements, which is what tree construction builds as long as the tags nest as written.
//! Wherever HTML's tree construction could do more than that (an end tag that is not the
//! current element's, a tag that closes another implicitly, tables, forms, `<select>`,
//! templates, MathML, an SVG breakout, an `<a>` in an `<a>`, a script whose text holds `<!--`,
//! a NUL, a character reference outside the small table in a value that is read, the
//! document ending inside a tag), it gives up and the page goes through html5ever as before.
//! A property test in `page.rs` holds the two to the same post wherever the scan answers.

use std::borrow::Cow;

use crate::html_text::{CharRef, char_ref, is_space, read_tag};

/// The `data-testid`s whose first element's text the page parser reads.
pub(crate) const TESTIDS: [&str; 12] = [
    "job-details-info-job-title",
    "job-details-info-job-post-id",
    "job-details-info-employment-type",
    "job-details-info-seniority",
    "job-details-info-job-categories",
    "job-details-info-min-experience",
    "job-details-info-num-of-applications",
    "job-details-info-location-span",
    "job-details-info-last-posted-date",
    "job-details-info-job-expiry-date",
    "salary-range",
    "salary-type",
];

/// What a page holds for the page parser.
#[derive(Debug, Default)]
pub(crate) struct Scan<'a> {
    /// The text of each `<script type="application/ld+json">`, in document order.
    pub ld_json: Vec<&'a str>,
    /// The text (all descendant text, as it is) of the first element with each of [`TESTIDS`].
    pub testid: [Option<String>; TESTIDS.len()],
    /// The first `link[rel="canonical"]`'s `href`, if it has one (outer `None`: no such link).
    pub canonical_href: Option<Option<String>>,
    /// The first `meta[property="og:url"]`'s `content`.
    pub og_url: Option<Option<String>>,
}

/// An open element: its name as written, and whether it is SVG (foreign content).
struct Open<'a> {
    name: &'a [u8],
    foreign: bool,
}

/// The attributes of a start tag that the scan reads (the first of duplicates, as HTML keeps),
/// as raw byte ranges of the page.
#[derive(Default)]
struct Attrs<'a> {
    testid: Option<&'a [u8]>,
    id: Option<&'a [u8]>,
    data_cy: Option<&'a [u8]>,
    kind: Option<&'a [u8]>,
    rel: Option<&'a [u8]>,
    href: Option<&'a [u8]>,
    property: Option<&'a [u8]>,
    content: Option<&'a [u8]>,
    color_face_size: bool,
}

/// Decodes character references from the small table (`None` for any other), and turns CR LF
/// and lone CRs into LF as HTML's input stream does before tokenizing.
fn decode(raw: &[u8]) -> Option<Cow<'_, str>> {
    let text = if memchr::memchr(b'&', raw).is_none() {
        Cow::Borrowed(std::str::from_utf8(raw).ok()?)
    } else {
        let mut out = String::with_capacity(raw.len());
        decode_into(&mut out, raw)?;
        Cow::Owned(out)
    };
    if memchr::memchr(b'\r', text.as_bytes()).is_none() {
        return Some(text);
    }
    Some(Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n")))
}

fn decode_into(out: &mut String, raw: &[u8]) -> Option<()> {
    let mut run = 0;
    let mut i = 0;
    while let Some(at) = raw[i..].iter().position(|&c| c == b'&') {
        let amp = i + at;
        match char_ref(&raw[amp + 1..]) {
            CharRef::Literal => i = amp + 1,
            CharRef::Decoded(c, len) => {
                out.push_str(std::str::from_utf8(&raw[run..amp]).ok()?);
                out.push(c);
                i = amp + 1 + len;
                run = i;
            }
            CharRef::Unknown => return None,
        }
    }
    out.push_str(std::str::from_utf8(&raw[run..]).ok()?);
    Some(())
}

/// The tag name in lower case when it is short enough to be one HTML gives rules to.
fn lower(name: &[u8]) -> Option<([u8; 16], usize)> {
    if name.len() > 16 {
        return None;
    }
    let mut buf = [0u8; 16];
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    Some((buf, name.len()))
}

struct Scanner<'a> {
    html: &'a str,
    stack: Vec<Open<'a>>,
    /// Testid index and the stack depth its element sits at, while it is open.
    collecting: Vec<(usize, usize)>,
    scan: Scan<'a>,
}

/// Reads a page (see the module's doc); `None` when html5ever must.
pub(crate) fn scan(html: &str) -> Option<Scan<'_>> {
    let b = html.as_bytes();
    if memchr::memchr(0, b).is_some() {
        return None;
    }
    let mut s = Scanner {
        html,
        stack: Vec::with_capacity(64),
        collecting: Vec::new(),
        scan: Scan::default(),
    };
    let (mut i, mut text_from) = (0, 0);
    loop {
        let Some(at) = memchr::memchr(b'<', &b[i..]) else {
            s.text(&b[text_from..], true)?;
            break;
        };
        let lt = i + at;
        let foreign = s.stack.last().is_some_and(|o| o.foreign);
        match b.get(lt + 1) {
            Some(c) if c.is_ascii_alphabetic() => {
                s.text(&b[text_from..lt], true)?;
                i = s.start_tag(lt + 1, foreign)?;
            }
            Some(b'/') => {
                s.text(&b[text_from..lt], true)?;
                match b.get(lt + 2) {
                    Some(c) if c.is_ascii_alphabetic() => i = s.end_tag(lt + 2, foreign)?,
                    // `</>` is dropped; `</` + anything else is a bogus comment.
                    Some(b'>') => i = lt + 3,
                    Some(_) => i = lt + 2 + b[lt + 2..].iter().position(|&c| c == b'>')? + 1,
                    None => return None,
                }
            }
            Some(b'!') => {
                s.text(&b[text_from..lt], true)?;
                let rest = &b[lt + 2..];
                if rest.starts_with(b"--") {
                    // A comment ends at the first `-->`; the odd forms go to html5ever.
                    let body = &rest[2..];
                    if body.starts_with(b">") || body.starts_with(b"->") {
                        return None;
                    }
                    let end = memchr::memmem::find(body, b"-->")?;
                    if body[..end + 2].windows(4).any(|w| w == b"--!>") {
                        return None;
                    }
                    i = lt + 4 + end + 3;
                } else if foreign && rest.starts_with(b"[CDATA[") {
                    return None;
                } else {
                    // DOCTYPE and bogus comments end at the first `>`.
                    i = lt + 2 + rest.iter().position(|&c| c == b'>')? + 1;
                }
            }
            Some(b'?') => {
                s.text(&b[text_from..lt], true)?;
                i = lt + 2 + b[lt + 2..].iter().position(|&c| c == b'>')? + 1;
            }
            // A `<` that opens nothing is text.
            _ => {
                i = lt + 1;
                continue;
            }
        }
        text_from = i;
    }
    // Elements still open at the end are closed there.
    s.finish_collecting(0);
    Some(s.scan)
}

impl<'a> Scanner<'a> {
    /// Text between tags, added to the elements being collected (`decode`: references count).
    fn text(&mut self, raw: &[u8], decode: bool) -> Option<()> {
        if self.collecting.is_empty() || raw.is_empty() {
            return Some(());
        }
        let text = if decode {
            self::decode(raw)?
        } else {
            let text = std::str::from_utf8(raw).ok()?;
            if memchr::memchr(b'\r', raw).is_some() {
                Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
            } else {
                Cow::Borrowed(text)
            }
        };
        for (index, _) in &self.collecting {
            if let Some(out) = self.scan.testid[*index].as_mut() {
                out.push_str(&text);
            }
        }
        Some(())
    }

    fn finish_collecting(&mut self, depth: usize) {
        self.collecting.retain(|(_, at)| *at <= depth);
    }

    fn push(&mut self, name: &'a [u8], foreign: bool, attrs: &Attrs<'a>) -> Option<()> {
        self.stack.push(Open { name, foreign });
        self.start_collecting(attrs)
    }

    /// Starts collecting the text of the element just pushed if it is the first with its testid.
    fn start_collecting(&mut self, attrs: &Attrs<'a>) -> Option<()> {
        let Some(raw) = attrs.testid else { return Some(()) };
        let value = decode(raw)?;
        if let Some(index) = TESTIDS.iter().position(|t| *t == value)
            && self.scan.testid[index].is_none()
        {
            self.scan.testid[index] = Some(String::new());
            self.collecting.push((index, self.stack.len()));
        }
        Some(())
    }

    fn pop(&mut self) {
        self.stack.pop();
        self.finish_collecting(self.stack.len());
    }

    /// A void element (or a self-closing foreign one): pushed and popped at once.
    fn void(&mut self, name: &'a [u8], foreign: bool, attrs: &Attrs<'a>) -> Option<()> {
        self.push(name, foreign, attrs)?;
        self.pop();
        Some(())
    }

    fn has(&self, name: &[u8]) -> bool {
        self.stack
            .iter()
            .any(|o| !o.foreign && o.name.eq_ignore_ascii_case(name))
    }

    /// Whether an element named `target` is open with no `boundary` element above it.
    fn in_scope(&self, target: &[u8], boundary: &[u8]) -> bool {
        for open in self.stack.iter().rev() {
            if open.foreign {
                return false;
            }
            if open.name.eq_ignore_ascii_case(target) {
                return true;
            }
            if open.name.eq_ignore_ascii_case(boundary) {
                return false;
            }
        }
        false
    }

    /// A start tag whose name starts at `at`; the index after it.
    fn start_tag(&mut self, at: usize, foreign: bool) -> Option<usize> {
        let b = self.html.as_bytes();
        let mut attrs = Attrs::default();
        let tag = read_tag(b, at, |name, value| {
            let slot = if name.eq_ignore_ascii_case(b"data-testid") {
                &mut attrs.testid
            } else if name.eq_ignore_ascii_case(b"id") {
                &mut attrs.id
            } else if name.eq_ignore_ascii_case(b"data-cy") {
                &mut attrs.data_cy
            } else if name.eq_ignore_ascii_case(b"type") {
                &mut attrs.kind
            } else if name.eq_ignore_ascii_case(b"rel") {
                &mut attrs.rel
            } else if name.eq_ignore_ascii_case(b"href") {
                &mut attrs.href
            } else if name.eq_ignore_ascii_case(b"property") {
                &mut attrs.property
            } else if name.eq_ignore_ascii_case(b"content") {
                &mut attrs.content
            } else {
                if [b"color".as_slice(), b"face", b"size"]
                    .iter()
                    .any(|n| name.eq_ignore_ascii_case(n))
                {
                    attrs.color_face_size = true;
                }
                return;
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        })?;
        let name = &b[at..tag.name_end];
        let end = tag.end;
        let Some((buf, len)) = lower(name) else {
            // A long name is no element HTML has rules for.
            if foreign && tag.self_closing {
                self.void(name, true, &attrs)?;
            } else {
                self.push(name, foreign, &attrs)?;
            }
            return Some(end);
        };
        let lname = std::str::from_utf8(&buf[..len]).ok()?;

        if foreign {
            return match lname {
                // Breakouts to HTML, integration points, and elements read differently in SVG.
                "b" | "big" | "blockquote" | "body" | "br" | "center" | "code" | "dd" | "div" | "dl" | "dt" | "em"
                | "embed" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "head" | "hr" | "i" | "img" | "li"
                | "listing" | "menu" | "meta" | "nobr" | "ol" | "p" | "pre" | "ruby" | "s" | "small" | "span"
                | "strong" | "strike" | "sub" | "sup" | "table" | "tt" | "u" | "ul" | "var" | "font" | "script"
                | "style" | "title" | "desc" | "foreignobject" | "link" | "textarea" | "iframe" | "noscript"
                | "xmp" | "noembed" | "noframes" | "plaintext" | "math" | "template" | "annotation-xml" => None,
                _ if tag.self_closing => self.void(name, true, &attrs).map(|_| end),
                _ => self.push(name, true, &attrs).map(|_| end),
            };
        }

        match lname {
            "html" | "body" | "head" => {
                // Only their attributes could matter (merged into the existing element).
                if attrs.testid.is_some() || attrs.id.is_some() || attrs.data_cy.is_some() {
                    return None;
                }
                Some(end)
            }
            "applet" | "caption" | "col" | "colgroup" | "form" | "frame" | "frameset" | "image" | "isindex"
            | "marquee" | "math" | "menuitem" | "nobr" | "object" | "optgroup" | "option" | "plaintext" | "rb"
            | "rp" | "rt" | "rtc" | "ruby" | "select" | "table" | "tbody" | "td" | "template" | "tfoot" | "th"
            | "thead" | "tr" => None,
            "address" | "article" | "aside" | "blockquote" | "center" | "details" | "dialog" | "dir" | "div" | "dl"
            | "fieldset" | "figcaption" | "figure" | "footer" | "header" | "hgroup" | "main" | "menu" | "nav"
            | "ol" | "p" | "search" | "section" | "summary" | "ul" | "pre" | "listing" | "h1" | "h2" | "h3" | "h4"
            | "h5" | "h6" | "li" | "dd" | "dt" | "hr" | "xmp" => {
                // Each closes an open `<p>`; headings close a heading; items close an item.
                if self.in_scope(b"p", b"button") {
                    return None;
                }
                let heading =
                    |name: &[u8]| name.len() == 2 && matches!(name[0], b'h' | b'H') && matches!(name[1], b'1'..=b'6');
                let top_is_heading = self.stack.last().is_some_and(|o| !o.foreign && heading(o.name));
                if heading(lname.as_bytes()) && top_is_heading {
                    return None;
                }
                if matches!(lname, "li" | "dd" | "dt") && self.closes_an_item(lname) {
                    return None;
                }
                match lname {
                    "hr" => self.void(name, false, &attrs).map(|_| end),
                    "xmp" => self.raw_text(name, &attrs, end, RawKind::Rawtext),
                    _ => self.push(name, false, &attrs).map(|_| end),
                }
            }
            "button" => {
                if self.in_scope(b"button", b"\0") {
                    return None;
                }
                self.push(name, false, &attrs).map(|_| end)
            }
            "a" => {
                if self.has(b"a") {
                    return None;
                }
                self.push(name, false, &attrs).map(|_| end)
            }
            "area" | "br" | "embed" | "img" | "keygen" | "wbr" | "input" | "param" | "source" | "track" | "base"
            | "basefont" | "bgsound" => self.void(name, false, &attrs).map(|_| end),
            "link" => {
                if self.scan.canonical_href.is_none()
                    && let Some(rel) = attrs.rel
                    && decode(rel)?.eq_ignore_ascii_case("canonical")
                {
                    self.scan.canonical_href = Some(match attrs.href {
                        Some(raw) => Some(decode(raw)?.into_owned()),
                        None => None,
                    });
                }
                self.void(name, false, &attrs).map(|_| end)
            }
            "meta" => {
                if self.scan.og_url.is_none()
                    && let Some(property) = attrs.property
                    && decode(property)? == "og:url"
                {
                    self.scan.og_url = Some(match attrs.content {
                        Some(raw) => Some(decode(raw)?.into_owned()),
                        None => None,
                    });
                }
                self.void(name, false, &attrs).map(|_| end)
            }
            "script" => self.raw_text(name, &attrs, end, RawKind::Script),
            "style" | "iframe" | "noembed" | "noframes" | "noscript" => {
                self.raw_text(name, &attrs, end, RawKind::Rawtext)
            }
            "title" | "textarea" => self.raw_text(name, &attrs, end, RawKind::Rcdata),
            "svg" if tag.self_closing => self.void(name, true, &attrs).map(|_| end),
            "svg" => self.push(name, true, &attrs).map(|_| end),
            _ => self.push(name, false, &attrs).map(|_| end),
        }
    }

    /// Whether starting `li` (or `dd`/`dt`) would close an open one implicitly.
    fn closes_an_item(&self, lname: &str) -> bool {
        for open in self.stack.iter().rev() {
            if open.foreign {
                return true;
            }
            let Some((buf, len)) = lower(open.name) else {
                continue;
            };
            let name = &buf[..len];
            let same = if lname == "li" {
                name == b"li"
            } else {
                name == b"dd" || name == b"dt"
            };
            if same {
                return true;
            }
            if is_special(name) && !matches!(name, b"address" | b"div" | b"p") {
                return false;
            }
        }
        false
    }

    /// An element whose content is text up to its end tag.
    fn raw_text(&mut self, name: &'a [u8], attrs: &Attrs<'a>, from: usize, kind: RawKind) -> Option<usize> {
        let b = self.html.as_bytes();
        let is_ld = kind == RawKind::Script
            && match attrs.kind {
                Some(raw) => decode(raw)?.eq_ignore_ascii_case("application/ld+json"),
                None => false,
            };
        // The first `</name` followed by whitespace, `/` or `>`.
        let mut i = from;
        let close = loop {
            let at = i + memchr::memmem::find(&b[i..], b"</")?;
            let after = at + 2 + name.len();
            if b.len() > after
                && b[at + 2..after].eq_ignore_ascii_case(name)
                && (is_space(b[after]) || matches!(b[after], b'/' | b'>'))
            {
                break at;
            }
            i = at + 2;
        };
        let content = &b[from..close];
        if kind == RawKind::Script && memchr::memmem::find(content, b"<!--").is_some() {
            return None;
        }
        self.push(name, false, attrs)?;
        self.text(content, kind == RawKind::Rcdata)?;
        if is_ld {
            self.scan.ld_json.push(std::str::from_utf8(content).ok()?);
        }
        let end = read_tag(b, close + 2, |_, _| {})?.end;
        self.pop();
        Some(end)
    }

    /// An end tag whose name starts at `at`; the index after it.
    fn end_tag(&mut self, at: usize, foreign: bool) -> Option<usize> {
        let b = self.html.as_bytes();
        let tag = read_tag(b, at, |_, _| {})?;
        let name = &b[at..tag.name_end];
        let (buf, len) = lower(name).unwrap_or(([0; 16], 0));
        let lname = &buf[..len];
        if !foreign {
            match lname {
                // No pops: `</body>` and `</html>` only change the insertion mode, `</head>`
                // is ignored or ends a head the scan does not keep, `</br>` is a `<br>`.
                b"body" | b"html" | b"head" | b"br" => return Some(tag.end),
                // A `</p>` with no open `<p>` makes an empty one.
                b"p" if !self.in_scope(b"p", b"button") => return Some(tag.end),
                _ => {}
            }
        } else if matches!(lname, b"br" | b"p") {
            return None;
        }
        match self.stack.last() {
            Some(open) if open.name.eq_ignore_ascii_case(name) => {
                self.pop();
                Some(tag.end)
            }
            _ => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum RawKind {
    Script,
    Rawtext,
    Rcdata,
}

/// HTML's "special" elements (lower-case names).
fn is_special(name: &[u8]) -> bool {
    matches!(
        name,
        b"address"
            | b"applet"
            | b"area"
            | b"article"
            | b"aside"
            | b"base"
            | b"basefont"
            | b"bgsound"
            | b"blockquote"
            | b"body"
            | b"br"
            | b"button"
            | b"caption"
            | b"center"
            | b"col"
            | b"colgroup"
            | b"dd"
            | b"details"
            | b"dir"
            | b"div"
            | b"dl"
            | b"dt"
            | b"embed"
            | b"fieldset"
            | b"figcaption"
            | b"figure"
            | b"footer"
            | b"form"
            | b"frame"
            | b"frameset"
            | b"h1"
            | b"h2"
            | b"h3"
            | b"h4"
            | b"h5"
            | b"h6"
            | b"head"
            | b"header"
            | b"hgroup"
            | b"hr"
            | b"html"
            | b"iframe"
            | b"img"
            | b"input"
            | b"isindex"
            | b"li"
            | b"link"
            | b"listing"
            | b"main"
            | b"marquee"
            | b"menu"
            | b"meta"
            | b"nav"
            | b"noembed"
            | b"noframes"
            | b"noscript"
            | b"object"
            | b"ol"
            | b"p"
            | b"param"
            | b"plaintext"
            | b"pre"
            | b"script"
            | b"section"
            | b"select"
            | b"source"
            | b"style"
            | b"summary"
            | b"table"
            | b"tbody"
            | b"td"
            | b"template"
            | b"textarea"
            | b"tfoot"
            | b"th"
            | b"thead"
            | b"title"
            | b"tr"
            | b"track"
            | b"ul"
            | b"wbr"
            | b"xmp"
    )
}
