//! Maps a key path (`network.availability_zones[1]`) to the line it stands on in a YAML file,
//! so that config errors can name file, line and key even after two files were merged.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Line numbers (1-based) of every key and sequence item in one YAML document.
#[derive(Debug, Default, Clone)]
pub struct LineIndex {
    lines: HashMap<String, usize>,
}

impl LineIndex {
    pub fn build(text: &str) -> LineIndex {
        let mut indexer = Indexer::default();
        let mut parser = Parser::new_from_str(text);
        // A syntax error is reported by the real parser; the index is best effort.
        let _ = parser.load(&mut indexer, false);
        LineIndex { lines: indexer.lines }
    }

    /// The line of `path`, or of its nearest ancestor that is present.
    pub fn line_of(&self, path: &str) -> Option<usize> {
        let mut p = path.to_string();
        loop {
            if let Some(line) = self.lines.get(&p) {
                return Some(*line);
            }
            let cut = p.rfind(['.', '['])?;
            p.truncate(cut);
            if p.is_empty() {
                return None;
            }
        }
    }

    /// Whether this exact path is written in the file.
    pub fn contains(&self, path: &str) -> bool {
        self.lines.contains_key(path)
    }
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, next: usize },
}

#[derive(Default)]
struct Indexer {
    stack: Vec<Frame>,
    lines: HashMap<String, usize>,
}

impl Indexer {
    /// The path of the value that starts now, recorded at `line` unless its key was recorded.
    fn value_path(&mut self, line: usize) -> String {
        let path = match self.stack.last_mut() {
            None => String::new(),
            Some(Frame::Map { path, key }) => {
                let k = key.take().unwrap_or_default();
                join(path, &k)
            }
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                p
            }
        };
        self.lines.entry(path.clone()).or_insert(line);
        path
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

impl MarkedEventReceiver for Indexer {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line();
        match ev {
            Event::MappingStart(..) => {
                let path = self.value_path(line);
                self.stack.push(Frame::Map { path, key: None });
            }
            Event::SequenceStart(..) => {
                let path = self.value_path(line);
                self.stack.push(Frame::Seq { path, next: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            Event::Scalar(value, ..) => {
                if let Some(Frame::Map { path, key }) = self.stack.last_mut() {
                    if key.is_none() {
                        let p = join(path, &value);
                        self.lines.insert(p, line);
                        *key = Some(value);
                        return;
                    }
                }
                self.value_path(line);
            }
            Event::Alias(..) => {
                self.value_path(line);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_and_list_items() {
        let idx = LineIndex::build("a: 1\nb:\n  c: x\n  d:\n    - p\n    - q\ne: [1, 2]\n");
        assert_eq!(idx.line_of("a"), Some(1));
        assert_eq!(idx.line_of("b.c"), Some(3));
        assert_eq!(idx.line_of("b.d"), Some(4));
        assert_eq!(idx.line_of("b.d[1]"), Some(6));
        assert_eq!(idx.line_of("e[1]"), Some(7));
        // Falls back to the nearest written ancestor.
        assert_eq!(idx.line_of("b.c.zz"), Some(3));
        assert!(!idx.contains("b.zz"));
    }
}
