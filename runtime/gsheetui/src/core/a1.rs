//! A1 notation, as Google Sheets writes it: column letters (`A`…`Z`, `AA`…), a cell
//! (`title_tags!C14`), a range (`C13:C14`), tab names quoted when they need it
//! (`'my tab'!A1`, a quote inside doubled).

/// The letters of a 0-based column index: 0 → `A`, 25 → `Z`, 26 → `AA`, 701 → `ZZ`, 702 → `AAA`.
pub fn column(index: usize) -> String {
    // Bijective base 26: there is no zero digit, so each step takes one off before dividing.
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// The 0-based index of column letters (`AA` → 26); `None` for anything but letters.
pub fn column_index(letters: &str) -> Option<usize> {
    if letters.is_empty() || !letters.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    letters
        .bytes()
        .try_fold(0usize, |n, b| {
            n.checked_mul(26)?
                .checked_add(usize::from(b.to_ascii_uppercase() - b'A') + 1)
        })
        .map(|n| n - 1)
}

/// A tab name as a reference: bare when it is letters, digits and `_` only, else quoted.
pub fn tab_ref(tab: &str) -> String {
    if !tab.is_empty() && tab.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        tab.to_string()
    } else {
        format!("'{}'", tab.replace('\'', "''"))
    }
}

/// `tab!C14` for a 0-based column and a 1-based row.
pub fn cell(tab: &str, column_index: usize, row: usize) -> String {
    format!("{}!{}{row}", tab_ref(tab), column(column_index))
}

/// `C13:D14` for 0-based, end-exclusive grid bounds (the Sheets API's `GridRange`).
pub fn range(start_row: usize, end_row: usize, start_column: usize, end_column: usize) -> String {
    format!(
        "{}{}:{}{}",
        column(start_column),
        start_row + 1,
        column(end_column.saturating_sub(1).max(start_column)),
        end_row.max(start_row + 1)
    )
}

/// The top-left cell of an A1 range as the API returns it (`title_tags!A1:E62`,
/// `'my tab'!B3:C9`): 0-based column and 1-based row. `None` when it names a whole column or
/// row, or is not A1 notation.
pub fn range_start(range: &str) -> Option<(usize, usize)> {
    let after = match range.rfind('!') {
        Some(i) => &range[i + 1..],
        None => range,
    };
    let first = after.split(':').next()?;
    let split = first.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = first.split_at(split);
    let row: usize = digits.parse().ok().filter(|r| *r > 0)?;
    Some((column_index(letters)?, row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_both_ways() {
        for (i, letters) in [
            (0, "A"),
            (2, "C"),
            (25, "Z"),
            (26, "AA"),
            (27, "AB"),
            (51, "AZ"),
            (52, "BA"),
            (701, "ZZ"),
            (702, "AAA"),
            (16_383, "XFD"),
        ] {
            assert_eq!(column(i), letters, "{i}");
            assert_eq!(column_index(letters), Some(i), "{letters}");
        }
        assert_eq!(column_index("aa"), Some(26));
        assert_eq!(column_index(""), None);
        assert_eq!(column_index("A1"), None);
    }

    #[test]
    fn cells_ranges_and_quoted_tabs() {
        assert_eq!(cell("title_tags", 2, 14), "title_tags!C14");
        assert_eq!(cell("title_tags", 26, 14), "title_tags!AA14");
        assert_eq!(cell("my tab", 0, 1), "'my tab'!A1");
        assert_eq!(cell("it's", 0, 1), "'it''s'!A1");
        assert_eq!(range(12, 14, 2, 3), "C13:C14");
        assert_eq!(range(0, 1, 0, 2), "A1:B1");
    }

    #[test]
    fn where_a_returned_range_starts() {
        assert_eq!(range_start("title_tags!A1:E62"), Some((0, 1)));
        assert_eq!(range_start("'my tab'!B3:C9"), Some((1, 3)));
        assert_eq!(range_start("'a!b'!AA10"), Some((26, 10)));
        assert_eq!(range_start("title_tags!A:E"), None);
        assert_eq!(range_start("nonsense"), None);
    }
}
