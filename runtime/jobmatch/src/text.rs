//! Text to tokens, the first two steps of the original's cleaning, made to keep symbol tags.
//!
//! The original kept letters and spaces only, so `C++` became `c` and `.NET` became `net`. Here
//! the text is lowercased (`&amp;` read as `&`) and cut into tokens, left to right:
//!
//! 1. **A symbol tag as a whole word.** A tag word holding anything but letters (`c++`, `.net`,
//!    `node.js`, `c#`, `ci/cd`, `s3`, `(x)`, `*`) is a *symbol word*: it is a token wherever the
//!    text holds it literally as a whole word: the characters on either side are not letters
//!    or digits, and not a repeat of the symbol's own edge character (so `*` is not found in
//!    `**`, nor `c++` in `c+++`). The longest symbol wins. Nothing is a pattern: `a.b` is found
//!    in `a.b` only, never in `axb`.
//! 2. **The original's entity debris, as meant.** Its step 2 turned `mampe`, `rampd`, `oampg`
//!    (what `M&amp;E`, `R&amp;D`, `O&amp;G` became once only letters were left) into `me`, `rd`,
//!    `og`: here a single letter, `&`, a single letter as a whole word is that pair of letters
//!    (`r&d` → `rd`, also `p&l` → `pl`); any other `&` is the word `and` (its ` amp ` → ` and `),
//!    a stop word, so it goes unless a keep tag keeps it.
//! 3. **Runs of letters** (Unicode letters) are words; everything else (digits, punctuation,
//!    spaces) only separates them, as in the original.

/// The library's symbol words, found by their first character.
#[derive(Debug, Default, Clone)]
pub(crate) struct Symbols {
    /// For an ASCII first character: 1 + the index of its group in `groups`, or 0.
    ascii: Vec<u16>,
    /// Groups of other first characters.
    other: Vec<(char, u16)>,
    /// Symbol words sharing a first character, longest first.
    groups: Vec<Vec<Box<str>>>,
}

impl Symbols {
    /// `words` are lowercased tag words; the symbol words among them are kept.
    pub(crate) fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Symbols {
        let mut symbols = Symbols {
            ascii: vec![0; 128],
            ..Symbols::default()
        };
        let mut all: Vec<&str> = words.into_iter().filter(|w| is_symbol_word(w)).collect();
        all.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        all.dedup();
        for word in all {
            let Some(first) = word.chars().next() else { continue };
            let slot = symbols.slot(first);
            let index = match slot {
                Some(i) => i,
                None => {
                    symbols.groups.push(Vec::new());
                    // Groups are few (one per first character of a symbol word).
                    let i = u16::try_from(symbols.groups.len()).unwrap_or(u16::MAX);
                    if first.is_ascii() {
                        symbols.ascii[first as usize] = i;
                    } else {
                        symbols.other.push((first, i));
                    }
                    i
                }
            };
            if let Some(group) = symbols.groups.get_mut(usize::from(index) - 1) {
                group.push(word.into());
            }
        }
        symbols
    }

    fn slot(&self, first: char) -> Option<u16> {
        let i = if first.is_ascii() {
            self.ascii.get(first as usize).copied().unwrap_or(0)
        } else {
            self.other.iter().find(|(c, _)| *c == first).map_or(0, |(_, i)| *i)
        };
        (i != 0).then_some(i)
    }

    /// The length of the symbol word at `s[i..]` whose first character is `c`, if one stands
    /// there as a whole word; the caller has checked that `prev` is not a letter or digit.
    fn match_at(&self, s: &str, i: usize, c: char, prev: Option<char>) -> Option<usize> {
        let group = self.groups.get(usize::from(self.slot(c)?) - 1)?;
        let rest = s.get(i..)?;
        for sym in group {
            // Most candidates differ at their second byte (`c++` at `customer`): look there
            // before comparing the whole symbol.
            let (want, have) = (sym.as_bytes(), rest.as_bytes());
            if want.get(1).is_some_and(|b| have.get(1) != Some(b)) || !rest.starts_with(&**sym) {
                continue;
            }
            if !c.is_alphanumeric() && prev == Some(c) {
                continue;
            }
            let last = sym.chars().next_back().unwrap_or(c);
            match rest[sym.len()..].chars().next() {
                Some(n) if n.is_alphanumeric() || (!last.is_alphanumeric() && n == last) => continue,
                _ => return Some(sym.len()),
            }
        }
        None
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

/// A tag word that holds anything but letters is matched literally (a symbol word).
pub(crate) fn is_symbol_word(word: &str) -> bool {
    !word.is_empty() && !word.chars().all(char::is_alphabetic)
}

/// Appends `text` lowercased to `out`, with `&amp;` read as `&`.
///
/// Character by character (`char::to_lowercase`), ASCII runs in bulk: a description with one
/// curly quote would otherwise go through `str::to_lowercase`'s slow path whole. (So a final
/// `Σ` becomes `σ`, not `ς`: both are letters, and no tag depends on it.)
pub(crate) fn lower_into(text: &str, out: &mut String) {
    let start = out.len();
    out.reserve(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let ascii = rest.bytes().position(|b| !b.is_ascii()).unwrap_or(rest.len());
        let from = out.len();
        out.push_str(&rest[..ascii]);
        // ASCII bytes stay ASCII: still a str.
        out[from..].make_ascii_lowercase();
        rest = &rest[ascii..];
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_lowercase());
            rest = chars.as_str();
        }
    }
    if out[start..].contains("&amp;") {
        let decoded = out[start..].replace("&amp;", "&");
        out.truncate(start);
        out.push_str(&decoded);
    }
}

