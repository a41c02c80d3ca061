//! Collapsing records the source returned more than once, the same way for number
//! records (`run` and `audit`) and call records: copies with the same key and the
//! same content count once; copies with the same key and different content make
//! the whole group conflicting, because nothing says which copy is true.

use std::collections::HashMap;

/// One distinct record: the first copy returned, where it was, and whether another
/// copy with its key differed.
#[derive(Debug)]
pub struct Distinct<'a, T> {
    /// The first copy, in the order returned.
    pub first: &'a T,
    /// Its position among the records (0-based).
    pub index: usize,
    /// Whether a copy with the same key had different content.
    pub conflicting: bool,
}

/// The distinct records of `records`, in first-appearance order. Records for which
/// `key` is `None` (no usable id) are each their own record, never conflicting;
/// `fingerprint` tells copies with the same key apart.
pub fn distinct<'a, T>(
    records: &'a [T],
    key: impl Fn(&'a T) -> Option<&'a str>,
    fingerprint: impl Fn(&T) -> u64,
) -> Vec<Distinct<'a, T>> {
    let mut by_key: HashMap<&str, usize, foldhash::fast::RandomState> =
        HashMap::with_capacity_and_hasher(records.len(), Default::default());
    let mut out: Vec<Distinct<'a, T>> = Vec::with_capacity(records.len());
    for (index, record) in records.iter().enumerate() {
        if let Some(k) = key(record) {
            if let Some(&group) = by_key.get(k) {
                let first = &mut out[group];
                first.conflicting |= fingerprint(first.first) != fingerprint(record);
                continue;
            }
            by_key.insert(k, out.len());
        }
        out.push(Distinct {
            first: record,
            index,
            conflicting: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_copies_collapse_different_ones_conflict_and_keyless_records_stay() {
        let records = [
            ("a", 1),
            ("b", 2),
            ("", 9),
            ("a", 1),
            ("b", 3),
            ("", 9),
            ("b", 2),
        ];
        let got: Vec<(usize, bool)> =
            distinct(&records, |r| Some(r.0).filter(|k| !k.is_empty()), |r| r.1)
                .iter()
                .map(|d| (d.index, d.conflicting))
                .collect();
        assert_eq!(got, vec![(0, false), (1, true), (2, false), (5, false)]);
    }
}
