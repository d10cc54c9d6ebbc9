//! MCF's JSON, read as a light tree of only the fields the parsers use, with path-tracking
//! access so every error names the exact field.
//!
//! MCF's JSON is read field by field instead of through derived structs: the two API shapes
//! differ in small ways (`status.id` is "102" in search items and 102 in details), most fields
//! are nullable, and a rejected document must say which field broke and what it held.
//!
//! Building a whole `serde_json::Value` for a document of which a few dozen fields are read
//! was most of the parse time, so the document is deserialised against a [`Schema`]: the
//! fields it names are kept ([`Lite`], strings borrowed from the input where they have no
//! escapes), everything else is consumed by [`Skip`]. `Skip` and `Lite` go through
//! `deserialize_any` exactly as `Value` does, so every number, string and key is parsed and
//! validated the same way and a document is refused by the same serde_json error, at the same
//! line and column, as when it was read into a `Value`; a field that is kept holds what `Value`
//! would hold (the last of duplicate keys, arrays' lengths and objects' kinds for messages).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

use crate::error::{ParseError, describe};

/// Which fields of a JSON value to keep.
#[derive(Debug)]
pub(crate) enum Schema {
    /// Kept as it is if a scalar; an array keeps only its length, an object only its kind.
    Leaf,
    /// An object of which only these keys are kept (each with its own schema).
    Object(&'static [(&'static str, Schema)]),
    /// An array whose items are kept, each read with this schema.
    ArrayOf(&'static Schema),
}

/// A JSON value with only the parts a [`Schema`] asked for. Arrays' items and objects' fields
/// live in their [`Tree`] (two vectors per document instead of one per object).
#[derive(Debug, Clone)]
pub(crate) enum Lite<'a> {
    Null,
    Bool(bool),
    Number(Number),
    Str(Cow<'a, str>),
    /// The array's length, and its items in the tree when the schema kept them.
    Array(usize, Span),
    /// The kept keys in the tree, each once (the last occurrence wins, as in `Value`).
    Object(Span),
}

/// A run of a [`Tree`]'s fields or items.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn of(start: usize, end: usize) -> Span {
        // A document's items and fields are bounded by its bytes, far below u32::MAX.
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(end - start).unwrap_or(0),
        }
    }

    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

/// A document read against a schema: its root and the fields and items it kept.
pub(crate) struct Tree<'a> {
    root: Lite<'a>,
    fields: Vec<(&'static str, Lite<'a>)>,
    items: Vec<Lite<'a>>,
}

/// Where a tree is built: the finished fields and items, and stacks of the ones still open.
struct Build<'a> {
    fields: Vec<(&'static str, Lite<'a>)>,
    items: Vec<Lite<'a>>,
    open_fields: Vec<(&'static str, Lite<'a>)>,
    open_items: Vec<Lite<'a>>,
}

impl<'a> Build<'a> {
    /// Sized for a job object (about 60 fields kept and 30 items), so that it rarely grows.
    fn new() -> Self {
        Build {
            fields: Vec::with_capacity(64),
            items: Vec::with_capacity(32),
            open_fields: Vec::with_capacity(32),
            open_items: Vec::with_capacity(32),
        }
    }

    /// Moves the fields opened since `mark` to the finished ones.
    fn close_object(&mut self, mark: usize) -> Lite<'a> {
        let start = self.fields.len();
        self.fields.extend(self.open_fields.drain(mark..));
        Lite::Object(Span::of(start, self.fields.len()))
    }

    fn close_array(&mut self, mark: usize) -> Lite<'a> {
        let start = self.items.len();
        self.items.extend(self.open_items.drain(mark..));
        Lite::Array(self.items.len() - start, Span::of(start, self.items.len()))
    }

    /// Adds a field to the object opened at `mark`, replacing an earlier one with its key.
    fn field(&mut self, mark: usize, key: &'static str, value: Lite<'a>) {
        // Keys come from one schema's table, where each is once: the same key is the same str.
        match self.open_fields[mark..].iter_mut().find(|(k, _)| std::ptr::eq(*k, key)) {
            Some(slot) => slot.1 = value,
            None => self.open_fields.push((key, value)),
        }
    }

    fn tree(self, root: Lite<'a>) -> Tree<'a> {
        Tree {
            root,
            fields: self.fields,
            items: self.items,
        }
    }

    fn value(&mut self, value: &'a Value, schema: &'static Schema) -> Lite<'a> {
        match value {
            Value::Null => Lite::Null,
            Value::Bool(b) => Lite::Bool(*b),
            Value::Number(n) => Lite::Number(n.clone()),
            Value::String(s) => Lite::Str(Cow::Borrowed(s)),
            Value::Array(items) => match schema {
                Schema::ArrayOf(item) => {
                    let mark = self.open_items.len();
                    for v in items {
                        let lite = self.value(v, item);
                        self.open_items.push(lite);
                    }
                    self.close_array(mark)
                }
                _ => Lite::Array(items.len(), Span::of(0, 0)),
            },
            Value::Object(map) => match schema {
                Schema::Object(fields) => {
                    let mark = self.open_fields.len();
                    for (key, schema) in fields.iter() {
                        if let Some(v) = map.get(*key) {
                            let lite = self.value(v, schema);
                            self.open_fields.push((key, lite));
                        }
                    }
                    self.close_object(mark)
                }
                _ => Lite::Object(Span::of(0, 0)),
            },
        }
    }
}

