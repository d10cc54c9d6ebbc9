//! The cleaning rules over tokens: the word table, stop words with their keep-tag exceptions,
//! and junk and rank phrases removed as whole words. Validation and scoring share this one
//! implementation, so a tag is judged by the same rules that will meet it in a post.

use std::collections::HashMap;

use foldhash::fast::FixedState;

use crate::library::Library;
use crate::stopwords::STOP_WORDS;
use crate::text::{Symbols, lower_into, tag_words, tokenize};

/// The id of a word the library does not know: it matches nothing and breaks phrases.
pub(crate) const UNKNOWN: u32 = u32::MAX;

/// Every word the library knows (its tags' words and the stop words), as dense ids.
#[derive(Debug, Default)]
pub(crate) struct Vocab {
    ids: HashMap<Box<str>, u32, FixedState>,
    words: Vec<Box<str>>,
    stop: Vec<bool>,
}

impl Vocab {
    fn intern(&mut self, word: &str) -> u32 {
        if let Some(id) = self.ids.get(word) {
            return *id;
        }
        // A library has thousands of words at most; u32 ids leave UNKNOWN free.
        let id = u32::try_from(self.words.len()).unwrap_or(UNKNOWN - 1);
        self.ids.insert(word.into(), id);
        self.words.push(word.into());
        self.stop.push(false);
        id
    }

    #[inline]
    pub(crate) fn id(&self, word: &str) -> u32 {
        self.ids.get(word).copied().unwrap_or(UNKNOWN)
    }

    #[inline]
    pub(crate) fn is_stop(&self, id: u32) -> bool {
        self.stop.get(id as usize).copied().unwrap_or(false)
    }

    pub(crate) fn word(&self, id: u32) -> &str {
        self.words.get(id as usize).map_or("", |w| w)
    }

    pub(crate) fn len(&self) -> usize {
        self.words.len()
    }
}

/// Phrases of word ids with a value each; the first value inserted for a phrase stays.
#[derive(Debug)]
pub(crate) struct Trie<T> {
    /// Node of each first word, by word id (`NONE` when no phrase starts with it).
    roots: Vec<u32>,
    nodes: Vec<Node<T>>,
}

#[derive(Debug)]
struct Node<T> {
    children: Vec<(u32, u32)>,
    value: Option<T>,
}

const NONE: u32 = u32::MAX;

/// Anything that carries a word id (a bare id, a title token).
pub(crate) trait WordId: Copy {
    fn word_id(&self) -> u32;
}

impl WordId for u32 {
    #[inline]
    fn word_id(&self) -> u32 {
        *self
    }
}

impl<T: Copy> Trie<T> {
    pub(crate) fn new(vocab_len: usize) -> Self {
        Trie {
            roots: vec![NONE; vocab_len],
            nodes: Vec::new(),
        }
    }

    fn new_node(&mut self) -> u32 {
        self.nodes.push(Node {
            children: Vec::new(),
            value: None,
        });
        u32::try_from(self.nodes.len() - 1).unwrap_or(NONE)
    }

    /// Inserts `phrase` (not empty, known words) unless present; returns the value it has.
    pub(crate) fn insert(&mut self, phrase: &[u32], value: T) -> Option<T> {
        let (&first, rest) = phrase.split_first()?;
        let slot = self.roots.get(first as usize).copied()?;
        let mut node = if slot == NONE {
            let n = self.new_node();
            self.roots[first as usize] = n;
            n
        } else {
            slot
        };
        for &word in rest {
            let existing = self.nodes[node as usize]
                .children
                .iter()
                .find(|(w, _)| *w == word)
                .map(|(_, n)| *n);
            node = match existing {
                Some(n) => n,
                None => {
                    let n = self.new_node();
                    self.nodes[node as usize].children.push((word, n));
                    n
                }
            };
        }
        Some(*self.nodes[node as usize].value.get_or_insert(value))
    }

    #[inline]
    fn root(&self, word: u32) -> Option<&Node<T>> {
        let n = *self.roots.get(word as usize)?;
        self.nodes.get(n as usize)
    }

    #[inline]
    fn child(&self, node: &Node<T>, word: u32) -> Option<&Node<T>> {
        let n = node.children.iter().find(|(w, _)| *w == word)?.1;
        self.nodes.get(n as usize)
    }