/// The character at byte `i` of `s` and its length, ASCII first.
#[inline]
fn char_at(s: &str, i: usize) -> Option<(char, usize)> {
    let b = *s.as_bytes().get(i)?;
    if b.is_ascii() {
        return Some((b as char, 1));
    }
    let c = s.get(i..)?.chars().next()?;
    Some((c, c.len_utf8()))
}

#[inline]
fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        c.is_alphabetic()
    }
}

#[inline]
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        c.is_alphanumeric()
    }
}

/// Cuts lowercased text into tokens (see the module doc), calling `emit` with each.
pub(crate) fn tokenize(s: &str, symbols: &Symbols, emit: &mut impl FnMut(&str)) {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut prev: Option<char> = None;
    let check_symbols = !symbols.is_empty();
    while let Some((c, w)) = char_at(s, i) {
        let boundary = prev.is_none_or(|p| !is_word_char(p));
        if boundary && check_symbols {
            if let Some(len) = symbols.match_at(s, i, c, prev) {
                let sym = &s[i..i + len];
                emit(sym);
                prev = sym.chars().next_back();
                i += len;
                continue;
            }
        }
        if is_letter(c) {
            let mut j = i + w;
            let mut last = c;
            // ASCII letters first: most of a description.
            while let Some(&b) = bytes.get(j) {
                if b.is_ascii_alphabetic() {
                    last = b as char;
                    j += 1;
                } else if b.is_ascii() {
                    break;
                } else {
                    match char_at(s, j) {
                        Some((d, dw)) if d.is_alphabetic() => {
                            last = d;
                            j += dw;
                        }
                        _ => break,
                    }
                }
            }
            if boundary && j == i + w && bytes.get(j) == Some(&b'&') {
                if let Some((d, dw)) = char_at(s, j + 1).filter(|(d, _)| is_letter(*d)) {
                    if char_at(s, j + 1 + dw).is_none_or(|(a, _)| !is_word_char(a)) {
                        let pair: String = [c, d].into_iter().collect();
                        emit(&pair);
                        prev = Some(d);
                        i = j + 1 + dw;
                        continue;
                    }
                }
            }
            emit(&s[i..j]);
            prev = Some(last);
            i = j;
            continue;
        }
        if c == '&' {
            emit("and");
        }
        prev = Some(c);
        i += w;
    }
}

/// A tag's words: lowercased, split on whitespace.
pub(crate) fn tag_words(tag: &str) -> impl Iterator<Item = String> + '_ {
    tag.split_whitespace().map(|w| {
        let mut out = String::new();
        lower_into(w, &mut out);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str, symbols: &[&str]) -> Vec<String> {
        let symbols = Symbols::new(symbols.iter().copied());
        let mut lower = String::new();
        lower_into(text, &mut lower);
        let mut out = Vec::new();
        tokenize(&lower, &symbols, &mut |t| out.push(t.to_string()));
        out
    }

    #[test]
    fn letters_only_without_symbols_as_the_original() {
        assert_eq!(
            tokens("Senior/Staff Nurse (ICU) - 12 Months, Up $6K", &[]),
            ["senior", "staff", "nurse", "icu", "months", "up", "k"]
        );
        assert_eq!(tokens("C++ / .NET node.js", &[]), ["c", "net", "node", "js"]);
    }

    #[test]
    fn symbol_words_are_whole_words_only() {
        let syms = ["c++", ".net", "node.js", "c#", "ci/cd", "*", "a.b"];
        assert_eq!(
            tokens("C++/C# and .NET, Node.js. CI/CD", &syms),
            ["c++", "c#", "and", ".net", "node.js", "ci/cd"]
        );
        assert_eq!(
            tokens("abc++ asp.net node.jsx c+++", &syms),
            ["abc", "asp", "net", "node", "jsx", "c"]
        );
        assert_eq!(tokens("** * a*b", &syms), ["*", "a", "b"]);
        assert_eq!(tokens("axb a.b a.bc", &syms), ["axb", "a.b", "a", "bc"]);
    }

    #[test]
    fn ampersands_as_the_original_meant_them() {
        assert_eq!(tokens("R&D, M&amp;E and O&G", &[]), ["rd", "me", "and", "og"]);
        assert_eq!(
            tokens("AI & Digital, AT&T", &[]),
            ["ai", "and", "digital", "at", "and", "t"]
        );
        assert_eq!(tokens("r&d2", &[]), ["r", "and", "d"]);
        assert_eq!(tokens("r&d", &["r&d"]), ["r&d"]);
    }

    #[test]
    fn unicode_letters_are_words_and_other_scripts_do_not_panic() {
        assert_eq!(tokens("Café Manager", &[]), ["café", "manager"]);
        assert_eq!(tokens("高级数据工程师 (Senior)", &[]), ["高级数据工程师", "senior"]);
        // Tamil's vowel signs are alphabetic, its virama (pulli) is not: it cuts the word. No tag
        // is Tamil, so such a title scores 0, like any title without a known bigram.
        assert_eq!(tokens("மென்பொருள்", &[]), ["மென", "பொருள"]);
    }
}