impl<'a> Tree<'a> {
    /// Reads `bytes` as one JSON document (trailing whitespace only), keeping what `schema` names.
    ///
    /// A document that is valid UTF-8 as a whole (all of MCF's) is read as a `str`, which spares
    /// serde_json a UTF-8 check per string; one that is not is read as bytes, so that its error
    /// is the one serde_json gives for bytes, at the same place.
    pub fn from_slice(bytes: &'a [u8], schema: &'static Schema) -> Result<Self, serde_json::Error> {
        fn read<'de, R: serde_json::de::Read<'de>>(
            read: R,
            schema: &'static Schema,
        ) -> Result<Tree<'de>, serde_json::Error> {
            let mut de = serde_json::Deserializer::new(read);
            let mut build = Build::new();
            let root = Seed {
                schema,
                build: &mut build,
            }
            .deserialize(&mut de)?;
            de.end()?;
            Ok(build.tree(root))
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => read(serde_json::de::StrRead::new(text), schema),
            Err(_) => read(serde_json::de::SliceRead::new(bytes), schema),
        }
    }

    /// The same tree from a `Value` already in memory, borrowing its strings.
    pub fn from_value(value: &'a Value, schema: &'static Schema) -> Self {
        let mut build = Build::new();
        let root = build.value(value, schema);
        build.tree(root)
    }

    pub fn root(&self) -> &Lite<'a> {
        &self.root
    }

    /// The fields of an object value (empty for other values).
    pub fn fields(&self, value: &Lite<'a>) -> &[(&'static str, Lite<'a>)] {
        match value {
            Lite::Object(span) => self.fields.get(span.range()).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The kept items of an array value (empty for other values).
    pub fn items(&self, value: &Lite<'a>) -> &[Lite<'a>] {
        match value {
            Lite::Array(_, span) => self.items.get(span.range()).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The value under `key` of an object (JSON null included); `None` for other values.
    pub fn get(&self, value: &Lite<'a>, key: &str) -> Option<&Lite<'a>> {
        self.fields(value).iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

/// Deserialises a [`Lite`] with a schema into a tree being built.
struct Seed<'b, 'de> {
    schema: &'static Schema,
    build: &'b mut Build<'de>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_, 'de> {
    type Value = Lite<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Lite<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, 'de> {
    type Value = Lite<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Lite<'de>, E> {
        Ok(Lite::Null)
    }

    fn visit_none<E>(self) -> Result<Lite<'de>, E> {
        Ok(Lite::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Lite<'de>, E> {
        Ok(Lite::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Lite<'de>, E> {
        Ok(Lite::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Lite<'de>, E> {
        Ok(Lite::Number(n.into()))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Lite<'de>, E> {
        // As `Value` does: a float JSON cannot hold becomes null.
        Ok(Number::from_f64(f).map_or(Lite::Null, Lite::Number))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Lite<'de>, E> {
        Ok(Lite::Str(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Lite<'de>, E> {
        Ok(Lite::Str(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Lite<'de>, E> {
        Ok(Lite::Str(Cow::Owned(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Lite<'de>, A::Error> {
        match self.schema {
            Schema::ArrayOf(item) => {
                let build = self.build;
                let mark = build.open_items.len();
                while let Some(value) = seq.next_element_seed(Seed {
                    schema: item,
                    build: &mut *build,
                })? {
                    build.open_items.push(value);
                }
                Ok(build.close_array(mark))
            }
            _ => {
                let mut len = 0;
                while seq.next_element::<Skip>()?.is_some() {
                    len += 1;
                }
                Ok(Lite::Array(len, Span::of(0, 0)))
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Lite<'de>, A::Error> {
        let Schema::Object(fields) = self.schema else {
            while map.next_key::<Skip>()?.is_some() {
                map.next_value::<Skip>()?;
            }
            return Ok(Lite::Object(Span::of(0, 0)));
        };
        let build = self.build;
        let mark = build.open_fields.len();
        while let Some(field) = map.next_key_seed(Key(fields))? {
            let Some((name, schema)) = field else {
                map.next_value::<Skip>()?;
                continue;
            };
            let value = map.next_value_seed(Seed {
                schema,
                build: &mut *build,
            })?;
            build.field(mark, name, value);
        }
        Ok(build.close_object(mark))
    }
}

/// Recognises an object's key among a schema's fields.
struct Key(&'static [(&'static str, Schema)]);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Option<&'static (&'static str, Schema)>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Option<&'static (&'static str, Schema)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        // Most keys of a document are not kept: length and first byte turn them away cheaply.
        let key = key.as_bytes();
        Ok(self.0.iter().find(|(name, _)| {
            let name = name.as_bytes();
            name.len() == key.len() && name.first() == key.first() && name == key
        }))
    }
}

/// Any JSON value, parsed and validated as `Value` would be, and dropped.
struct Skip;

impl<'de> de::Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_none<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_key::<Skip>()?.is_some() {
            map.next_value::<Skip>()?;
        }
        Ok(Skip)
    }
}

/// Where a value sits in its document, rendered (e.g. `results[3].status.id`) only for errors.
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    /// The document's root, or a prefix given by the caller.
    Root(&'a str),
    Key(&'a Path<'a>, &'static str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Path::Root(prefix) => out.push_str(prefix),
            Path::Key(parent, key) => {
                parent.write(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Path::Index(parent, index) => {
                parent.write(out);
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }
}

/// A JSON object and where it sits in its document.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a> {
    tree: &'a Tree<'a>,
    fields: &'a [(&'static str, Lite<'a>)],
    path: &'a Path<'a>,
    pub document: &'static str,
}

/// An object field: holds its path, because child paths are built as we descend.
pub(crate) struct Owned<'a> {
    tree: &'a Tree<'a>,
    fields: &'a [(&'static str, Lite<'a>)],
    path: Path<'a>,
    document: &'static str,
}

impl<'a> Owned<'a> {
    pub fn get(&self) -> Obj<'_> {
        Obj {
            tree: self.tree,
            fields: self.fields,
            path: &self.path,
            document: self.document,
        }
    }
}

/// The items of an array field and the array's path.
pub(crate) struct Items<'a> {
    pub path: Path<'a>,
    pub items: &'a [Lite<'a>],
}

impl<'a> Obj<'a> {
    /// The document's root (or an item at `path`), which must be an object.
    pub fn root(
        tree: &'a Tree<'a>,
        value: &'a Lite<'a>,
        document: &'static str,
        path: &'a Path<'a>,
    ) -> Result<Self, ParseError> {
        match value {
            Lite::Object(_) => Ok(Obj {
                tree,
                fields: tree.fields(value),
                path,
                document,
            }),
            other => Err(ParseError::WrongType {
                document,
                field: match path.render() {
                    p if p.is_empty() => "(document)".into(),
                    p => p,
                },
                expected: "a JSON object",
                found: describe(other),
            }),
        }
    }

    pub fn tree(&self) -> &'a Tree<'a> {
        self.tree
    }

    pub fn path(&self, key: &'static str) -> String {
        Path::Key(self.path, key).render()
    }

    /// The value under `key`, JSON null included.
    pub fn raw(&self, key: &str) -> Option<&'a Lite<'a>> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The value under `key`, treating JSON null as absent.
    fn value(&self, key: &str) -> Option<&'a Lite<'a>> {
        self.raw(key).filter(|v| !matches!(v, Lite::Null))
    }

    pub fn wrong(&self, key: &'static str, expected: &'static str, found: &Lite<'_>) -> ParseError {
        ParseError::WrongType {
            document: self.document,
            field: self.path(key),
            expected,
            found: describe(found),
        }
    }

    pub fn invalid(&self, key: &'static str, reason: impl Into<String>) -> ParseError {
        ParseError::Invalid {
            document: self.document,
            field: self.path(key),
            reason: reason.into(),
        }
    }

    pub fn missing(&self, key: &'static str) -> ParseError {
        ParseError::Missing {
            document: self.document,
            field: self.path(key),
            hint: None,
        }
    }

    pub fn opt_obj(&self, key: &'static str) -> Result<Option<Owned<'a>>, ParseError> {
        match self.value(key) {
            None => Ok(None),
            Some(value @ Lite::Object(_)) => Ok(Some(Owned {
                tree: self.tree,
                fields: self.tree.fields(value),
                path: Path::Key(self.path, key),
                document: self.document,
            })),
            Some(other) => Err(self.wrong(key, "an object", other)),
        }
    }

    /// A string field; empty or blank strings count as absent.
    pub fn opt_str(&self, key: &'static str) -> Result<Option<&'a str>, ParseError> {
        match self.value(key) {
            None => Ok(None),
            Some(Lite::Str(s)) => {
                let s = s.trim();
                Ok((!s.is_empty()).then_some(s))
            }
            Some(other) => Err(self.wrong(key, "a string", other)),
        }
    }

    pub fn req_str(&self, key: &'static str) -> Result<&'a str, ParseError> {
        self.opt_str(key)?.ok_or_else(|| self.missing(key))
    }

    pub fn opt_bool(&self, key: &'static str) -> Result<Option<bool>, ParseError> {
        match self.value(key) {
            None => Ok(None),
            Some(Lite::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong(key, "true or false", other)),
        }
    }

    /// A whole non-negative number that fits in u32, given as a JSON number or a numeric string
    /// (MCF sends some ids as strings in one endpoint and numbers in another).
    pub fn opt_u32(&self, key: &'static str) -> Result<Option<u32>, ParseError> {
        const EXPECTED: &str = "a whole number (or a string of digits) from 0 to 4294967295";
        let Some(value) = self.value(key) else { return Ok(None) };
        let number = match value {
            Lite::Number(n) => n
                .as_u64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64)),
            Lite::Str(s) if s.trim().is_empty() => return Ok(None),
            Lite::Str(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        number
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| self.wrong(key, EXPECTED, value))
    }

    /// The items of an array field with the array's path; absent or null is empty.
    pub fn array(&self, key: &'static str) -> Result<Items<'a>, ParseError> {
        let path = Path::Key(self.path, key);
        match self.value(key) {
            None => Ok(Items { path, items: &[] }),
            Some(value @ Lite::Array(..)) => Ok(Items {
                path,
                items: self.tree.items(value),
            }),
            Some(other) => Err(self.wrong(key, "an array", other)),
        }
    }

    /// The names in an array of objects such as `skills: [{"skill": "Python", ...}]`.
    pub fn names(&self, key: &'static str, name_key: &'static str) -> Result<Vec<String>, ParseError> {
        let list = self.array(key)?;
        let mut names: Vec<String> = Vec::with_capacity(list.items.len());
        for (index, item) in list.items.iter().enumerate() {
            let path = Path::Index(&list.path, index);
            let item = Obj::root(self.tree, item, self.document, &path)?;
            if let Some(name) = item.opt_str(name_key)? {
                let name = collapse_whitespace(name);
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        Ok(names)
    }
}

/// Collapses runs of whitespace (including no-break spaces) into single spaces, trimmed.
pub(crate) fn collapse_whitespace(s: &str) -> String {
    // Most names are already collapsed: plain ASCII, single spaces, nothing at either end.
    if is_collapsed(s.as_bytes()) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// ASCII with no whitespace but single spaces between words (what collapsing leaves as is).
fn is_collapsed(b: &[u8]) -> bool {
    // One word of printable ASCII (most skills and categories): nothing to look at further.
    if b.iter().all(|&c| c.wrapping_sub(0x21) < 0x5f) {
        return true;
    }
    let mut prev_space = true;
    for &c in b {
        match c {
            b' ' if prev_space => return false,
            b' ' => prev_space = true,
            b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' => return false,
            c if !c.is_ascii() => return false,
            _ => prev_space = false,
        }
    }
    !prev_space || b.is_empty()
}