    /// The value of exactly this phrase.
    pub(crate) fn get(&self, phrase: &[u32]) -> Option<T> {
        let (&first, rest) = phrase.split_first()?;
        let mut node = self.root(first)?;
        for &word in rest {
            node = self.child(node, word)?;
        }
        node.value
    }

    /// The value of the two-word phrase `a b` (title bigrams).
    #[inline]
    pub(crate) fn get2(&self, a: u32, b: u32) -> Option<T> {
        self.child(self.root(a)?, b)?.value
    }

    /// The longest phrase starting at `seq[0]`: its length and value.
    pub(crate) fn longest_at<W: WordId>(&self, seq: &[W]) -> Option<(usize, T)> {
        let mut node = self.root(seq.first()?.word_id())?;
        let mut best = node.value.map(|v| (1, v));
        for (i, w) in seq.iter().enumerate().skip(1) {
            match self.child(node, w.word_id()) {
                Some(next) => node = next,
                None => break,
            }
            if let Some(v) = node.value {
                best = Some((i + 1, v));
            }
        }
        best
    }

    /// Every phrase starting at `seq[0]`, shortest first.
    #[inline]
    pub(crate) fn each_at(&self, seq: &[u32], mut found: impl FnMut(T)) {
        let Some(first) = seq.first() else { return };
        let Some(mut node) = self.root(*first) else { return };
        if let Some(v) = node.value {
            found(v);
        }
        for &w in &seq[1..] {
            match self.child(node, w) {
                Some(next) => node = next,
                None => return,
            }
            if let Some(v) = node.value {
                found(v);
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// Removes every phrase of `trie` from `tokens`, left to right, longest first, and again until
/// none is left (removing `singapore` from `asia singapore pacific` makes `asia pacific`), so
/// that cleaning twice changes nothing. `removed` gets the value of each phrase taken out.
pub(crate) fn remove_phrases<W: WordId, T: Copy>(trie: &Trie<T>, tokens: &mut Vec<W>, mut removed: impl FnMut(T)) {
    if trie.is_empty() {
        return;
    }
    loop {
        let mut changed = false;
        let mut kept = 0;
        let mut i = 0;
        while i < tokens.len() {
            if let Some((len, v)) = trie.longest_at(&tokens[i..]) {
                removed(v);
                i += len;
                changed = true;
            } else {
                tokens[kept] = tokens[i];
                kept += 1;
                i += 1;
            }
        }
        tokens.truncate(kept);
        if !changed {
            return;
        }
    }
}

/// What every text goes through: symbol words, the word table, stop words, junk and rank
/// phrases. Built leniently from any library (rows that clean to nothing are left out), so that
/// validation can judge each row with the rules it will meet.
#[derive(Debug)]
pub(crate) struct Cleaner {
    pub(crate) symbols: Symbols,
    pub(crate) vocab: Vocab,
    /// Junk phrases; the value is the first junk row with that phrase.
    pub(crate) junk: Trie<u32>,
    /// Rank phrases; the value indexes `ranks`.
    pub(crate) rank: Trie<u32>,
    /// (phrase as text, weight, row) of each distinct rank phrase, first row first.
    pub(crate) ranks: Vec<(Box<str>, f64, usize)>,
}

impl Cleaner {
    pub(crate) fn new(library: &Library) -> Cleaner {
        let all_words: Vec<String> = all_tags(library).flat_map(tag_words).collect();
        let symbols = Symbols::new(all_words.iter().map(String::as_str));
        let mut cleaner = Cleaner {
            symbols,
            vocab: Vocab::default(),
            junk: Trie::new(0),
            rank: Trie::new(0),
            ranks: Vec::new(),
        };
        for word in STOP_WORDS {
            let id = cleaner.vocab.intern(word);
            cleaner.vocab.stop[id as usize] = true;
        }
        for tag in all_tags(library) {
            for token in cleaner.tokens(tag) {
                cleaner.vocab.intern(&token);
            }
        }
        // Keep tags are exceptions to the stop-word list (single words; validation says so).
        for keep in &library.keep_tags {
            if let [word] = cleaner.tokens(&keep.tag).as_slice() {
                let id = cleaner.vocab.id(word);
                if let Some(flag) = cleaner.vocab.stop.get_mut(id as usize) {
                    *flag = false;
                }
            }
        }
        let n = cleaner.vocab.len();
        cleaner.junk = Trie::new(n);
        cleaner.rank = Trie::new(n);
        for (row, junk) in library.junk_tags.iter().enumerate() {
            let phrase = cleaner.phrase(&junk.tag);
            if !phrase.is_empty() {
                let row = u32::try_from(row).unwrap_or(u32::MAX);
                cleaner.junk.insert(&phrase, row);
            }
        }
        for (row, rank) in library.rank_tags.iter().enumerate() {
            let phrase = cleaner.phrase(&rank.tag);
            if phrase.is_empty() || cleaner.rank.get(&phrase).is_some() {
                continue;
            }
            let index = u32::try_from(cleaner.ranks.len()).unwrap_or(u32::MAX);
            cleaner.rank.insert(&phrase, index);
            let text = cleaner.text(&phrase);
            cleaner.ranks.push((text.into(), rank.weight, row));
        }
        cleaner
    }

    /// The tokens of a tag or any text, before stop words go.
    pub(crate) fn tokens(&self, text: &str) -> Vec<String> {
        let mut lower = String::new();
        lower_into(text, &mut lower);
        let mut out = Vec::new();
        tokenize(&lower, &self.symbols, &mut |t| out.push(t.to_string()));
        out
    }

    /// A tag's word ids without its stop words: the phrase it matches in cleaned text.
    pub(crate) fn phrase(&self, tag: &str) -> Vec<u32> {
        self.tokens(tag)
            .iter()
            .map(|t| self.vocab.id(t))
            .filter(|id| !self.vocab.is_stop(*id))
            .collect()
    }

    pub(crate) fn text(&self, phrase: &[u32]) -> String {
        phrase
            .iter()
            .map(|id| self.vocab.word(*id))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Every tag of every table, for the symbol words and the word table.
fn all_tags(library: &Library) -> impl Iterator<Item = &str> {
    let tracks = library.tracks.iter().filter_map(|t| match &t.seniority {
        Some(crate::library::Seniority::Tag(tag)) => Some(tag.as_str()),
        _ => None,
    });
    library
        .title_tags
        .iter()
        .map(|t| t.tag.as_str())
        .chain(library.rank_tags.iter().map(|t| t.tag.as_str()))
        .chain(library.junk_tags.iter().map(|t| t.tag.as_str()))
        .chain(library.keep_tags.iter().map(|t| t.tag.as_str()))
        .chain(library.keyword_tags.iter().map(|t| t.tag.as_str()))
        .chain(tracks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_are_removed_longest_first_until_none_is_left() {
        let mut trie = Trie::new(10);
        trie.insert(&[1, 2], 'a');
        trie.insert(&[1], 'b');
        trie.insert(&[3], 'c');
        assert_eq!(trie.insert(&[1, 2], 'z'), Some('a'), "the first value stays");
        let mut tokens: Vec<u32> = vec![1, 2, 4, 1, 3, 2, 5];
        let mut removed = Vec::new();
        remove_phrases(&trie, &mut tokens, |v| removed.push(v));
        // Pass 1: [1 2] a, 4, [1] b, [3] c, 2, 5 -> 4 2 5. Pass 2: nothing.
        assert_eq!(tokens, [4, 2, 5]);
        assert_eq!(removed, ['a', 'b', 'c']);
        // Removal joins neighbours into a new phrase: removed on the next pass.
        let mut pairs = Trie::new(10);
        pairs.insert(&[1, 2], 'a');
        pairs.insert(&[3], 'c');
        let mut tokens: Vec<u32> = vec![1, 3, 2];
        let mut removed = Vec::new();
        remove_phrases(&pairs, &mut tokens, |v| removed.push(v));
        assert!(tokens.is_empty());
        assert_eq!(removed, ['c', 'a']);
        assert_eq!(trie.get2(1, 2), Some('a'));
        assert_eq!(trie.get(&[1, 2, 4]), None);
        assert_eq!(trie.get(&[UNKNOWN]), None);
    }
}
